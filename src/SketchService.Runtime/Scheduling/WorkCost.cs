namespace SketchService.Runtime.Scheduling;

/// <summary>
/// What a request's model work takes, in LSTM steps: the encoder reads one point of one sketch per step (both
/// directions), the decoder advances one row per step. Time and memory follow these counts: the encoder's padding is
/// bounded by <see cref="SchedulerOptions.MaxEncodeRunPoints"/>, and a row's state is fixed-size.
/// </summary>
public readonly record struct WorkCost(long EncoderSteps, long DecoderSteps)
{
    public long Total => EncoderSteps + DecoderSteps;

    /// <summary>Encoding sketches of these lengths.</summary>
    public static WorkCost Encode(IEnumerable<int> sketchLengths) => new(sketchLengths.Sum(l => (long)l), 0);

    /// <summary>
    /// Drawing <paramref name="samples"/> rows primed with the prefix for up to <paramref name="maxSteps"/> new points
    /// each; the prefix also encoded when it sets z, or scored through one decoder row per candidate z when z is chosen
    /// among <paramref name="candidates"/>.
    /// </summary>
    public static WorkCost Draw(int samples, int prefixPoints, int maxSteps, bool encodePrefix = false, int candidates = 0) =>
        new(encodePrefix ? prefixPoints : 0, (long)(samples + candidates) * prefixPoints + (long)samples * maxSteps);

    public static WorkCost operator +(WorkCost a, WorkCost b) => new(a.EncoderSteps + b.EncoderSteps, a.DecoderSteps + b.DecoderSteps);
}
