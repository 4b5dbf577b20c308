// Completes two legs of a sheep as a stream, then draws four sheep from the model's prior into sheep.svg.
using SketchService.Client;

var client = new SketchClient(new Uri(args.FirstOrDefault() ?? "http://localhost:5080"));
var legs = SketchInput.FromPolylines([Polyline.Of((64, 180), (60, 230)), Polyline.Of((110, 180), (114, 230))]);

var ended = false;
await foreach (var p in client.StreamCompletionAsync(new CompleteRequest { Sketch = legs, Temperature = 0.5, Seed = 3 }))
{
    ended = p.Pen == Pen.End;
    Console.Write(ended ? "end" : $"({p.X:0},{p.Y:0}){(p.Pen == Pen.Up ? " | " : " ")}");
}
Console.WriteLine(ended ? "" : "(cut at max_steps)");

var sheep = await client.GenerateImageAsync(new GenerateRequest { Samples = 4, Seed = 1 }, ImageFormat.Svg);
File.WriteAllText("sheep.svg", sheep.Text);
Console.WriteLine($"sheep.svg: {sheep.Bytes.Length} bytes");

try { await client.DecodeAsync(new DecodeRequest { Z = [1, 2, 3] }); }
catch (SketchServiceException e) { Console.WriteLine($"{e.Status} {e.Title}: {string.Join("; ", e.Errors.Select(f => $"{f.Key}: {f.Value[0]}"))}"); }
