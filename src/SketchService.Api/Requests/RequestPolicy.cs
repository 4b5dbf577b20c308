using Microsoft.Extensions.Options;
using SketchService.Api.Infrastructure;
using SketchService.Api.Responses;
using SketchService.Core.Latent;
using SketchService.Core.Strokes;
using SketchService.Runtime;
using SketchService.Runtime.Decoding;
using SketchService.Runtime.Models;
using SketchService.Runtime.Scheduling;

namespace SketchService.Api.Requests;

/// <summary>
/// The rulebook: every request field is checked and defaulted here and nowhere else, against the one settings class,
/// naming the field and the limit in a 400 (<see cref="ApiProblem"/>). Each endpoint's request becomes an immutable
/// plan whose whole cost the model's scheduler has accepted before any work starts, with the request's one deadline.
/// </summary>
public sealed class RequestPolicy(ModelStore store, IOptions<SketchServiceOptions> settings, RequestLog log)
{
    private SketchServiceOptions Settings => settings.Value;

    /// <summary>The named model, or the default one; 404 for an unknown id, 503 while models are still loading.</summary>
    public ServedModel Model(string? id)
    {
        if (!store.IsReady) throw ApiProblem.Loading();
        var named = !string.IsNullOrEmpty(id);
        id = named
            ? id!
            : store.DefaultId ?? throw new ApiProblem(StatusCodes.Status503ServiceUnavailable, "No models", $"No model could be loaded from {store.ModelsPath}.");
        if (!store.Models.TryGetValue(id, out var model))
        {
            var why = store.Failures.TryGetValue(id, out var reason) ? $" (its folder failed to load: {reason})" : "";
            // The caller who named no model did nothing wrong: the service's default is missing.
            if (!named) throw new ApiProblem(StatusCodes.Status503ServiceUnavailable, "Default model not loaded", $"the default model '{id}' is not loaded{why}; name a model (GET /models lists them)");
            throw ApiProblem.NotFound($"no model '{ProblemSetup.Echo(id)}'{why}; GET /models lists the models served");
        }
        log.ModelId = model.Id;
        return model;
    }

    /// <summary>422 when a decoder-only model is asked to do what only a VAE can.</summary>
    public static void RequireEncoder(ServedModel model, string action)
    {
        if (!model.IsVae)
            throw ApiProblem.Unprocessable($"model '{model.Id}' is decoder-only (no encoder, no latent z): it cannot {action}. Use a VAE model, or /generate and /complete with condition none.");
    }

    /// <summary>When the request's model work must be over: fixed once, when the request's policy is made as it arrives, wherever the endpoint reads it.</summary>
    public Deadline Deadline { get; } = Runtime.Deadline.After(settings.Value.RequestDeadline);

    /// <summary>Samples (rows) when the request names none.</summary>
    public const int DefaultSamples = 1;

    public int Samples(int? value) => Rows("samples", value ?? DefaultSamples, 1);

    /// <summary>The rows a request asks for (samples, or /interpolate's frames), within what one request may take.</summary>
    private int Rows(string field, int value, int least)
    {
        var max = Settings.MaxRowsPerRequest;
        if (value < least || value > max) throw ApiProblem.Invalid(field, $"must be between {least} and {max}{RowsLimit}; got {value}");
        return value;
    }

    /// <summary>Which setting bounds a request's rows, when it is not MaxSamples.</summary>
    private string RowsLimit => Settings.MaxRowsPerRequest == Settings.MaxSamples ? ""
        : Settings.MaxRowsPerRequest == Settings.RowsPerCaller && Settings.RowsPerCaller < Settings.MaxLiveRows ? " (the rows one caller may hold: CallerShare of MaxLiveRows)"
        : " (MaxLiveRows)";

    public int Steps(int? value)
    {
        var v = value ?? Settings.DefaultSteps;
        if (v < 1 || v > Settings.MaxSteps) throw ApiProblem.Invalid("max_steps", $"must be between 1 and {Settings.MaxSteps}; got {v}");
        return v;
    }

