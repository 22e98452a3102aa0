using System.Runtime.CompilerServices;

namespace Cached.Docs.Tests.Infrastructure;

/// <summary>The repository this test runs in: its root, and the markdown files whose code is checked.</summary>
internal static class Repository
{
    private static readonly Lazy<string> s_root = new(FindRoot);
    private static readonly Lazy<IReadOnlyList<MarkdownFile>> s_markdown = new(ReadMarkdown);

    public static string Root => s_root.Value;

    /// <summary>README.md and every docs/*.md, parsed.</summary>
    public static IReadOnlyList<MarkdownFile> Markdown => s_markdown.Value;

    public static string PathOf(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');

    private static IReadOnlyList<MarkdownFile> ReadMarkdown()
    {
        var files = new List<string> { PathOf("README.md") };
        files.AddRange(Directory.GetFiles(PathOf("docs"), "*.md").Order(StringComparer.Ordinal));
        return files.Select(static f => MarkdownFile.Parse(Relative(f), File.ReadAllText(f))).ToList();
    }

    private static string FindRoot() => FindRootFrom(CallerFolder());

    private static string CallerFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path) ?? "";

    private static string FindRootFrom(string callerFolder)
    {
        // The test binary's folder first (it is under the clone); CI may map source paths (/_/...), so the caller's
        // path is only the fallback.
        foreach (var start in new[] { AppContext.BaseDirectory, callerFolder })
        {
            for (var folder = start; !string.IsNullOrEmpty(folder); folder = Path.GetDirectoryName(folder))
            {
                if (File.Exists(Path.Combine(folder, "Cached.sln")) && File.Exists(Path.Combine(folder, "README.md")))
                {
                    return folder;
                }
            }
        }

        throw new InvalidOperationException($"The repository root (the folder of Cached.sln) was not found above {AppContext.BaseDirectory} or {callerFolder}");
    }
}
