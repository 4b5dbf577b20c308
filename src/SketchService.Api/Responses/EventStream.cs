using System.Buffers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace SketchService.Api.Responses;

/// <summary>
/// Server-Sent Events from an async sequence of batches of items (what is ready together), each item written as
/// <c>event: {type}</c> and <c>data: {json}</c>.
/// Hand-written rather than ASP.NET Core's <c>TypedResults.ServerSentEvents</c>, which writes and flushes every item
/// on its own: here items that are ready together share a write, and after a write the stream waits
/// <paramref name="flushInterval"/> before the next one (the first item after a pause goes at once), or less when
/// <paramref name="ends"/> (the work behind the stream) is over. With many streams
/// a decoder step gives each stream one point, and a wake-up and a socket write per point cost more than decoding it.
/// Items are serialised straight into the response pipe, without a string per event. <paramref name="stop"/> is
/// cancelled when the stream ends however it ends, so the work behind it stops too.
/// </summary>
public sealed class EventStreamResult(IAsyncEnumerable<IReadOnlyList<SseItem<object>>> items, CancellationTokenSource stop, TimeSpan flushInterval, Task? ends = null)
    : IResult
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] End = "\n\n"u8.ToArray();

    public async Task ExecuteAsync(HttpContext http)
    {
        using var _ = stop;
        var ct = http.RequestAborted;
        var options = http.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var logger = http.RequestServices.GetRequiredService<ILogger<EventStreamResult>>();
        http.Response.ContentType = OutputFormat.EventStream.MediaType();
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
        var body = http.Response.BodyWriter;
        using var json = new Utf8JsonWriter(body);
        var source = items.GetAsyncEnumerator(stop.Token);
        ValueTask<bool> next = default;
        bool pending = false; // next is not awaited yet
        try
        {
            bool unflushed = false;
            while (true)
            {
                next = source.MoveNextAsync();
                pending = true;
                if (!next.IsCompleted && unflushed)
                {
                    await body.FlushAsync(ct);
                    unflushed = false;
                    // Let the next items gather; the end of the work behind the stream cuts the wait short.
                    if (flushInterval > TimeSpan.Zero && ends is not { IsCompleted: true })
                        await (ends is null ? Task.Delay(flushInterval, ct) : Task.WhenAny(Task.Delay(flushInterval, ct), ends));
                }
                pending = false;
                if (!await next) break;
                foreach (var item in source.Current) // what was ready together (a decoder step's points), written back to back
                {
                    body.Write(EventPrefix);
                    Encoding.UTF8.GetBytes(item.EventType ?? "message", body);
                    body.Write(DataPrefix);
                    json.Reset(body);
                    JsonSerializer.Serialize(json, item.Data, item.Data.GetType(), options);
                    json.Flush();
                    body.Write(End);
                    unflushed = true;
                }
            }
            await body.FlushAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client left; cancelling stop below ends the work behind the stream.
        }
        catch (Exception e)
        {
            // Writing failed after the stream started (a value JSON cannot hold, say): end it with an error, not silence.
            logger.LogError(e, "Writing the event stream failed");
            try
            {
                body.Write("event: error\ndata: "u8);
                json.Reset(body);
                JsonSerializer.Serialize(json, new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "Stream failed", Detail = "writing the stream failed; see the server log" }, options);
                json.Flush();
                body.Write(End);
                await body.FlushAsync(ct);
            }
            catch (Exception) { } // the client may be gone too
        }
        finally
        {
            stop.Cancel();
            try
            {
                if (pending) await next; // the source sees stop and ends
                await source.DisposeAsync();
            }
            catch (Exception) { } // it ends by throwing its cancellation: nobody is listening any more
        }
    }

}