    /// <summary>τ as sent (echoed as sent); the decoder gets it as a float.</summary>
    public double Temperature(double? value)
    {
        var v = value ?? Settings.DefaultTemperature;
        if (!double.IsFinite(v) || v < 0 || v > Settings.MaxTemperature)
            throw ApiProblem.Invalid("temperature", $"must be a number between 0 and {Settings.MaxTemperature}; got {v}");
        return v;
    }

    /// <summary>The seed as given, or a fresh random one (returned in the response so the result can be reproduced).</summary>
    public static int Seed(int? value) => value ?? Random.Shared.Next();

    /// <summary>Largest |z| component accepted: latent codes are about N(0, 1); far beyond, the decoder's output breaks down.</summary>
    public const float MaxLatent = 1000;

    public static float[] Latent(float[]? z, ServedModel model, string field)
    {
        var size = model.Model.Manifest.LatentSize;
        if (z is null) throw ApiProblem.Invalid(field, $"a latent vector of {size} numbers is required");
        if (z.Length != size) throw ApiProblem.Invalid(field, $"must have {size} numbers (the model's latent size); got {z.Length}");
        for (var i = 0; i < z.Length; i++)
            if (!(Math.Abs(z[i]) <= MaxLatent)) throw ApiProblem.Invalid($"{field}[{i}]", $"must be a finite number within ±{MaxLatent}");
        return z;
    }

    /// <summary>
    /// Which prior z is sampled from: "data" (the mixture of the training drawings' posteriors, the default when the
    /// model folder has one) or "standard" (N(0, I), the default otherwise); "none", and only "none", for a decoder-only
    /// model, which has no z. A value the model cannot take is a 422, as /complete's condition is. Returns the name and
    /// the data prior or null.
    /// </summary>
    public static (string Name, Core.Latent.LatentPrior? Data) Prior(string? value, ServedModel model)
    {
        var name = (value ?? (!model.IsVae ? "none" : model.Model.Prior is null ? "standard" : "data")).ToLowerInvariant();
        if (name is not ("data" or "standard" or "none"))
            throw ApiProblem.Invalid("prior", $"must be data, standard or none; got '{ProblemSetup.Echo(value!)}'");
        if (!model.IsVae)
            return name == "none" ? ("none", null)
                : throw ApiProblem.Unprocessable($"model '{model.Id}' is decoder-only: it has no z to sample from a prior; use prior none or leave it out");
        return name switch
        {
            "standard" => ("standard", null),
            "data" when model.Model.Prior is { } data => ("data", data),
            "data" => throw NoDataPrior(model, "use prior standard"),
            _ => throw ApiProblem.Unprocessable($"model '{model.Id}' is a VAE: its decoder always draws from a z; use prior data or standard"),
        };
    }

    private static ApiProblem NoDataPrior(ServedModel model, string instead) =>
        ApiProblem.Unprocessable($"model '{model.Id}' has no data prior (its folder has no {Core.Model.ModelFolder.PriorFile}); {instead}");

    /// <summary>
    /// What /complete's decoder is conditioned on: "z" (the z given), "encoding" (the sketch's own encoding, as a
    /// partial drawing), "prior" (of draws from the model's data prior, the z under which the decoder finds the sketch
    /// most likely: <see cref="LatentSelection"/>) or "none" (a decoder-only model). The default, "auto", is z when one is
    /// given, else for a VAE prior where its folder has a data prior and the request's cost allows it (its completions
    /// end more often and add more strokes: docs/experiments/sheep.md) and the encoding otherwise, and none for a
    /// decoder-only model. <paramref name="costOf"/> gives the request's cost under a condition. Returns the condition
    /// and the z (only for "z").
    /// </summary>
    public static (string Condition, float[]? Z) Condition(string? value, float[]? z, ServedModel model, Func<string, WorkCost> costOf)
    {
        var condition = (value ?? "auto").ToLowerInvariant() switch
        {
            // prior where it fits the request's cost limit: its candidate rows over a long sketch may not
            "auto" => z is not null ? "z" : !model.IsVae ? "none"
                : model.Model.Prior is not null && model.Scheduler.Affords(costOf("prior")) ? "prior" : "encoding",
            var c when c is "z" or "encoding" or "prior" or "none" => c,
            var c => throw ApiProblem.Invalid("condition", $"must be auto, z, encoding, prior or none; got '{ProblemSetup.Echo(c)}'"),
        };
        switch (condition)
        {
            case "z":
                RequireEncoder(model, "condition on z");
                return (condition, Latent(z, model, "z"));
            case "encoding":
                RequireEncoder(model, "condition on the encoding of the sketch");
                break;
            case "prior":
                RequireEncoder(model, "condition on a z from its prior");
                if (model.Model.Prior is null)
                    throw NoDataPrior(model, "use condition encoding");
                break;
            default:
                if (model.IsVae) throw ApiProblem.Unprocessable($"model '{model.Id}' is a VAE: its decoder is always conditioned on a z; use condition z, encoding or prior");
                break;
        }
        return z is null ? (condition, null) : throw ApiProblem.Invalid("z", "is only used with condition z");
    }

