using SketchService.Api.Requests;
using SketchService.Runtime;
using SketchService.Runtime.Models;

namespace SketchService.Api.Features;

/// <summary>Latent operands (/interpolate's ends, /arithmetic's names) turned into z's.</summary>
public static class Operands
{
    /// <summary>Each operand's z: as given, or its sketch's posterior mean, every sketch encoded in one job of the model's scheduler.</summary>
    public static async Task<float[][]> EncodeAsync(IReadOnlyList<Operand> operands, ServedModel model, Deadline deadline, CancellationToken ct, string caller)
    {
        var sketches = operands.Where(o => o.Sketch is not null).Select(o => o.Sketch!).ToArray();
        var codes = sketches.Length == 0 ? [] : await model.Scheduler.EncodeAsync(sketches, deadline, ct, caller);
        int k = 0;
        return [.. operands.Select(o => o.Z ?? codes[k++].Mu)];
    }
}
