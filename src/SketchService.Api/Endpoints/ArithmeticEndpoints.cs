using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;
using SketchService.Api.Sketches;
using SketchService.Core.Latent;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Endpoints;

public sealed record ArithmeticRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("An expression over operand names: + - * / with numbers, parentheses; e.g. cat_head + (pig_body - pig_head) or 0.5 * (a + b).")]
    public string? Expression { get; init; }
    [Description("Each operand name → a z or a sketch (encoded to its posterior mean).")]
    public Dictionary<string, LatentOperand?>? Operands { get; init; }
    [Description("Sampling temperature τ ≥ 0 for decoding the result; 0 is greedy.")]
    public double? Temperature { get; init; }
    public int? Seed { get; init; }
    public int? MaxSteps { get; init; }
}

public sealed record ArithmeticResponse(string Model, string Expression, float[] Z,
    [property: Description("The z each operand resolved to.")] IReadOnlyDictionary<string, float[]> Operands,
    int Seed, double Temperature, SketchResult Sketch, DecodeStats Stats);

public static class ArithmeticEndpoints
{
    public static IEndpointRouteBuilder MapArithmeticEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/arithmetic", Arithmetic)
            .WithName("Arithmetic").WithTags("Latent")
            .WithSummary("Evaluate a latent expression over named sketches / z's and decode the result (VAE models).")
            .WithDescription("Parse errors are 400 ProblemDetails with the 0-based `position` and what was expected. With ?format=svg|png the picture shows each operand given as a sketch, captioned with its name, then the result, captioned with the expression.")
            .WithExample("""{"expression":"a + (b - c)","operands":{"a":{"strokes":[[0,0,0],[40,0,0],[0,40,0],[-40,0,0],[0,-40,1]]},"b":{"strokes":[[0,0,0],[30,40,0],[30,-40,1]]},"c":{"z":"$z"}},"temperature":0.1,"seed":5,"max_steps":120}""")
            .Produces<ArithmeticResponse>(200, "application/json", "image/svg+xml", "image/png")
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(422);
        return app;
    }

    private static async Task<IResult> Arithmetic(ArithmeticRequest request, [FromQuery, Description("json (default), svg or png")] string? format,
        [AsParameters] SketchServices services, CancellationToken ct)
    {
        using var deadline = services.Limits.Deadline(ct);
        ct = deadline.Token;
        var (limits, log) = (services.Limits, services.Log);
        var model = services.Models.Get(request.Model);
        log.ModelId = model.Id;
        SketchResults.Parse(format);
        var text = request.Expression;
        if (string.IsNullOrWhiteSpace(text)) throw ApiProblem.Invalid("expression", "is required");
        if (text.Length > limits.Options.MaxExpressionLength)
            throw ApiProblem.Invalid("expression", $"has {text.Length} characters; the limit is {limits.Options.MaxExpressionLength}");
        LatentExpression expression;
        try { expression = LatentExpression.Parse(text); }
        catch (LatentExpressionException e) { throw ExpressionProblem(e, text); }

        var given = request.Operands ?? [];
        var missing = expression.Operands.Where(n => !given.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw ApiProblem.Invalid("operands", $"no value for {Names(missing)} used in the expression");
        var unused = given.Keys.Where(k => !expression.Operands.Contains(k)).ToList();
        if (unused.Count > 0) throw ApiProblem.Invalid("operands", $"{Names(unused)} not used in the expression");
        model.RequireEncoder("do latent arithmetic");
        var names = expression.Operands;
        var steps = limits.Steps(request.MaxSteps);
        limits.Cost(model.Id, 1, 0, steps);
        var values = await LatentOperand.Resolve([.. names.Select(n => ($"operands.{n}", given[n]))], model, limits.Options, ct);
        var env = names.Select((n, i) => (n, values[i].Z)).ToDictionary(p => p.n, p => p.Z);
        float[] z;
        try { z = expression.Evaluate(env); }
        catch (LatentExpressionException e) { throw ExpressionProblem(e, text); }
        if (z.Length != model.Manifest.LatentSize || z.Any(v => !float.IsFinite(v)))
            throw ApiProblem.Invalid("expression", $"must evaluate to a finite vector of {model.Manifest.LatentSize} numbers");

        var result = await model.DecodeAsync(new DecodeOptions { Temperature = (float)limits.Temperature(request.Temperature), Seed = Limits.Seed(request.Seed), MaxSteps = steps, Z = [z] }, ct);
        log.Record(result);
        var sketch = SketchResults.From(result, SketchSpace.Training(model.Manifest))[0];
        var response = new ArithmeticResponse(model.Id, text, z, env, result.Seed, limits.Temperature(request.Temperature), sketch, DecodeStats.From(result));
        // A picture shows the operands given as sketches, then the result: the arithmetic at a glance.
        var drawn = names.Select((n, i) => (Name: n, values[i].Sketch)).Where(o => o.Sketch is not null).ToList();
        return SketchResults.Respond(response, format, () => [.. drawn.Select(o => o.Sketch!), sketch.ToStroke3()], ct,
            () => [.. drawn.Select(o => Caption(o.Name)), Caption(text)]);
    }

    /// <summary>A caption that fits under its drawing: a long name or expression is cut.</summary>
    private static string Caption(string s) => s.Length <= 32 ? s : s[..31] + "…";

    /// <summary>The first few names, quoted and shortened, and how many more: an error does not echo 70 000 names.</summary>
    private static string Names(List<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{ProblemSetup.Echo(n)}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    private static ApiProblem ExpressionProblem(LatentExpressionException e, string text) =>
        new(StatusCodes.Status400BadRequest, "Invalid expression", e.Message,
            new Dictionary<string, string[]> { ["expression"] = [e.Message] },
            new Dictionary<string, object?> { ["position"] = e.Position, ["expression"] = ProblemSetup.Echo(text) });
}