    /// <summary>/interpolate's path between the two ends: "slerp" (the default, a great circle as Magenta's) or "lerp".</summary>
    public static (string Name, InterpolationMode Mode) Method(string? value) => (value ?? "slerp").ToLowerInvariant() switch
    {
        "slerp" => ("slerp", InterpolationMode.Spherical),
        "lerp" => ("lerp", InterpolationMode.Linear),
        var m => throw ApiProblem.Invalid("method", $"must be slerp or lerp; got '{ProblemSetup.Echo(m)}'"),
    };

    /// <summary>A sketch in model space and the map back to the caller's coordinates; <paramref name="partial"/>: only the start of a drawing (/complete's).</summary>
    public (StrokePoint[] Points, SketchSpace Space) Sketch(SketchInput? input, ServedModel model, string field, bool partial) =>
        SketchSpace.Read(input, model.Model.Manifest, Settings.MaxPoints, Settings.MaxCoordinate, field, partial);

    /// <summary>
    /// How the answer is sent: <c>?format=</c> wins; else the Accept header picks among the types the endpoint can send
    /// (an event stream only where it streams, which is then its default; a picture only where it draws); else its
    /// default. A picture is at most <see cref="SketchResults.MaxPictureSketches"/> drawings.
    /// </summary>
    public static OutputFormat Format(string? format, HttpRequest request, bool streams = false, bool draws = true)
    {
        if (format is not null)
            return format.ToLowerInvariant() switch
            {
                "" or "json" => OutputFormat.Json,
                _ when !draws => throw ApiProblem.Invalid("format", $"{request.Path} answers JSON only; got '{ProblemSetup.Echo(format)}'"),
                "svg" => OutputFormat.Svg,
                "png" => OutputFormat.Png,
                _ => throw ApiProblem.Invalid("format", $"must be json, svg or png; got '{ProblemSetup.Echo(format)}'"),
            };
        var offered = new List<OutputFormat>();
        if (streams) offered.Add(OutputFormat.EventStream);
        offered.Add(OutputFormat.Json);
        if (draws) offered.AddRange([OutputFormat.Svg, OutputFormat.Png]);
        var accept = request.GetTypedHeaders().Accept;
        if (accept.Count == 0) return offered[0];
        // The type the Accept header rates highest, by its most specific matching range (so q=0 rules a type out, and
        // application/* or image/* match); ties go to the endpoint's default, then JSON, SVG, PNG.
        OutputFormat? best = null;
        double bestQuality = 0;
        foreach (var offer in offered)
        {
            var (type, subtype) = offer.MediaType().Split('/') is [var t, var st] ? (t, st) : throw new InvalidOperationException();
            // Type and subtype only: a range's parameters (charset) do not rule a type out.
            bool Matches(Microsoft.Net.Http.Headers.MediaTypeHeaderValue r) => r.MatchesAllTypes
                || (r.Type.Equals(type, StringComparison.OrdinalIgnoreCase) && (r.MatchesAllSubTypes || r.SubType.Equals(subtype, StringComparison.OrdinalIgnoreCase)));
            var range = accept.Where(Matches).OrderByDescending(r => r.MatchesAllTypes ? 0 : r.MatchesAllSubTypes ? 1 : 2).FirstOrDefault();
            var quality = range is null ? 0 : range.Quality ?? 1;
            if (quality > bestQuality) (best, bestQuality) = (offer, quality);
        }
        return best ?? throw new ApiProblem(StatusCodes.Status406NotAcceptable, "Not acceptable",
            $"this endpoint answers {string.Join(", ", offered.Select(OutputFormats.MediaType))}{(offered.Count == 1 ? " only" : "")}; the Accept header asked for '{ProblemSetup.Echo(request.Headers.Accept.ToString())}'");
    }

