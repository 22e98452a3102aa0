using System.Reflection;
using System.Text.RegularExpressions;
using Cached.Docs.Tests.Infrastructure;
using Cached.Generators;
using Microsoft.CodeAnalysis;

namespace Cached.Docs.Tests;

/// <summary>docs/diagnostics.md has a section for every diagnostic the generator can report, and for no other.</summary>
public sealed partial class DiagnosticsPageTests
{
    [GeneratedRegex(@"^## (?<id>CACHED\d{3})\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    private static IReadOnlyList<DiagnosticDescriptor> Descriptors()
    {
        // The catalog is internal to the generator; its All property is the list the generator reports from.
        var type = typeof(CachedGenerator).Assembly.GetType("Cached.Generators.DiagnosticDescriptors", throwOnError: true)!;
        var all = type.GetProperty("All", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!;
        return ((IEnumerable<DiagnosticDescriptor>)all.GetValue(null)!).OrderBy(static d => d.Id, StringComparer.Ordinal).ToList();
    }

    private static string Page => File.ReadAllText(Repository.PathOf("docs/diagnostics.md")).ReplaceLineEndings("\n");

    [Test]
    public void Every_diagnostic_has_a_section_and_every_section_a_diagnostic()
    {
        var documented = Heading().Matches(Page).Select(static m => m.Groups["id"].Value).ToList();
        var reported = Descriptors().Select(static d => d.Id).Distinct().ToList();
        Assert.That(documented, Is.EqualTo(reported), "docs/diagnostics.md should have one '## CACHEDnnn' heading per descriptor of DiagnosticDescriptors.cs, in order");
    }

    [Test]
    public void Help_links_point_at_the_sections()
    {
        var anchors = Heading().Matches(Page).Select(static m => m.Groups["id"].Value.ToLowerInvariant()).ToHashSet();
        foreach (var descriptor in Descriptors())
        {
            Assert.That(descriptor.HelpLinkUri, Does.StartWith("docs/diagnostics.md#"), descriptor.Id);
            Assert.That(anchors, Does.Contain(descriptor.HelpLinkUri["docs/diagnostics.md#".Length..]), $"{descriptor.Id}'s help link {descriptor.HelpLinkUri} has no heading to land on");
        }
    }

    [Test]
    public void Each_section_opens_with_the_severity_and_title_of_its_diagnostic()
    {
        var page = Page;
        foreach (var descriptor in Descriptors())
        {
            var start = page.IndexOf($"## {descriptor.Id}\n", StringComparison.Ordinal);
            Assert.That(start, Is.GreaterThanOrEqualTo(0), descriptor.Id);
            var end = page.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            var section = end < 0 ? page[start..] : page[start..end];
            var severity = descriptor.DefaultSeverity == DiagnosticSeverity.Warning ? "Warning" : "Error";
            var lead = $"**{severity}: {descriptor.Title}.**";
            Assert.That(section, Does.Contain(lead), $"the section of {descriptor.Id} should open with {lead}, as the IDE shows it");
        }
    }
}
