using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using SketchService.Api.Infrastructure;
using SketchService.Api.Sketches;
using SketchService.Runtime.Decoding;

namespace SketchService.Api.Endpoints;

/// <summary>
/// A decode run as Server-Sent Events: an <c>event: step</c> per point as the batch samples it, then <c>event: done</c>
/// with the whole response, or <c>event: error</c> with a ProblemDetails. Every point is its own event, but after a
/// write the stream waits <paramref name="flushInterval"/> for more points before the next one (the first point goes at
/// once): with many streams a tick gives each stream one point, and a wake-up and socket write per point cost more
/// than decoding it. Events are written straight into the response pipe, without a string per event.
/// </summary>
internal sealed class StepEventStream(DecodeRun run, CancellationTokenSource stop, SketchSpace space, Func<DecodeResult, CompleteResponse> response,
    RequestLog log, ILogger logger, JsonSerializerOptions options, TimeSpan flushInterval) : IResult
{
    private static readonly byte[] StepPrefix = Encoding.UTF8.GetBytes("event: step\ndata: ");
    private static readonly byte[] DonePrefix = Encoding.UTF8.GetBytes("event: done\ndata: ");
    private static readonly byte[] ErrorPrefix = Encoding.UTF8.GetBytes("event: error\ndata: ");
    private static readonly byte[] End = "\n\n"u8.ToArray();

    public async Task ExecuteAsync(HttpContext http)
    {
        using var _ = stop;
        var ct = http.RequestAborted;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
        var body = http.Response.BodyWriter;
        using var json = new Utf8JsonWriter(body);
        try
        {
            var steps = run.Steps;
            while (await WaitToRead(steps, ct))
            {
                while (steps.TryRead(out var step))
                {
                    foreach (var p in step.Points)
                    {
                        var (dx, dy) = space.Scale(p.Dx, p.Dy);
                        var (x, y) = space.Position(p.X, p.Y);
                        Write(body, json, StepPrefix, new StepEvent(p.Sample, step.Index, dx, dy, x, y, p.Pen switch { PenState.Down => "down", PenState.Up => "up", _ => "end" }));
                    }
                }
                await body.FlushAsync(ct);
                // Let the next points gather instead of waking for each one (the first point after a pause goes at once);
                // the end of the run cuts the wait short.
                if (flushInterval > TimeSpan.Zero && !steps.Completion.IsCompleted)
                    await Task.WhenAny(Task.Delay(flushInterval, ct), steps.Completion);
            }

            DecodeResult result;
            try
            {
                result = await run.Result;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested || ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Write(body, json, ErrorPrefix, Problem(e));
                await body.FlushAsync(ct);
                return;
            }
            log.Record(result);
            Write(body, json, DonePrefix, response(result));
            await body.FlushAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left; stopping the run below frees its rows at the next tick.
        }
        catch (Exception e)
        {
            // Writing failed after the stream started (a value JSON cannot hold, say): end it with an error, not silence.
            log.Failure = e.Message;
            logger.LogError(e, "Writing the event stream failed");
            try
            {
                Write(body, json, ErrorPrefix, new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Stream failed", Detail = "writing the stream failed; see the server log" });
                await body.FlushAsync(ct);
            }
            catch (Exception) { } // the client may be gone too
        }
        finally
        {
            stop.Cancel();
        }
    }

    private void Write<T>(System.IO.Pipelines.PipeWriter body, Utf8JsonWriter json, byte[] prefix, T data)
    {
        body.Write(prefix);
        json.Reset(body);
        JsonSerializer.Serialize(json, data, options);
        json.Flush();
        body.Write(End);
    }

    /// <summary>Waits for more steps; false when the run is over (completed, failed or cancelled).</summary>
    private static async ValueTask<bool> WaitToRead(System.Threading.Channels.ChannelReader<DecodeStep> steps, CancellationToken ct)
    {
        try { return await steps.WaitToReadAsync(ct); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception) { return false; } // the run failed: its result says how
    }

    /// <summary>What a stream that already started says when its decoding fails; logged, and marked on the request log.</summary>
    private ProblemDetails Problem(Exception e)
    {
        log.Failure = e.Message;
        if (ApiProblemHandler.DecodingStopped(e) is { } stopped)
        {
            logger.LogWarning("Stream stopped: {Reason}", e.Message);
            return stopped;
        }
        logger.LogError(e, "Decoding failed mid-stream");
        return new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Decoding failed", Detail = $"decoding failed after the stream started: {e.Message}" };
    }
}
