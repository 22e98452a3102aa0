using Cached.Docs.Tests.Infrastructure;

namespace Cached.Docs.Tests;

/// <summary>The doc test itself: it finds blocks and directives, and it fails where the docs are wrong.</summary>
public sealed class HarnessTests
{
    private static CodeBlock OnlyBlock(string markdown)
    {
        var file = MarkdownFile.Parse("docs/example.md", markdown);
        Assert.That(file.Problems, Is.Empty);
        return file.Blocks.Single();
    }

    private static CompileOutcome Compile(string markdown)
    {
        var file = MarkdownFile.Parse("docs/example.md", markdown);
        Assert.That(file.Problems, Is.Empty);
        return DocCompiler.Compile(file.Blocks.Single(b => b.IsCSharp), file.FilePreludes);
    }

    [Test]
    public void A_block_in_a_list_item_is_found_with_its_lines_and_without_its_indent()
    {
        var block = OnlyBlock("# Title\n\n- item:\n\n  ```csharp\n  var x = 1;\n  ```\n");
        Assert.That((block.Language, block.FenceLine, block.FirstLine, block.LastLine, block.Indent, block.Code), Is.EqualTo(("csharp", 5, 6, 6, 2, "var x = 1;")));
    }

    [Test]
    public void Statements_and_types_in_any_order_compile_together()
    {
        var outcome = Compile("```csharp\nusing Cached;\nvar a = new A();\npublic sealed class A;\nConsole.WriteLine(a);\n```\n");
        Assert.That(outcome.Problems, Is.Empty, outcome.NumberedSource);
    }

    [Test]
    public void An_error_names_the_markdown_file_and_line()
    {
        var outcome = Compile("# Title\n\n```csharp\nvar x = 1;\nConsole.WriteLine(y);\n```\n");
        Assert.That(outcome.Problems, Has.Some.StartsWith("docs/example.md(5,19): error CS0103"));
    }

    [Test]
    public void A_prelude_gives_the_block_its_context_and_an_error_in_it_names_its_line()
    {
        Assert.That(Compile("<!-- docs-test: prelude\nvar cache = new Cached.SimpleMemoryCache();\n-->\n```csharp\ncache.Set(\"k\", 1);\n```\n").Problems, Is.Empty);
        Assert.That(Compile("<!-- docs-test: prelude\nvar cache = new Missing();\n-->\n```csharp\ncache.Set(\"k\", 1);\n```\n").Problems, Has.Some.StartsWith("docs/example.md(2,17): error CS0246"));
    }

    [Test]
    public void A_generator_warning_fails_the_block()
    {
        var outcome = Compile("""
            ```csharp
            using Cached;

            public sealed class Plain;

            public partial class Service
            {
                [Cached]
                public partial string Get(Plain plain);

                private string GetCore(Plain plain) => "";
            }
            ```
            """);
        Assert.That(outcome.Problems, Has.Some.Contains("warning CACHED012"));
    }

    [Test]
    public void A_cached_method_in_a_block_gets_its_generated_body()
    {
        var outcome = Compile("""
            ```csharp
            using Cached;

            Console.WriteLine(new Service().Get(1));

            public partial class Service
            {
                [Cached(Ttl = 10, Key = "item:{id}")]
                public partial string Get(int id);

                private string GetCore(int id) => id.ToString();
            }
            ```
            """);
        Assert.That(outcome.Problems, Is.Empty, outcome.NumberedSource);
    }

    [Test]
    public void A_body_elided_as_dots_compiles()
    {
        var outcome = Compile("```csharp\npublic sealed class A\n{\n    public int Get(int id) { ... }\n}\n```\n");
        Assert.That(outcome.Problems, Is.Empty, outcome.NumberedSource);
    }

    [Test]
    public void A_directive_that_stands_before_prose_is_reported()
    {
        var file = MarkdownFile.Parse("docs/example.md", "<!-- docs-test: skip not C# -->\nSome prose.\n\n```csharp\nvar x = 1;\n```\n");
        Assert.That(file.Problems, Has.Some.Contains("docs/example.md(1): 'docs-test: skip' is not followed by a code block"));
    }

    [Test]
    public void An_unknown_directive_is_reported()
    {
        var file = MarkdownFile.Parse("docs/example.md", "<!-- docs-test: skipp typo -->\n```csharp\nvar x = 1;\n```\n");
        Assert.That(file.Problems, Has.Some.Contains("unknown directive 'docs-test: skipp'"));
    }

    [Test]
    public void A_skip_needs_a_reason()
    {
        var file = MarkdownFile.Parse("docs/example.md", "<!-- docs-test: skip -->\n```csharp\nvar x = 1;\n```\n");
        Assert.That(file.Problems, Has.Some.Contains("'docs-test: skip' needs an argument"));
    }
}
