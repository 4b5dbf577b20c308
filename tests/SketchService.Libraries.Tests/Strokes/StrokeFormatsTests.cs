using SketchService.Core.Strokes;
using SketchService.Data;

namespace SketchService.Libraries.Tests.Strokes;

public class StrokeFormatsTests
{
    private static readonly Polyline[] Tiny = [new([10, 12, 15], [20, 20, 24]), new([5], [6])];

    [Fact]
    public void PolylinesToStroke3FollowsMagenta()
    {
        var s3 = StrokeFormats.ToStroke3(Tiny);
        StrokePoint[] expected = [new(10, 20, false), new(2, 0, false), new(3, 4, true), new(-10, -18, true)];
        Assert.Equal(expected, s3);
    }

    [Theory]
    [InlineData("fixtures")]
    [InlineData("shared")]
    public void SimplifiedDrawingsRoundTripExactly(string source)
    {
        foreach (var file in Directory.GetFiles(SharedData.QuickDraw(source, "simplified"), "*.ndjson").Order().Take(40))
        {
            foreach (var d in QuickDraw.ReadFile(file))
            {
                var back = StrokeFormats.ToPolylines(StrokeFormats.ToStroke3(d.Drawing));
                Assert.Equal(d.Drawing.Count, back.Count);
                for (var i = 0; i < back.Count; i++)
                {
                    Assert.Equal(d.Drawing[i].X, back[i].X);
                    Assert.Equal(d.Drawing[i].Y, back[i].Y);
                }
            }
        }
    }

    [Theory]
    [InlineData("fixtures")]
    [InlineData("shared")]
    public void RawDrawingsRoundTripWithinFloatRounding(string source)
    {
        var files = source == "shared" ? [SharedData.Path("data", "quickdraw", "raw", "pig-random100.ndjson")] : Directory.GetFiles(SharedData.QuickDraw(source, "raw"), "*.ndjson");
        foreach (var d in files.SelectMany(QuickDraw.ReadFile))
        {
            var back = StrokeFormats.ToPolylines(StrokeFormats.ToStroke3(d.Drawing));
            Assert.Equal(d.Drawing.Select(s => s.Count), back.Select(s => s.Count));
            for (var i = 0; i < back.Count; i++)
            {
                for (var j = 0; j < back[i].Count; j++)
                {
                    Assert.Equal(d.Drawing[i].X[j], back[i].X[j], 0.01f);
                    Assert.Equal(d.Drawing[i].Y[j], back[i].Y[j], 0.01f);
                }
            }
        }
    }

    [Fact]
    public void TrailingPointsWithoutPenLiftFormALastStroke()
    {
        var lines = StrokeFormats.ToPolylines([new(1, 1, true), new(2, 0, false), new(0, 3, false)]);
        Assert.Equal(2, lines.Count);
        Assert.Equal([3f, 3f], lines[1].X);
        Assert.Equal([1f, 4f], lines[1].Y);
    }

    [Fact]
    public void Stroke5PadsWithEndRowsAndDecoderInputStartsWithS0()
    {
        StrokePoint[] s3 = [new(1, 2, false), new(3, 4, true)];

        var unpadded = StrokeFormats.ToStroke5(s3);
        Assert.Equal([[1, 2, 1, 0, 0], [3, 4, 0, 1, 0]], unpadded);

        var padded = StrokeFormats.ToStroke5(s3, maxLength: 4);
        Assert.Equal([[1, 2, 1, 0, 0], [3, 4, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]], padded);

        Assert.Throws<ArgumentException>(() => StrokeFormats.ToStroke5(s3, maxLength: 1));
    }

    [Fact]
    public void BoundsOfPolylinesAndStroke3Agree()
    {
        var box = StrokeFormats.Bounds(Tiny);
        Assert.Equal(new BoundingBox(5, 6, 15, 24), box);
        Assert.Equal(10, box.Width);
        Assert.Equal(18, box.Height);
        Assert.Equal(box, StrokeFormats.Bounds(StrokeFormats.ToStroke3(Tiny)));
        Assert.Throws<ArgumentException>(() => StrokeFormats.Bounds(Array.Empty<Polyline>()));
    }

    [Fact]
    public void Split_gives_the_given_points_and_the_rest_in_one_frame_joined_where_the_pen_stays_down()
    {
        StrokePoint[] sketch = [new(0, 0, false), new(10, 0, false), new(0, 10, false), new(5, 5, true)];
        var (given, rest) = StrokeFormats.Split(sketch, 2);
        Assert.Equal([0f, 10f], given.Single().X);
        Assert.Equal([10f, 10f, 15f], rest.Single().X); // from the last given point: the segment between is drawn
        Assert.Equal([0f, 10f, 15f], rest.Single().Y);
        var (all, none) = StrokeFormats.Split(sketch, 4);
        Assert.Equal(4, all.Single().Count);
        Assert.Empty(none);
    }
}
