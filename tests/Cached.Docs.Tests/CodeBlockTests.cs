using Cached.Docs.Tests.Infrastructure;

namespace Cached.Docs.Tests;

/// <summary>
/// Every <c>```csharp</c> block of README.md and docs/*.md compiles against the real Cached assemblies and generator,
/// so the docs cannot drift from the API. How a block is treated is written in the markdown, in HTML comments that
/// do not render, just before the block:
/// <list type="bullet">
/// <item><c>&lt;!-- docs-test: prelude ... --&gt;</c>: C# compiled before the block (the <c>cache</c> or <c>User</c>
/// a fragment talks about). <c>file-prelude</c>: the same for every block of the file, wherever it stands.</item>
/// <item><c>&lt;!-- docs-test: snapshot Name --&gt;</c>: the block shows generated code; it must equal
/// <c>tests/Cached.Generators.Tests/Snapshots/Name.verified.cs</c>. With <c>CACHED_ACCEPT_SNAPSHOTS=1</c> the test
/// copies the snapshot into the markdown instead.</item>
/// <item><c>&lt;!-- docs-test: stub Name --&gt;</c>: adds <c>Stubs/Name.cs</c>, the few members of a package this
/// repository does not reference.</item>
/// <item><c>&lt;!-- docs-test: skip reason --&gt;</c>: only for a block that is not C# meant to compile.</item>
/// </list>
/// </summary>
public sealed class CodeBlockTests
{
    private const string AcceptVariable = "CACHED_ACCEPT_SNAPSHOTS";

    public static IEnumerable<TestCaseData> CSharpBlocks()
        => Repository.Markdown
            .SelectMany(static file => file.Blocks.Where(static b => b.IsCSharp))
            .Select(static block => new TestCaseData(block).SetArgDisplayNames($"{block.File}:{block.FenceLine}"));

    [TestCaseSource(nameof(CSharpBlocks))]
    public void A_csharp_block_compiles_or_matches_its_snapshot(object blockArgument)
    {
        var block = (CodeBlock)blockArgument;
        if (block.SkipReason is { } reason)
        {
            Assert.Ignore($"{block} is not compiled: {reason}");
        }

        if (block.Snapshot is { } snapshot)
        {
            VerifySnapshot(block, snapshot);
            return;
        }

        var file = Repository.Markdown.Single(f => f.File == block.File);
        var outcome = DocCompiler.Compile(block, file.FilePreludes);
        Assert.That(outcome.Problems, Is.Empty, () =>
            $"{block} does not compile:\n  {string.Join("\n  ", outcome.Problems)}\n\nThe source compiled (with #line pointing into {block.File}):\n{outcome.NumberedSource()}");
    }

    [Test]
    public void The_docs_test_directives_are_well_formed()
    {
        var problems = Repository.Markdown.SelectMany(static f => f.Problems).ToList();
        Assert.That(problems, Is.Empty, () => string.Join("\n", problems));
    }

    [Test]
    public void Every_page_is_read_and_blocks_are_found()
    {
        var files = Repository.Markdown.Select(static f => f.File).ToList();
        Assert.That(files, Does.Contain("README.md").And.Contain("docs/testing.md"));
        var compiled = Repository.Markdown.SelectMany(static f => f.Blocks).Count(static b => b.IsCSharp && b.SkipReason is null && b.Snapshot is null);
        Assert.That(compiled, Is.GreaterThan(20), "the extraction found too few C# blocks: is the fence syntax still ```csharp?");
    }

    [Test]
    public void Json_blocks_are_valid_json()
    {
        foreach (var block in Repository.Markdown.SelectMany(static f => f.Blocks).Where(static b => b.Language == "json"))
        {
            Assert.DoesNotThrow(() => System.Text.Json.JsonDocument.Parse(block.Code, new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip }).Dispose(), $"{block} is not valid JSON");
        }
    }

    private static void VerifySnapshot(CodeBlock block, string name)
    {
        var path = Repository.PathOf($"tests/Cached.Generators.Tests/Snapshots/{name}.verified.cs");
        Assert.That(File.Exists(path), Is.True, $"{block} names snapshot '{name}', but {Repository.Relative(path)} does not exist");
        var expected = Normalize(File.ReadAllText(path));
        var actual = Normalize(block.Code);
        if (expected == actual)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            ReplaceBlock(block, expected);
            return;
        }

        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var first = Enumerable.Range(0, Math.Max(expectedLines.Length, actualLines.Length))
            .First(i => i >= expectedLines.Length || i >= actualLines.Length || expectedLines[i] != actualLines[i]);
        Assert.Fail(
            $"{block} shows generated code that differs from {Repository.Relative(path)}, first at line {block.FirstLine + first} of {block.File}:\n" +
            $"  docs:     {(first < actualLines.Length ? actualLines[first] : "(end of block)")}\n" +
            $"  snapshot: {(first < expectedLines.Length ? expectedLines[first] : "(end of file)")}\n" +
            $"Copy the snapshot into the block, or run with {AcceptVariable}=1 to let this test do it.");
    }

    private static string Normalize(string text)
        => string.Join('\n', text.ReplaceLineEndings("\n").Split('\n').Select(static l => l.TrimEnd())).Trim('\n');

    /// <summary>Writes <paramref name="code"/> over the block's lines, keeping the block's indent.</summary>
    private static void ReplaceBlock(CodeBlock block, string code)
    {
        var path = Repository.PathOf(block.File);
        var lines = File.ReadAllText(path).ReplaceLineEndings("\n").Split('\n').ToList();
        var indent = new string(' ', block.Indent);
        lines.RemoveRange(block.FirstLine - 1, block.LastLine - block.FirstLine + 1);
        lines.InsertRange(block.FirstLine - 1, code.Split('\n').Select(l => l.Length == 0 ? l : indent + l));
        File.WriteAllText(path, string.Join('\n', lines));
    }
}