    /// <summary>A picture draws at most <see cref="SketchResults.MaxPictureSketches"/> sketches (1280 × 1024 px).</summary>
    public static void Picture(OutputFormat format, int sketches)
    {
        if (format is OutputFormat.Svg or OutputFormat.Png && sketches > SketchResults.MaxPictureSketches)
            throw ApiProblem.Invalid("format", $"a picture shows at most {SketchResults.MaxPictureSketches} sketches ({SketchResults.GridSize}); this request would draw {sketches}: ask for json");
    }

    /// <summary>
    /// The whole request's work, checked by its model's scheduler before any of it starts: a 400 naming the limit and
    /// the field to change. <paramref name="samples"/> rows are drawn (0: nothing is drawn, as /encode), asked for in
    /// <paramref name="samplesField"/> (null where the endpoint draws a fixed number), each primed with
    /// <paramref name="prefixPoints"/>, and the prefix is scored under <paramref name="candidates"/> z's (/complete's
    /// condition prior); <paramref name="input"/> is the field whose sketches are encoded or scored.
    /// </summary>
    public void Cost(ServedModel model, WorkCost cost, int samples, int prefixPoints, string input, int candidates = 0, string? samplesField = "samples")
    {
        try
        {
            model.Scheduler.CheckCost(cost);
        }
        catch (CostLimitException e)
        {
            // What the request costs before its first drawn point, and what is left of the limit for max_steps to share out.
            var before = cost.EncoderSteps + (long)(samples + candidates) * prefixPoints;
            var maxSteps = samples > 0 ? (e.Limit - before) / samples : 0;
            var spent = string.Join(", ", new[]
            {
                samplesField is not null && samples > 0 ? $"{samplesField} {samples}" + (prefixPoints > 0 ? $" of {prefixPoints} prefix points each" : "") : null,
                cost.EncoderSteps > 0 ? $"{cost.EncoderSteps} points to encode" : null,
                candidates > 0 ? $"the prefix scored under {candidates} candidate z's" : null,
            }.OfType<string>());
            // How many rows would each have one step, were the sketches left as they are.
            var rowsThatFit = (e.Limit - cost.EncoderSteps - (long)candidates * prefixPoints) / (prefixPoints + 1);
            var encoding = candidates > 0 ? ", or use condition encoding" : "";
            var (field, hint) =
                maxSteps >= 1 ? ("max_steps", (spent.Length > 0 ? $"with {spent}, " : "") + $"max_steps can be at most {maxSteps}")
                : samples == 0 ? (input, $"{spent} are over the limit of {e.Limit}: send a shorter sketch")
                : samplesField is not null && rowsThatFit >= 1
                    ? (samplesField, $"{spent} leave no steps to draw under the limit of {e.Limit}: {samplesField} can be at most {rowsThatFit}{encoding}")
                : (input, $"{spent} leave no steps to draw under the limit of {e.Limit}: send shorter sketches{encoding}");
            throw new ApiProblem(StatusCodes.Status400BadRequest, "Request too costly", $"{e.Message} (SketchService:MaxRequestCost)",
                new Dictionary<string, string[]> { [field] = [hint] },
                new Dictionary<string, object?> { ["cost"] = cost.Total, ["limit"] = e.Limit });
        }
    }

