using System.ComponentModel;
using SketchService.Api.Infrastructure;
using SketchService.Api.Requests;
using SketchService.Api.Responses;
using SketchService.Core.Latent;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Features.Arithmetic;

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
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(406).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503);
        return app;
    }

    private static async Task<Results<Ok<ArithmeticResponse>, ContentHttpResult, FileContentHttpResult>> Arithmetic(ArithmeticRequest request,
        [FromQuery, Description("json (default), svg or png")] string? format, RequestPolicy policy, RequestLog log, HttpContext http)
    {
        var deadline = policy.Deadline;
        var model = policy.Model(request.Model);
        var output = RequestPolicy.Format(format, http.Request);
        var given = request.Operands ?? [];
        policy.OperandCount(given.Count);
        var expression = policy.Expression(request.Expression, given);
        RequestPolicy.RequireEncoder(model, "do latent arithmetic");
        var names = expression.Operands;
        var operands = policy.ExpressionOperands(expression, given, model);
        var drawn = names.Select((n, i) => (Name: n, operands[i].Sketch)).Where(o => o.Sketch is not null).ToList();
        RequestPolicy.Picture(output, drawn.Count + 1);
        var temperature = policy.Temperature(request.Temperature);
        var steps = policy.Steps(request.MaxSteps);
        var seed = RequestPolicy.Seed(request.Seed);
        policy.Cost(model, WorkCost.Encode(drawn.Select(o => o.Sketch!.Length)) + WorkCost.Draw(1, 0, steps), 1, 0, "operands", samplesField: null);

        var values = await Operands.EncodeAsync(operands, model, deadline, http.RequestAborted, Callers.Of(http));
        var env = names.Select((n, i) => (n, values[i])).ToDictionary(p => p.n, p => p.Item2);
        var z = RequestPolicy.Evaluate(expression, env, model);

        var result = await model.Scheduler.Draw(new DecodeOptions { Temperature = (float)temperature, Seed = seed, MaxSteps = steps, Z = [z] },
            deadline, cancellationToken: http.RequestAborted, caller: Callers.Of(http)).Result;
        log.Record(result);
        var sketch = SketchResults.From(result, SketchSpace.Training(model.Model.Manifest).ToOutput)[0];
        var response = new ArithmeticResponse(model.Id, expression.Text, z, env, result.Seed, temperature, sketch, DecodeStats.From(result));
        // A picture shows the operands given as sketches, then the result: the arithmetic at a glance.
        return SketchResults.Respond(response, output, () => [.. drawn.Select(o => o.Sketch!), sketch.ToStroke3()], http.RequestAborted,
            () => [.. drawn.Select(o => Caption(o.Name)), Caption(expression.Text)]);
    }

    /// <summary>A caption that fits under its drawing: a long name or expression is cut.</summary>
    private static string Caption(string s) => s.Length <= 32 ? s : s[..31] + "…";
}

public sealed record ArithmeticRequest
{
    [Description("Model id; default: the service's default model.")]
    public string? Model { get; init; }
    [Description("An expression over operand names: + - * / with numbers, parentheses; e.g. cat_head + (pig_body - pig_head) or 0.5 * (a + b).")]
    public string? Expression { get; init; }
    [Description("Each operand name → a z or a sketch (encoded to its posterior mean); at most SketchService:MaxOperands.")]
    public Dictionary<string, LatentOperand?>? Operands { get; init; }
    [Description("Sampling temperature τ ≥ 0 for decoding the result; 0 is greedy.")]
    public double? Temperature { get; init; }
    public int? Seed { get; init; }
    public int? MaxSteps { get; init; }
}

public sealed record ArithmeticResponse(string Model, string Expression, float[] Z,
    [property: Description("The z each operand resolved to.")] IReadOnlyDictionary<string, float[]> Operands,
    int Seed, double Temperature, SketchResult Sketch, DecodeStats Stats);
