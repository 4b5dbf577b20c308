using SketchService.Data;

namespace SketchService.Libraries.Tests.Strokes;

public class QuickDrawTests
{
    private const string CatLine =
        """{"word":"cat","countrycode":"VE","timestamp":"2017-03-02 23:25:10.07453 UTC","recognized":true,"key_id":"5201136883597312","drawing":[[[1,2,3],[4,5,6]],[[7],[8]]]}""";

    [Fact]
    public void EverySimplifiedFileHas25IntegerDrawings()
    {
        var files = Directory.GetFiles(SharedData.Path("data", "quickdraw", "simplified"), "*.ndjson");
        Assert.Equal(344, files.Length);
        foreach (var file in files)
        {
            var drawings = QuickDraw.ReadFile(file).ToList();
            Assert.Equal(25, drawings.Count);
            Assert.All(drawings, d =>
            {
                Assert.Equal(drawings[0].Word, d.Word);
                Assert.Null(d.Times);
                Assert.NotEmpty(d.Drawing);
                Assert.All(d.Drawing.SelectMany(s => s.X.Concat(s.Y)), v => Assert.True(v is >= 0 and <= 255 && v == MathF.Round(v)));
            });
        }
    }

    [Theory]
    [InlineData("bird", 30)]
    [InlineData("cat", 25)]
    [InlineData("dog", 26)]
    [InlineData("face", 31)]
    [InlineData("pig", 19)]
    [InlineData("rabbit", 24)]
    [InlineData("sheep", 23)]
    [InlineData("pig-random100", 100)]
    public void RawFilesParseWithTimes(string name, int count)
    {
        var drawings = QuickDraw.ReadFile(SharedData.Path("data", "quickdraw", "raw", name + ".ndjson")).ToList();
        Assert.Equal(count, drawings.Count);
        Assert.All(drawings, d =>
        {
            Assert.Equal(name.Split('-')[0], d.Word);
            Assert.NotNull(d.Times);
            Assert.Equal(d.Drawing.Select(s => s.Count), d.Times.Select(t => t.Length));
        });
    }

    [Fact]
    public void RawRecordFieldsAreRead()
    {
        var first = QuickDraw.ReadFile(SharedData.Fixture("quickdraw", "raw", "cat.ndjson")).First();
        Assert.Equal("cat", first.Word);
        Assert.Equal("VE", first.CountryCode);
        Assert.Equal("2017-03-02 23:25:10.07453 UTC", first.Timestamp);
        Assert.True(first.Recognized);
        Assert.Equal("5201136883597312", first.KeyId);
        Assert.Equal(414.48199462890625f, first.Drawing[0].X[0]);
        Assert.Equal(0, first.Times![0][0]);
    }

    [Fact]
    public void SimplifiedLineParses()
    {
        var d = QuickDraw.ParseLine(CatLine);
        Assert.Equal(2, d.Drawing.Count);
        Assert.Equal([1f, 2f, 3f], d.Drawing[0].X);
        Assert.Equal([4f, 5f, 6f], d.Drawing[0].Y);
        Assert.Equal([8f], d.Drawing[1].Y);
        Assert.Null(d.Times);
    }

    [Theory]
    [InlineData("{\"word\":\"cat\"")]                                                // truncated JSON
    [InlineData("[1,2]")]                                                             // not an object
    [InlineData("""{"word":"cat","countrycode":"VE","timestamp":"t","recognized":true,"key_id":"1"}""")] // no drawing
    [InlineData("""{"word":"cat","countrycode":"VE","timestamp":"t","recognized":true,"key_id":"1","drawing":[[[1,2],[3]]]}""")]
    [InlineData("""{"word":"cat","countrycode":"VE","timestamp":"t","recognized":"yes","key_id":"1","drawing":[[[1],[3]]]}""")]
    [InlineData("""{"word":"cat","countrycode":"VE","timestamp":"t","recognized":true,"key_id":"1","drawing":[[[1],["a"]]]}""")]
    [InlineData("""{"word":"cat","countrycode":"VE","timestamp":"t","recognized":true,"key_id":"1","drawing":[[[1],[2],[0,5]]]}""")]
    public void MalformedLineThrowsWithLineNumber(string bad)
    {
        var text = CatLine + "\n\n" + bad + "\n" + CatLine;
        var read = QuickDraw.Read(new StringReader(text), "test.ndjson").GetEnumerator();
        Assert.True(read.MoveNext());
        var e = Assert.Throws<FormatException>(() => read.MoveNext());
        Assert.StartsWith("test.ndjson, line 3: ", e.Message);
    }
}