    /// <summary>
    /// /arithmetic's expression: required, at most <see cref="SketchServiceOptions.MaxExpressionLength"/> characters,
    /// parsed (a 400 with the position of what does not parse), and bound to the operands given: a name with no value,
    /// or a value the expression does not use, is a 400.
    /// </summary>
    public LatentExpression Expression(string? text, IReadOnlyDictionary<string, LatentOperand?> given)
    {
        if (string.IsNullOrWhiteSpace(text)) throw ApiProblem.Invalid("expression", "is required");
        if (text.Length > Settings.MaxExpressionLength)
            throw ApiProblem.Invalid("expression", $"has {text.Length} characters; the limit is {Settings.MaxExpressionLength}");
        LatentExpression expression;
        try { expression = LatentExpression.Parse(text); }
        catch (LatentExpressionException e) { throw ExpressionProblem(e, text); }
        var missing = expression.Operands.Where(n => !given.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw ApiProblem.Invalid("operands", $"no value for {Names(missing)} used in the expression");
        var unused = given.Keys.Where(k => !expression.Operands.Contains(k)).ToList();
        if (unused.Count > 0) throw ApiProblem.Invalid("operands", $"{Names(unused)} not used in the expression");
        return expression;
    }

    /// <summary>What /arithmetic's expression evaluates to: a z the decoder takes, like any z a request gives.</summary>
    public static float[] Evaluate(LatentExpression expression, IReadOnlyDictionary<string, float[]> operands, ServedModel model)
    {
        float[] z;
        try { z = expression.Evaluate(operands); }
        catch (LatentExpressionException e) { throw ExpressionProblem(e, expression.Text); }
        return Latent(z, model, "expression");
    }

    private static ApiProblem ExpressionProblem(LatentExpressionException e, string text) =>
        new(StatusCodes.Status400BadRequest, "Invalid expression", e.Message,
            new Dictionary<string, string[]> { ["expression"] = [e.Message] },
            e.Position is { } at ? new Dictionary<string, object?> { ["position"] = at, ["expression"] = ProblemSetup.Echo(text) }
                : new Dictionary<string, object?> { ["expression"] = ProblemSetup.Echo(text) });

    /// <summary>/arithmetic's operands, one for each name the expression uses, in its order (fields <c>operands.&lt;name&gt;</c>).</summary>
    public IReadOnlyList<Operand> ExpressionOperands(LatentExpression expression, IReadOnlyDictionary<string, LatentOperand?> given, ServedModel model) =>
        Operands([.. expression.Operands.Select(n => ($"operands.{n}", given[n]))], model);

    /// <summary>The first few names, quoted and shortened, and how many more: an error does not echo 70 000 names.</summary>
    private static string Names(List<string> names) =>
        string.Join(", ", names.Take(5).Select(n => $"'{ProblemSetup.Echo(n)}'")) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");

    /// <summary>At most <see cref="SketchServiceOptions.MaxOperands"/> named operands.</summary>
    public void OperandCount(int count)
    {
        if (count > Settings.MaxOperands)
            throw ApiProblem.Invalid("operands", $"has {count} operands; the limit is {Settings.MaxOperands}");
    }

    /// <summary>/interpolate's frames when the request names none.</summary>
    public const int DefaultFrames = 5;

    /// <summary>/interpolate's frame count, both ends included.</summary>
    // The rows a request may take follow from several settings; the default stays within them.
    public int Frames(int? value) => Rows("n", value ?? Math.Min(DefaultFrames, Settings.MaxRowsPerRequest), 2);

    /// <summary>
    /// Operands given as a z or a sketch: each checked (a z against the model's latent size, a sketch read into model
    /// space) and the points to encode counted, before anything is encoded.
    /// </summary>
    public IReadOnlyList<Operand> Operands(IReadOnlyList<(string Field, LatentOperand? Operand)> operands, ServedModel model)
    {
        var result = new Operand[operands.Count];
        for (var i = 0; i < operands.Count; i++)
        {
            var (field, op) = operands[i];
            if (op is null) throw ApiProblem.Invalid(field, "give z, strokes or polylines");
            var given = (op.Z is not null ? 1 : 0) + (op.Strokes is not null ? 1 : 0) + (op.Polylines is not null ? 1 : 0);
            if (given != 1) throw ApiProblem.Invalid(field, "give exactly one of z, strokes or polylines");
            if (op.Z is not null && op.Frame is not null) throw ApiProblem.Invalid($"{field}.frame", "is the frame of polylines; a z has none");
            result[i] = op.Z is not null
                ? new Operand(field, Latent(op.Z, model, $"{field}.z"), null)
                : new Operand(field, null, Sketch(new SketchInput { Strokes = op.Strokes, Polylines = op.Polylines, Frame = op.Frame }, model, field, partial: false).Points);
        }
        return result;
    }
}
