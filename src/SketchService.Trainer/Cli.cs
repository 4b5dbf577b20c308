using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SketchService.Trainer;

/// <summary>Typed System.CommandLine options whose bad values fail with the option's name and what it expects.</summary>
public static partial class Cli
{
    /// <summary>An option parsed by <paramref name="parse"/>; a <see cref="FormatException"/> from it becomes the parse error.</summary>
    public static Option<T> Option<T>(string name, string description, Func<string, T> parse, Func<T>? defaultValue = null, string? helpName = null)
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = r =>
            {
                try { return parse(r.Tokens[^1].Value); }
                catch (FormatException e)
                {
                    r.AddError($"{name}: {e.Message}");
                    return default!;
                }
            },
        };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue();
        return option;
    }

    public static int PositiveInt(string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v : throw new FormatException($"'{s}' is not a whole number ≥ 1");

    public static long PositiveLong(string s) =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v : throw new FormatException($"'{s}' is not a whole number ≥ 1");

    public static int Int(string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"'{s}' is not a whole number");

    /// <summary>A finite number in [0, max].</summary>
    public static double Real(string s, double max) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0 && v <= max
            ? v : throw new FormatException($"'{s}' is not a number from 0 to {(double.IsFinite(max) ? max.ToString(CultureInfo.InvariantCulture) : "∞")}");

    public const string DurationExamples = "90m, 2h, 45s, 2h30m or 1:30:00";

    /// <summary>
    /// "90m", "2h", "45s", "1.5h", "2h30m" or h:mm:ss. A bare number is refused rather than given a unit: TimeSpan.Parse
    /// reads "20" as 20 days, where 20 minutes is likelier meant.
    /// </summary>
    public static TimeSpan Duration(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        TimeSpan? d = null;
        if (Clock().Match(s) is { Success: true } c)
            d = new TimeSpan(int.Parse(c.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(c.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(c.Groups[3].Value, CultureInfo.InvariantCulture));
        else if (s.Length > 0 && Units().Match(s) is { Success: true } u)
            d = TimeSpan.FromHours(Number(u.Groups[1])) + TimeSpan.FromMinutes(Number(u.Groups[2])) + TimeSpan.FromSeconds(Number(u.Groups[3]));
        if (d is null)
            throw new FormatException(double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? $"'{text}' has no unit; write it with one, e.g. {DurationExamples}"
                : $"'{text}' is not a duration like {DurationExamples}");
        return d > TimeSpan.Zero ? d.Value : throw new FormatException($"'{text}' is not a positive duration");
    }

    private static double Number(Group g) => g.Success ? double.Parse(g.Value, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^(\d+):([0-5]?\d):([0-5]?\d)$")]
    private static partial Regex Clock();

    [GeneratedRegex(@"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")]
    private static partial Regex Units();
}
