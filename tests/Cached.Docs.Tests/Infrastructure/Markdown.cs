using System.Text.RegularExpressions;

namespace Cached.Docs.Tests.Infrastructure;

/// <summary>A fenced code block of a markdown file, with the <c>docs-test</c> directives written just before it.</summary>
/// <param name="File">The markdown file, relative to the repository root, with <c>/</c> separators.</param>
/// <param name="Number">The block's position among the file's code blocks, from 1.</param>
/// <param name="FenceLine">The line of the opening fence, from 1.</param>
/// <param name="FirstLine">The line of the block's first line of code, from 1.</param>
/// <param name="Indent">How many spaces the fence is indented (a block inside a list item); removed from every line.</param>
/// <param name="Language">The fence's info string: <c>csharp</c>, <c>json</c>, ...</param>
/// <param name="Code">The code, without the indent.</param>
internal sealed record CodeBlock(
    string File,
    int Number,
    int FenceLine,
    int FirstLine,
    int LastLine,
    int Indent,
    string Language,
    string Code,
    IReadOnlyList<Directive> Directives)
{
    public bool IsCSharp => Language is "csharp" or "cs" or "c#";

    public IEnumerable<Directive> Preludes => Directives.Where(static d => d.Verb == Directive.Prelude);

    public string? SkipReason => Directives.FirstOrDefault(static d => d.Verb == Directive.Skip)?.Argument;

    public string? Snapshot => Directives.FirstOrDefault(static d => d.Verb == Directive.Snapshot)?.Argument;

    public IEnumerable<string> Stubs => Directives.Where(static d => d.Verb == Directive.Stub).Select(static d => d.Argument);

    public override string ToString() => $"{File} block {Number} (line {FenceLine})";
}

/// <summary>
/// An HTML comment <c>&lt;!-- docs-test: verb argument --&gt;</c>, invisible on the rendered page, that tells the doc
/// test how to treat the code block after it (or, for <c>file-prelude</c>, every C# block of the file).
/// </summary>
/// <param name="Line">The line where the argument starts, from 1, so that errors in a prelude point into the markdown.</param>
internal sealed record Directive(string Verb, string Argument, string File, int Line)
{
    /// <summary>C# compiled before the block (usings, statements, types): the context a fragment needs.</summary>
    public const string Prelude = "prelude";

    /// <summary>A prelude for every C# block of the file, wherever the comment stands.</summary>
    public const string FilePrelude = "file-prelude";

    /// <summary>The block is not C# meant to compile (a console transcript, pseudo-code); the argument says why.</summary>
    public const string Skip = "skip";

    /// <summary>The block shows generated code: it must equal <c>tests/Cached.Generators.Tests/Snapshots/&lt;argument&gt;.verified.cs</c>.</summary>
    public const string Snapshot = "snapshot";

    /// <summary>Adds <c>Stubs/&lt;argument&gt;.cs</c>: the small API of a package this repository does not reference.</summary>
    public const string Stub = "stub";

    public static readonly IReadOnlySet<string> Verbs = new HashSet<string>(StringComparer.Ordinal) { Prelude, FilePrelude, Skip, Snapshot, Stub };
}

