using System.Net;
using System.Security.Cryptography;
using System.Text;
using SketchService.DataFetch;

namespace SketchService.DataFetch.Tests;

/// <summary>fetch-data without the internet: the manifest, the hash check, skip-if-present, line cuts and atomic writes,
/// against an in-process HTTP handler and file:// URLs.</summary>
public sealed class FetcherTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly TempFolder dest = new();
    private readonly FakeServer server = new();

    public void Dispose() => dest.Dispose();

    private Fetcher NewFetcher() => new(new HttpClient(server), dest.Path);

    private static DataFile Entry(string path, byte[] content, params string[] urls) =>
        new(path, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), urls);

    [Fact]
    public void The_committed_manifest_parses_and_lists_what_the_tests_read()
    {
        var manifest = DataManifest.Load(ManifestPath);
        var paths = manifest.Files.Select(f => f.Path).ToHashSet();
        Assert.Contains("models/magenta/bird.gen.json", paths);
        Assert.Contains("data/sketchrnn/aaron_sheep.npz", paths);
        Assert.Contains("data/quickdraw/raw/cat.ndjson", paths);
        Assert.Equal(344, paths.Count(p => p.StartsWith("data/quickdraw/simplified/", StringComparison.Ordinal)));
        // Every file either has a source or says why not.
        Assert.All(manifest.Files, f => Assert.True(f.Urls.Count > 0 || f.Note is not null, f.Path));
        Assert.Equal("https://storage.googleapis.com/quickdraw_dataset/full/simplified/The%20Eiffel%20Tower.ndjson",
            manifest.Files.Single(f => f.Path.EndsWith("/The_Eiffel_Tower.ndjson", StringComparison.Ordinal)).Urls.Single());
    }

    [Fact]
    public void The_committed_manifest_matches_the_shared_data_file_for_file()
    {
        SharedData.Path("data"); // skips without the shared data
        var root = SharedData.Root;
        var manifest = DataManifest.Load(ManifestPath);
        var fetcher = new Fetcher(new HttpClient(), root);
        Assert.All(manifest.Files, f => Assert.Null(fetcher.Problem(f)));
        // And nothing the shared data holds is left out of it.
        var listed = manifest.Files.Select(f => f.Path).ToHashSet();
        var onDisk = new[] { "data", "models" }.Where(d => Directory.Exists(Path.Combine(root, d)))
            .SelectMany(d => Directory.GetFiles(Path.Combine(root, d), "*", SearchOption.AllDirectories))
            .Select(p => Path.GetRelativePath(root, p).Replace(Path.DirectorySeparatorChar, '/'));
        Assert.Equal([], onDisk.Except(listed).Order());
    }

    [Theory]
    [InlineData("""{"files":[{"path":"../x","size":1,"sha256":"%H","urls":[]}]}""", "relative")]
    [InlineData("""{"files":[{"path":"a//b","size":1,"sha256":"%H","urls":[]}]}""", "relative")]
    [InlineData("""{"files":[{"path":"a","size":1,"sha256":"abc","urls":[]}]}""", "sha256")]
    [InlineData("""{"files":[{"path":"a","size":1,"sha256":"%H","urls":["ftp://x/a"]}]}""", "ftp://x/a")]
    [InlineData("""{"files":[{"path":"a","size":1,"sha256":"%H","urls":[]},{"path":"a","size":1,"sha256":"%H","urls":[]}]}""", "twice")]
    [InlineData("""{"files":[{"path":"a","size":1,"sha256":"%H","urls":[],"lines":0}]}""", "lines")]
    [InlineData("""{"files":[{"path":"a","size":1,"sha256":"%H"}]}""", "urls")]
    [InlineData("""{"files":[{"path":"a","size":1,"sha256":"%H","urls":[],"md5":"x"}]}""", "md5")]
    [InlineData("""{"files":""", "not a valid manifest")]
    public void A_bad_manifest_says_what_is_wrong(string json, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => DataManifest.Parse(json.Replace("%H", new string('a', 64))));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Downloads_checks_and_then_skips_a_file_that_is_already_right()
    {
        var content = Encoding.UTF8.GetBytes("hello, sheep\n");
        server.Serve("https://example.test/sheep.txt", content);
        var entry = Entry("data/sheep.txt", content, "https://example.test/sheep.txt");
        var fetcher = NewFetcher();

        Assert.Equal("missing", fetcher.Problem(entry));
        Assert.Equal(FetchOutcome.Downloaded, (await fetcher.FetchAsync(entry, ct: Ct)).Outcome);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(dest.Path, "data", "sheep.txt")));
        Assert.Null(fetcher.Problem(entry));
        Assert.Empty(Directory.GetFiles(dest.Path, "*" + Fetcher.PartSuffix, SearchOption.AllDirectories));

        // Run again: nothing is asked of the server.
        Assert.Equal(FetchOutcome.Present, (await fetcher.FetchAsync(entry, ct: Ct)).Outcome);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_wrong_file_is_replaced_and_a_bad_source_leads_to_the_next_url()
    {
        var content = Encoding.UTF8.GetBytes("the real bytes");
        server.Serve("https://a.test/f", Encoding.UTF8.GetBytes("the real byteZ")); // right size, wrong hash
        server.Serve("https://b.test/f", content);
        var entry = Entry("f", content, "https://a.test/f", "https://missing.test/f", "https://b.test/f");
        File.WriteAllText(Path.Combine(dest.Path, "f"), "stale");
        var fetcher = NewFetcher();
        Assert.Contains("expected", fetcher.Problem(entry));

        var result = await fetcher.FetchAsync(entry, ct: Ct);

        Assert.Equal(FetchOutcome.Downloaded, result.Outcome);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(dest.Path, "f")));
        Assert.Equal(3, server.Requests);
    }

    [Fact]
    public async Task When_every_url_fails_the_error_names_each_and_leaves_no_file_behind()
    {
        server.Serve("https://a.test/f", Encoding.UTF8.GetBytes("short"));
        var entry = Entry("sub/f", Encoding.UTF8.GetBytes("the real bytes"), "https://a.test/f", "https://gone.test/f");

        var result = await NewFetcher().FetchAsync(entry, ct: Ct);

        Assert.Equal(FetchOutcome.Failed, result.Outcome);
        Assert.Contains("https://a.test/f: got 5 bytes, expected 14", result.Message);
        Assert.Contains("https://gone.test/f: HTTP 404", result.Message);
        Assert.Empty(Directory.GetFiles(dest.Path, "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetDirectories(dest.Path)); // nor an empty folder tree that looks like data
    }

    [Fact]
    public async Task Offline_every_source_is_asked_once_and_the_answer_says_so()
    {
        using var offline = new HttpClient(new Unreachable());
        var fetcher = new Fetcher(offline, dest.Path);
        DataFile[] files = [.. Enumerable.Range(0, 50).Select(i => Entry($"a/{i}", [1], $"https://one.test/{i}")), Entry("b", [1], "https://two.test/b")];
        var why = await fetcher.UnreachableAsync(files, TimeSpan.FromSeconds(5), Ct);
        Assert.Equal("one.test: no route to host; two.test: no route to host", why);
        Assert.Empty(Directory.GetFileSystemEntries(dest.Path));

        server.Serve("https://one.test/0", [1]);
        Assert.Null(await NewFetcher().UnreachableAsync(files, TimeSpan.FromSeconds(5), Ct)); // any answer, even a 404, means online
    }

    private sealed class Unreachable : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new HttpRequestException("no route to host", new System.Net.Sockets.SocketException(113));
    }

    [Fact]
    public async Task A_file_without_urls_is_reported_with_its_note()
    {
        var entry = Entry("x.npz", [1, 2, 3]) with { Note = "copy it from a shared/ folder" };
        var result = await NewFetcher().FetchAsync(entry, ct: Ct);
        Assert.Equal((FetchOutcome.NotDownloadable, "copy it from a shared/ folder"), (result.Outcome, result.Message));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Lines_keeps_the_first_lines_of_an_endless_download(bool finalNewline)
    {
        // Quick Draw's files are hundreds of MB: only their first lines are read, then the download is dropped.
        server.Serve("https://q.test/cat.ndjson", () => new EndlessLines());
        var expected = Encoding.UTF8.GetBytes("{\"line\":0}\n{\"line\":1}\n{\"line\":2}" + (finalNewline ? "\n" : ""));
        var entry = Entry("cat.ndjson", expected, "https://q.test/cat.ndjson") with { Lines = 3, FinalNewline = finalNewline };

        Assert.Equal(FetchOutcome.Downloaded, (await NewFetcher().FetchAsync(entry, ct: Ct)).Outcome);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(dest.Path, "cat.ndjson")));
    }

    [Fact]
    public async Task The_file_appears_under_its_name_only_once_complete()
    {
        var content = new byte[300_000];
        new Random(1).NextBytes(content);
        var target = Path.Combine(dest.Path, "big.bin");
        bool? sawTarget = null, sawPart = null;
        server.Serve("https://s.test/big.bin", () => new SlowStream(content, afterFirstRead: () =>
        {
            sawTarget = File.Exists(target);
            sawPart = File.Exists(target + Fetcher.PartSuffix);
        }));
        var reported = new List<long>();

        var result = await NewFetcher().FetchAsync(Entry("big.bin", content, "https://s.test/big.bin"), new SyncProgress(reported.Add), Ct);

        Assert.Equal(FetchOutcome.Downloaded, result.Outcome);
        Assert.Equal((false, true), (sawTarget, sawPart));
        Assert.Equal(content, File.ReadAllBytes(target));
        Assert.Equal(content.Length, reported[^1]);
        Assert.True(reported.Count > 1, "progress is reported as the download goes");
    }

    [Fact]
    public async Task A_file_url_works_like_a_download()
    {
        using var source = new TempFolder();
        var content = Encoding.UTF8.GetBytes("from a local mirror");
        var path = Path.Combine(source.Path, "m.txt");
        File.WriteAllBytes(path, content);
        var result = await NewFetcher().FetchAsync(Entry("m.txt", content, new Uri(path).AbsoluteUri), ct: Ct);
        Assert.Equal(FetchOutcome.Downloaded, result.Outcome);
        Assert.Equal(0, server.Requests);
    }

    private static string ManifestPath => Path.Combine(SharedData.RepoRoot, "src", "SketchService.DataFetch", DataManifest.FileName);

    /// <summary>Answers GET for registered URLs (content or a fresh stream each time), 404 for the rest; counts requests.</summary>
    private sealed class FakeServer : HttpMessageHandler
    {
        private readonly Dictionary<string, Func<Stream>> routes = [];
        public int Requests;

        public void Serve(string url, byte[] content) => routes[url] = () => new MemoryStream(content);

        public void Serve(string url, Func<Stream> stream) => routes[url] = stream;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            var response = routes.TryGetValue(request.RequestUri!.AbsoluteUri, out var body)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(body()) }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
            return Task.FromResult(response);
        }
    }

    /// <summary>{"line":0}\n{"line":1}\n… for ever, a few bytes per read.</summary>
    private sealed class EndlessLines : ReadOnlyStream
    {
        private long line;
        private byte[] pending = [];
        private int offset;

        public override int Read(byte[] buffer, int start, int count)
        {
            if (offset == pending.Length) (pending, offset) = (Encoding.UTF8.GetBytes($"{{\"line\":{line++}}}\n"), 0);
            var n = Math.Min(count, Math.Min(7, pending.Length - offset));
            Array.Copy(pending, offset, buffer, start, n);
            offset += n;
            return n;
        }
    }

    /// <summary>Gives its content 64 KB per read and calls back after the first read, mid-download.</summary>
    private sealed class SlowStream(byte[] content, Action afterFirstRead) : ReadOnlyStream
    {
        private int position;

        public override int Read(byte[] buffer, int start, int count)
        {
            if (position > 0 && position < content.Length && position <= 65536) afterFirstRead();
            var n = Math.Min(Math.Min(count, 65536), content.Length - position);
            Array.Copy(content, position, buffer, start, n);
            position += n;
            return n;
        }
    }

    /// <summary>A forward-only stream that can only be read: what a download's body is.</summary>
    private abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long o, SeekOrigin s) => throw new NotSupportedException();
        public override void SetLength(long v) => throw new NotSupportedException();
        public override void Write(byte[] b, int o, int c) => throw new NotSupportedException();
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
