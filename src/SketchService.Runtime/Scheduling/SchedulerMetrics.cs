using System.Diagnostics.Metrics;

namespace SketchService.Runtime.Scheduling;

/// <summary>
/// The scheduling instruments (meter "SketchService"), named after Triton's metrics where one fits
/// (nv_inference_pending_request_count, nv_inference_request_failure, nv_inference_first_response_histogram_ms, …):
/// a Prometheus exporter turns <c>sketch.inference.pending_request_count</c> into
/// <c>sketch_inference_pending_request_count</c>, adds <c>_seconds</c> for the unit s and <c>_total</c> to counters.
/// Every measurement carries the tag <c>model</c>. See docs/metrics.md.
/// </summary>
public sealed class SchedulerMetrics : IDisposable
{
    public const string MeterName = "SketchService";

    private readonly Meter meter;
    private readonly UpDownCounter<int> pending, liveRows;
    private readonly Histogram<int> batchSize, encoderBatchSize;
    private readonly Histogram<double> stepDuration, firstResponse, queueDuration, scoringDuration;
    private readonly Counter<long> points, failures;

    public SchedulerMetrics(IMeterFactory? factory = null)
    {
        meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        int[] sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
        double[] stepSeconds = [25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1];
        double[] waitSeconds = [1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
        pending = meter.CreateUpDownCounter<int>("sketch.inference.pending_request_count", "{request}", "Requests waiting for the encoder or for decoder rows");
        liveRows = meter.CreateUpDownCounter<int>("sketch.inference.live_rows", "{row}", "Rows (samples being drawn) in the decoder batch");
        batchSize = meter.CreateHistogram("sketch.inference.batch_size", "{row}", "Rows per decoder step",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = sizes });
        encoderBatchSize = meter.CreateHistogram("sketch.inference.encoder_batch_size", "{sketch}", "Sketches per encoder run",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = sizes });
        stepDuration = meter.CreateHistogram("sketch.inference.compute_infer_duration", "s", "Duration of one batched decoder step (ONNX run)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = stepSeconds });
        firstResponse = meter.CreateHistogram("sketch.inference.first_response", "s", "Time from submission to a request's first sampled point",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = waitSeconds });
        queueDuration = meter.CreateHistogram("sketch.inference.queue_duration", "s", "Time a request waited for decoder rows",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = waitSeconds });
        scoringDuration = meter.CreateHistogram("sketch.inference.scoring_duration", "s", "Time the encoder lane spent scoring the sketches of one slice under their candidate z's (/complete condition prior)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = waitSeconds });
        points = meter.CreateCounter<long>("sketch.inference.points", "{point}", "Points sampled");
        failures = meter.CreateCounter<long>("sketch.inference.request_failure", "{request}",
            "Requests refused or stopped, by reason: queue_full, caller_share, caller_rate, cost_limit, deadline, canceled, shutdown, non_finite, error");
    }

    public void Pending(string model, int delta) => pending.Add(delta, Tag(model));
    public void LiveRows(string model, int delta) => liveRows.Add(delta, Tag(model));
    public void Step(string model, int rows, double seconds)
    {
        batchSize.Record(rows, Tag(model));
        stepDuration.Record(seconds, Tag(model));
    }
    public void EncoderBatch(string model, int sketches) => encoderBatchSize.Record(sketches, Tag(model));
    public void Scoring(string model, double seconds) => scoringDuration.Record(seconds, Tag(model));
    public void FirstResponse(string model, double seconds) => firstResponse.Record(seconds, Tag(model));
    public void Queued(string model, double seconds) => queueDuration.Record(seconds, Tag(model));
    public void Points(string model, int count) => points.Add(count, Tag(model));
    public void Failure(string model, string reason) => failures.Add(1, Tag(model), new("reason", reason));

    public void Dispose() => meter.Dispose();

    private static KeyValuePair<string, object?> Tag(string model) => new("model", model);
}