/// <summary>A markdown file's code blocks and file preludes, and the misplaced or malformed directives found on the way.</summary>
internal sealed record MarkdownFile(string File, IReadOnlyList<CodeBlock> Blocks, IReadOnlyList<Directive> FilePreludes, IReadOnlyList<string> Problems)
{
    private static readonly Regex s_fence = new(@"^(?<indent> *)```(?<lang>[^`\s]*)\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex s_close = new(@"^ *```\s*$", RegexOptions.CultureInvariant);
    private const string Marker = "docs-test:";

    public static MarkdownFile Parse(string relativePath, string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        var blocks = new List<CodeBlock>();
        var filePreludes = new List<Directive>();
        var problems = new List<string>();
        var pending = new List<Directive>();

        void Orphaned(int line)
        {
            foreach (var directive in pending)
            {
                problems.Add($"{relativePath}({directive.Line}): 'docs-test: {directive.Verb}' is not followed by a code block (line {line} comes first)");
            }

            pending.Clear();
        }

        var i = 0;
        while (i < lines.Length)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("<!--", StringComparison.Ordinal))
            {
                var start = i;
                var comment = new List<string> { trimmed };
                while (!lines[i].Contains("-->", StringComparison.Ordinal) && i + 1 < lines.Length)
                {
                    i++;
                    comment.Add(lines[i]);
                }

                i++;
                var body = string.Join('\n', comment);
                body = body[4..body.LastIndexOf("-->", StringComparison.Ordinal)];
                if (!body.TrimStart().StartsWith(Marker, StringComparison.Ordinal))
                {
                    // Any other comment is page content: directives before it are not "just before" a block.
                    Orphaned(start + 1);
                    continue;
                }

                var directive = ParseDirective(relativePath, start + 1, body, problems);
                if (directive is null)
                {
                    continue;
                }

                if (directive.Verb == Directive.FilePrelude)
                {
                    filePreludes.Add(directive);
                }
                else
                {
                    pending.Add(directive);
                }

                continue;
            }

            var fence = s_fence.Match(line);
            if (fence.Success)
            {
                var indent = fence.Groups["indent"].Length;
                var language = fence.Groups["lang"].Value.ToLowerInvariant();
                var end = i + 1;
                while (end < lines.Length && !s_close.IsMatch(lines[end]))
                {
                    end++;
                }

                if (end == lines.Length)
                {
                    problems.Add($"{relativePath}({i + 1}): the code block is never closed");
                }

                var code = string.Join('\n', lines[(i + 1)..Math.Min(end, lines.Length)].Select(l => Unindent(l, indent)));
                var block = new CodeBlock(relativePath, blocks.Count + 1, i + 1, i + 2, end, indent, language, code, pending.ToList());
                if (pending.Count > 0 && !block.IsCSharp)
                {
                    problems.Add($"{relativePath}({i + 1}): docs-test directives stand before a '{language}' block; they apply to C# blocks only");
                }

                pending.Clear();
                blocks.Add(block);
                i = end + 1;
                continue;
            }

            if (trimmed.Length > 0)
            {
                Orphaned(i + 1);
            }

            i++;
        }

        Orphaned(lines.Length);
        foreach (var block in blocks.Where(static b => b.IsCSharp))
        {
            var kinds = block.Directives.Count(static d => d.Verb is Directive.Skip or Directive.Snapshot);
            if (kinds > 1)
            {
                problems.Add($"{block}: at most one of 'skip' and 'snapshot'");
            }

            if (kinds == 1 && block.Directives.Any(static d => d.Verb is Directive.Prelude or Directive.Stub))
            {
                problems.Add($"{block}: a skipped or snapshot block is not compiled, so it takes no prelude or stub");
            }
        }

        return new MarkdownFile(relativePath, blocks, filePreludes, problems);
    }

    private static Directive? ParseDirective(string file, int line, string body, List<string> problems)
    {
        // "docs-test: verb rest-of-line\nmore lines": the argument is everything after the verb.
        var text = body.TrimStart();
        var offsetLines = body[..(body.Length - text.Length)].Count(static c => c == '\n');
        text = text[Marker.Length..].TrimStart(' ', '\t');
        var verbEnd = 0;
        while (verbEnd < text.Length && !char.IsWhiteSpace(text[verbEnd]))
        {
            verbEnd++;
        }

        var verb = text[..verbEnd];
        var argument = text[verbEnd..];
        var argumentLine = line + offsetLines;
        if (argument.StartsWith(' ') || argument.StartsWith('\t'))
        {
            argument = argument.TrimStart(' ', '\t');
        }

        if (argument.StartsWith('\n'))
        {
            argument = argument[1..];
            argumentLine++;
        }

        argument = argument.TrimEnd();
        if (!Directive.Verbs.Contains(verb))
        {
            problems.Add($"{file}({line}): unknown directive 'docs-test: {verb}'; use one of {string.Join(", ", Directive.Verbs)}");
            return null;
        }

        if (argument.Length == 0)
        {
            problems.Add($"{file}({line}): 'docs-test: {verb}' needs an argument");
            return null;
        }

        return new Directive(verb, argument, file, argumentLine);
    }

    private static string Unindent(string line, int indent)
    {
        var spaces = 0;
        while (spaces < indent && spaces < line.Length && line[spaces] == ' ')
        {
            spaces++;
        }

        return line[spaces..];
    }
}
