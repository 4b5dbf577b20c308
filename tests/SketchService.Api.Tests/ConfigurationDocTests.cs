using System.Globalization;
using System.Text.RegularExpressions;
using SketchService.Api;

namespace SketchService.Api.Tests;

/// <summary>docs/configuration.md is the one settings table: it names every setting with the default the code has.</summary>
public sealed partial class ConfigurationDocTests
{
    [Fact]
    public void The_settings_table_names_every_setting_with_its_default()
    {
        var doc = File.ReadAllText(Path.Combine(SharedData.RepoRoot, "docs", "configuration.md"));
        var rows = SettingRow().Matches(doc).ToDictionary(m => m.Groups["key"].Value, m => m.Groups["value"].Value);
        var defaults = new SketchServiceOptions();
        var settings = typeof(SketchServiceOptions).GetProperties().Where(p => p.CanWrite).ToArray();
        Assert.Equal(settings.Select(p => p.Name).Order(), rows.Keys.Where(k => settings.Any(p => p.Name == k)).Order());
        Assert.Equal(settings.Length, rows.Count);
        Assert.All(settings, p =>
        {
            var documented = rows[p.Name];
            switch (p.GetValue(defaults))
            {
                case null: Assert.StartsWith("*(", documented); break;
                case string s: Assert.Equal($"`{s}`", documented); break;
                case bool b: Assert.Equal(b ? "`true`" : "`false`", documented); break;
                case var number:
                    var value = double.Parse(documented.Trim('`'), CultureInfo.InvariantCulture);
                    Assert.True(Convert.ToDouble(number, CultureInfo.InvariantCulture) == value, $"{p.Name}: the code says {number}, the table {documented}");
                    break;
            }
        });
    }

    [GeneratedRegex(@"^\| `(?<key>[A-Za-z]+)` \| (?<value>[^|]+?) \|", RegexOptions.Multiline)]
    private static partial Regex SettingRow();
}
