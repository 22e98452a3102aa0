namespace Cached.Generators.Tests;

/// <summary>
/// Generated statements are filled, not one item a line: few lines (each is compile time a user pays for), none over
/// 120 characters, broken only where C# reads well.
/// </summary>
public sealed class CodeWriterTests
{
    [Test]
    public void A_statement_that_fits_stays_on_one_line()
    {
        var writer = new CodeWriter();
        writer.Filled("return __cached_M.Invoke(__key.Close(), id, static __state => MCore(__state), null);");

        Assert.That(Lines(writer), Is.EqualTo(new[] { "return __cached_M.Invoke(__key.Close(), id, static __state => MCore(__state), null);" }));
    }

    [Test]
    public void A_long_statement_breaks_after_the_last_comma_that_fits_and_continues_one_level_deeper()
    {
        var writer = new CodeWriter();
        var arguments = string.Join(", ", Enumerable.Range(1, 20).Select(static i => $"argument{i:D2}"));
        writer.Filled($"return Call({arguments});");

        var lines = Lines(writer);
        Assert.That(lines, Has.Count.EqualTo(3));
        Assert.That(lines, Has.All.Length.LessThanOrEqualTo(CodeWriter.MaxLineLength));
        Assert.That(lines[0], Does.StartWith("return Call(argument01,").And.EndWith(","));
        Assert.That(lines[1], Does.StartWith("    argument"));
        Assert.That(string.Join(" ", lines.Select(static l => l.Trim())), Is.EqualTo($"return Call({arguments});"));
    }

    [Test]
    public void A_lambda_parameter_list_and_a_literal_are_never_broken()
    {
        var writer = new CodeWriter();
        var literal = "\"" + string.Join(", ", Enumerable.Range(1, 20).Select(static i => $"part{i}")) + "\"";
        writer.Filled($"return __cached_LongName.InvokeAsync(__key.Close(), (self: this, first, second), static (__state, __ct) => Call({literal}), null, ct);");

        var lines = Lines(writer);
        Assert.That(lines.Any(static l => l.Contains("static (__state, __ct) =>", StringComparison.Ordinal)), Is.True);
        Assert.That(lines.Count(static l => l.Contains(", part", StringComparison.Ordinal)), Is.EqualTo(1), "the literal stays whole");
    }

    [Test]
    public void A_declaration_breaks_after_its_equals_sign_or_before_its_expression_body()
    {
        var writer = new CodeWriter();
        writer.Filled("private static readonly global::Cached.Runtime.CachedMethod<global::Some.Namespace.Result> __cached_Method = Create(first, second);");
        writer.ExpressionBodied("private static string __CachedKey_AVeryLongMethodNameThatTakesSpace(int first, int second)", "Key.Write(first, second).Finish()");

        var lines = Lines(writer);
        Assert.That(lines, Has.All.Length.LessThanOrEqualTo(CodeWriter.MaxLineLength));
        Assert.That(lines[0], Does.EndWith("="));
        Assert.That(lines[1].TrimStart(), Is.EqualTo("Create(first, second);"));
        Assert.That(lines[3].TrimStart(), Does.StartWith("=> Key.Write("));
    }

    private static List<string> Lines(CodeWriter writer)
        => writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
}

/// <summary>A key template's format is copied into a regular interpolated string: its escapes must survive.</summary>
public sealed class TemplateFormatTests
{
    [Test]
    public void A_format_with_an_escaped_colon_compiles_and_writes_the_invariant_text()
    {
        // Regression: `{span:hh\:mm}` was copied unescaped into $"...", and the generated file did not compile (CS1009).
        const string source = """
            using System;
            using Cached;

            namespace Demo;

            public partial class Clock
            {
                [Cached(Key = @"at:{span:hh\:mm}")]
                public partial string At(TimeSpan span);
                private string AtCore(TimeSpan span) => span.ToString();
            }
            """;

        var run = Infrastructure.GeneratorRunner.Run(source);

        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources.Single().Value, Does.Contain("""$"at:{span:hh\\:mm}" """.TrimEnd()));
    }
}
