using System.Globalization;

namespace SketchService.Trainer;

/// <summary>A tiny "--name value" parser: flags repeat (--data a --data b), unknown names are errors.</summary>
public sealed class Cli
{
    private readonly Dictionary<string, List<string>> _values = new();
    private readonly HashSet<string> _used = new();
    public List<string> Positional { get; } = new();

    public Cli(IEnumerable<string> args, IReadOnlySet<string> switches)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (!a.StartsWith("--")) { Positional.Add(a); continue; }
            var name = a[2..];
            string value;
            var eq = name.IndexOf('=');
            if (eq >= 0) (name, value) = (name[..eq], name[(eq + 1)..]);
            else if (switches.Contains(name)) value = "true";
            else if (e.MoveNext()) value = e.Current;
            else throw new ArgumentException($"--{name} needs a value");
            if (!_values.TryGetValue(name, out var list)) _values[name] = list = new();
            list.Add(value);
        }
    }

    public IReadOnlyList<string> All(string name) { _used.Add(name); return _values.TryGetValue(name, out var l) ? l : []; }
    public string? Get(string name) => All(name) is [.., var last] ? last : null;
    public string Required(string name) => Get(name) ?? throw new ArgumentException($"--{name} is required");
    public bool Flag(string name) => Get(name) is { } v && v != "false";
    public int Int(string name, int d) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : d;
    public long Long(string name, long d) => Get(name) is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : d;
    public double Double(string name, double d) => Get(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : d;

    /// <summary>"90m", "2h", "45s", "1:30:00".</summary>
    public TimeSpan? Duration(string name) => Get(name) is not { } v ? null : v[^1] switch
    {
        'h' => TimeSpan.FromHours(double.Parse(v[..^1], CultureInfo.InvariantCulture)),
        'm' => TimeSpan.FromMinutes(double.Parse(v[..^1], CultureInfo.InvariantCulture)),
        's' => TimeSpan.FromSeconds(double.Parse(v[..^1], CultureInfo.InvariantCulture)),
        _ => TimeSpan.Parse(v, CultureInfo.InvariantCulture),
    };

    /// <summary>Fails on options that no command read, so a typo is not silently ignored.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException("unknown option(s): " + string.Join(", ", unknown.Select(u => "--" + u)));
    }
}
