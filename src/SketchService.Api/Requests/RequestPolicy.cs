using Microsoft.Extensions.Options;
using SketchService.Api.Infrastructure;
using SketchService.Api.Responses;
using SketchService.Core.Strokes;
using SketchService.Runtime;
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
        id = string.IsNullOrEmpty(id)
            ? store.DefaultId ?? throw new ApiProblem(StatusCodes.Status503ServiceUnavailable, "No models", $"No model could be loaded from {store.ModelsPath}.")
            : id;
        if (!store.Models.TryGetValue(id, out var model))
        {
            var why = store.Failures.TryGetValue(id, out var reason) ? $" (its folder failed to load: {reason})" : "";
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

    /// <summary>When the request's model work must be over: fixed once, as it arrives.</summary>
    public Deadline Deadline() => Runtime.Deadline.After(Settings.RequestDeadline);

    public int Samples(int? value, string field = "samples")
    {
        var v = value ?? 1;
        var max = Settings.MaxRowsPerRequest;
        if (v < 1 || v > max) throw ApiProblem.Invalid(field, $"must be between 1 and {max}{RowsLimit}; got {v}");
        return v;
    }

    /// <summary>Which setting bounds a request's rows, when it is not MaxSamples.</summary>
    private string RowsLimit => Settings.MaxRowsPerRequest == Settings.MaxSamples ? ""
        : Settings.MaxRowsPerRequest == Settings.RowsPerCaller && Settings.RowsPerCaller < Settings.MaxLiveRows ? " (the rows one caller may hold: CallerShare of MaxLiveRows)"
        : " (MaxLiveRows)";

    public int Steps(int? value)
    {
        var v = value ?? Math.Min(Settings.DefaultSteps, Settings.MaxSteps);
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
    /// Which prior z is sampled from: "data" (the Gaussian of the training drawings' encodings, the default when the
    /// model folder has one) or "standard" (N(0, I), the default otherwise). Returns the name and the data prior or null.
    /// </summary>
    public static (string Name, Core.Latent.LatentPrior? Data) Prior(string? value, ServedModel model)
    {
        var data = model.Model.Prior;
        switch ((value ?? (data is null ? "standard" : "data")).ToLowerInvariant())
        {
            case "standard": return ("standard", null);
            case "data" when data is not null: return ("data", data);
            case "data": throw ApiProblem.Unprocessable($"model '{model.Id}' has no data prior (its folder has no {Core.Model.ModelFolder.PriorFile}: an imported or older model); use prior standard");
            default: throw ApiProblem.Invalid("prior", $"must be data or standard; got '{ProblemSetup.Echo(value!)}'");
        }
    }

    /// <summary>A sketch in model space and the map back to the caller's coordinates.</summary>
    public (StrokePoint[] Points, SketchSpace Space) Sketch(SketchInput? input, ServedModel model, string field, bool wholeDrawing) =>
        SketchSpace.Read(input, model.Model.Manifest, Settings.MaxPoints, Settings.MaxCoordinate, field, wholeDrawing);

    /// <summary>
    /// How the answer is sent: <c>?format=</c> wins; else the Accept header (an event stream only where the endpoint
    /// streams, which is then its default); else JSON. A picture is at most <see cref="SketchResults.MaxPictureSketches"/> drawings.
    /// </summary>
    public static OutputFormat Format(string? format, HttpRequest request, bool streams = false)
    {
        if (format is not null)
            return format.ToLowerInvariant() switch
            {
                "" or "json" => OutputFormat.Json,
                "svg" => OutputFormat.Svg,
                "png" => OutputFormat.Png,
                _ => throw ApiProblem.Invalid("format", $"must be json, svg or png; got '{ProblemSetup.Echo(format)}'"),
            };
        var accept = request.Headers.Accept.ToString();
        bool Asks(string type) => accept.Contains(type, StringComparison.OrdinalIgnoreCase);
        var fallback = streams ? OutputFormat.EventStream : OutputFormat.Json;
        if (accept.Length == 0) return fallback;
        if (streams && Asks("text/event-stream")) return OutputFormat.EventStream;
        if (Asks("application/json")) return OutputFormat.Json;
        if (Asks("image/svg+xml")) return OutputFormat.Svg;
        if (Asks("image/png")) return OutputFormat.Png;
        if (Asks("*/*")) return fallback;
        throw new ApiProblem(StatusCodes.Status406NotAcceptable, "Not acceptable",
            $"this endpoint answers {(streams ? "text/event-stream, " : "")}application/json, image/svg+xml or image/png; the Accept header asked for '{ProblemSetup.Echo(accept)}'");
    }

    /// <summary>A picture draws at most <see cref="SketchResults.MaxPictureSketches"/> sketches (1280 × 1024 px).</summary>
    public static void Picture(OutputFormat format, int sketches)
    {
        if (format is OutputFormat.Svg or OutputFormat.Png && sketches > SketchResults.MaxPictureSketches)
            throw ApiProblem.Invalid("format", $"a picture shows at most {SketchResults.MaxPictureSketches} sketches (5 × 4 cells of 256 px); this request would draw {sketches}: ask for json");
    }

    /// <summary>The whole request's work, checked by its model's scheduler before any of it starts (400 naming the limit).</summary>
    public void Cost(ServedModel model, WorkCost cost, int samples, int prefixPoints)
    {
        try
        {
            model.Scheduler.CheckCost(cost);
        }
        catch (CostLimitException e)
        {
            var maxSteps = Math.Max(0, (e.Limit - cost.EncoderSteps) / samples - prefixPoints);
            throw new ApiProblem(StatusCodes.Status400BadRequest, "Request too costly", $"{e.Message} (SketchService:MaxRequestCost)",
                new Dictionary<string, string[]> { ["max_steps"] = [$"with {samples} sample(s), {prefixPoints} prefix points and {cost.EncoderSteps} points to encode, max_steps can be at most {maxSteps}"] },
                new Dictionary<string, object?> { ["cost"] = cost.Total, ["limit"] = e.Limit });
        }
    }

    /// <summary>/arithmetic's expression text: required and at most <see cref="SketchServiceOptions.MaxExpressionLength"/> characters.</summary>
    public string Expression(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw ApiProblem.Invalid("expression", "is required");
        if (text.Length > Settings.MaxExpressionLength)
            throw ApiProblem.Invalid("expression", $"has {text.Length} characters; the limit is {Settings.MaxExpressionLength}");
        return text;
    }

    /// <summary>At most <see cref="SketchServiceOptions.MaxOperands"/> named operands.</summary>
    public void OperandCount(int count)
    {
        if (count > Settings.MaxOperands)
            throw ApiProblem.Invalid("operands", $"has {count} operands; the limit is {Settings.MaxOperands}");
    }

    /// <summary>/interpolate's frame count, both ends included.</summary>
    public int Frames(int? value)
    {
        var n = value ?? 5;
        var max = Settings.MaxRowsPerRequest;
        if (n < 2 || n > max) throw ApiProblem.Invalid("n", $"must be between 2 and {max}{RowsLimit}; got {n}");
        return n;
    }

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
            result[i] = op.Z is not null
                ? new Operand(field, Latent(op.Z, model, $"{field}.z"), null)
                : new Operand(field, null, Sketch(new SketchInput { Strokes = op.Strokes, Polylines = op.Polylines }, model, field, wholeDrawing: true).Points);
        }
        return result;
    }
}

/// <summary>A latent operand after the rules: a z as given, or a sketch (model space) to encode to its posterior mean.</summary>
public sealed record Operand(string Field, float[]? Z, StrokePoint[]? Sketch);

/// <summary>How an answer is sent.</summary>
public enum OutputFormat { Json, Svg, Png, EventStream }
