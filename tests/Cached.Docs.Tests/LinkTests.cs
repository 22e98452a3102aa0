using System.Text.RegularExpressions;
using Cached.Docs.Tests.Infrastructure;

namespace Cached.Docs.Tests;

/// <summary>Every relative link of README.md and docs/*.md lands on a file, folder or heading that exists.</summary>
public sealed partial class LinkTests
{
    [GeneratedRegex(@"(?<!!)\[(?<text>[^\]]+)\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^ *```.*?^ *```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedCode();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^#{1,6} +(?<title>.+?) *$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    public static IEnumerable<TestCaseData> Pages()
        => Repository.Markdown.Select(static f => new TestCaseData(f.File).SetArgDisplayNames(f.File));

    [TestCaseSource(nameof(Pages))]
    public void Relative_links_resolve(string page)
    {
        var text = File.ReadAllText(Repository.PathOf(page)).ReplaceLineEndings("\n");
        var prose = InlineCode().Replace(FencedCode().Replace(text, ""), "");
        var broken = new List<string>();
        foreach (Match link in Link().Matches(prose))
        {
            var target = link.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var pathPart = hash < 0 ? target : target[..hash];
            var anchor = hash < 0 ? null : target[(hash + 1)..];
            var resolved = pathPart.Length == 0
                ? Repository.PathOf(page)
                : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Repository.PathOf(page))!, pathPart));
            if (!File.Exists(resolved) && !Directory.Exists(resolved))
            {
                broken.Add($"[{link.Groups["text"].Value}]({target}): {Repository.Relative(resolved)} does not exist");
                continue;
            }

            if (anchor is not null && resolved.EndsWith(".md", StringComparison.Ordinal) && !Anchors(resolved).Contains(anchor))
            {
                broken.Add($"[{link.Groups["text"].Value}]({target}): {Repository.Relative(resolved)} has no heading '#{anchor}'");
            }
        }

        Assert.That(broken, Is.Empty, () => $"{page} has broken links:\n  " + string.Join("\n  ", broken));
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> Anchors(string path)
    {
        var text = FencedCode().Replace(File.ReadAllText(path).ReplaceLineEndings("\n"), "");
        return Heading().Matches(text)
            .Select(static m => new string(m.Groups["title"].Value.ToLowerInvariant()
                .Where(static c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_')
                .Select(static c => c == ' ' ? '-' : c).ToArray()))
            .ToHashSet(StringComparer.Ordinal);
    }
}
