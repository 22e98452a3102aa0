using System.Globalization;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators.Tests;

/// <summary>
/// One test per misuse the generator reports (CACHED001...CACHED026): the exact id, severity, location (the syntax
/// at fault, as the compiler would report it: the attribute argument, the parameter, the return type; marked
/// <c>[|...|]</c> in the source) and the message.
/// </summary>
public sealed partial class DiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;
        using Cached.Plugins;
        using Cached.Serializers;
        namespace Demo;
        public sealed record User(int Id, string Name);

        """;

    /// <summary>The source without its markers, and the spans they marked: the syntax at fault.</summary>
    private sealed record Marked(string Source, IReadOnlyList<TextSpan> Spans);

    private static Marked Mark(string body)
    {
        var source = Prelude + body;
        var spans = new List<TextSpan>();
        for (var open = source.IndexOf("[|", StringComparison.Ordinal); open >= 0; open = source.IndexOf("[|", open, StringComparison.Ordinal))
        {
            var close = source.IndexOf("|]", open, StringComparison.Ordinal);
            Assert.That(close, Is.GreaterThan(open), "a [| marker has no |] after it");
            source = source.Remove(close, 2).Remove(open, 2);
            spans.Add(new TextSpan(open, close - open - 2));
        }

        Assert.That(spans, Is.Not.Empty, "the source has no [|...|] marker");
        return new Marked(source, spans);
    }

    /// <summary>
    /// Runs the generator on a marked source and checks that it reports exactly <paramref name="ids"/>, each on a
    /// marked span, every marked span with a diagnostic.
    /// </summary>
    private static IReadOnlyList<Diagnostic> Expect(string body, DiagnosticSeverity severity, params string[] ids)
        => ExpectAt(LanguageVersion.Latest, body, severity, ids);

    /// <inheritdoc cref="Expect"/>
    /// <remarks>In a project whose <c>LangVersion</c> is <paramref name="version"/>.</remarks>
    private static IReadOnlyList<Diagnostic> ExpectAt(LanguageVersion version, string body, DiagnosticSeverity severity, params string[] ids)
    {
        var marked = Mark(body);
        var lines = SourceText.From(marked.Source).Lines;
        var run = GeneratorRunner.Run(version, marked.Source);
        var diagnostics = run.GeneratorDiagnostics.OrderBy(static d => d.Id, StringComparer.Ordinal).ToList();
        Assert.That(diagnostics.Select(static d => d.Id), Is.EqualTo(ids.OrderBy(static i => i, StringComparer.Ordinal)), () => "diagnostics: " + string.Join(Environment.NewLine, diagnostics));
        var expected = string.Join(" and ", marked.Spans.Select(span => $"'{marked.Source.Substring(span.Start, span.Length)}'"));
        foreach (var diagnostic in diagnostics)
        {
            var lineSpan = diagnostic.Location.GetLineSpan();
            using (Assert.EnterMultipleScope())
            {
                Assert.That(diagnostic.Severity, Is.EqualTo(severity), diagnostic.ToString());
                Assert.That(diagnostic.DefaultSeverity, Is.EqualTo(severity), diagnostic.ToString());
                Assert.That(lineSpan.Path, Is.EqualTo("Source0.cs"), diagnostic.ToString());
                Assert.That(diagnostic.Location.Kind, Is.EqualTo(LocationKind.SourceFile), $"{diagnostic} should be in a syntax tree, where #pragma applies");
                Assert.That(run.Input.SyntaxTrees, Does.Contain(diagnostic.Location.SourceTree), $"{diagnostic} should be in the compilation's own tree");
                Assert.That(marked.Spans, Does.Contain(diagnostic.Location.SourceSpan), $"{diagnostic} is on '{diagnostic.Location.SourceTree?.GetText().ToString(diagnostic.Location.SourceSpan)}', not on {expected}");
                Assert.That(lineSpan.Span, Is.EqualTo(lines.GetLinePositionSpan(diagnostic.Location.SourceSpan)), diagnostic.ToString());
            }
        }

        Assert.That(marked.Spans, Is.SubsetOf(diagnostics.Select(static d => d.Location.SourceSpan)), "every marked span has a diagnostic");
        return diagnostics;
    }

    private static string Single(string body, string id, DiagnosticSeverity severity = DiagnosticSeverity.Error)
        => Expect(body, severity, id)[0].GetMessage(CultureInfo.InvariantCulture);

    private static string[] Messages(IEnumerable<Diagnostic> diagnostics)
        => diagnostics.Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).OrderBy(static m => m, StringComparer.Ordinal).ToArray();

    // ---- The catalog ----

    [Test]
    public void Every_descriptor_has_a_catalog_id_the_Cached_category_a_description_and_a_help_link_to_its_anchor()
    {
        var all = DiagnosticDescriptors.All.ToList();
        var expectedIds = Enumerable.Range(1, 20).Select(static i => "CACHED" + i.ToString("D3", CultureInfo.InvariantCulture))
            .Append("CACHED021") // reported by JsonAotAnalyzer (JsonAotDiagnosticTests)
            .Append("CACHED022")
            .Append("CACHED023")
            .Append("CACHED024")
            .Append("CACHED025")
            .Append("CACHED026")
            .Append("CACHED027")
            .Append("CACHED028")
            .Append("CACHED029")
            .Append("CACHED030")
            .Append("CACHED031")
            .Append("CACHED032") // reported by JsonAotAnalyzer (JsonAotDiagnosticTests)
            .Append("CACHED033") // reported by JsonAotAnalyzer (JsonAotDiagnosticTests)
            .Append("CACHED034")
            .Append("CACHED035")
            .Append("CACHED036") // reported by JsonAotAnalyzer (JsonAotDiagnosticTests.Creations)
            .Append("CACHED037")
            .Append("CACHED038")
            .Append("CACHED039")
            .Append("CACHED040")
            .Append("CACHED041")
            .Append("CACHED042")
            .Append("CACHED043") // reported by SharedKeyAnalyzer (SharedKeyAnalyzerTests)
            .Append("CACHED044")
            .Append("CACHED045")
            .ToList();
        Assert.That(all.Select(static d => d.Id).Distinct().OrderBy(static id => id, StringComparer.Ordinal), Is.EqualTo(expectedIds));
        Assert.That(all, Is.Unique);
        // CACHED002 has a second message (a method to change rather than to add); one id is one rule, so its
        // descriptors agree on everything else.
        foreach (var rule in all.GroupBy(static d => d.Id).Where(static g => g.Count() > 1))
        {
            Assert.That(rule.Key, Is.EqualTo("CACHED002"));
            Assert.That(rule.Select(static d => (d.Title.ToString(CultureInfo.InvariantCulture), d.Description.ToString(CultureInfo.InvariantCulture), d.DefaultSeverity, d.HelpLinkUri)).Distinct().Count(), Is.EqualTo(1), rule.Key);
        }

        foreach (var descriptor in all)
        {
            using (Assert.EnterMultipleScope())
            {
                Assert.That(descriptor.Category, Is.EqualTo("Cached"), descriptor.Id);
                Assert.That(descriptor.HelpLinkUri, Does.EndWith("#" + descriptor.Id.ToLowerInvariant()), descriptor.Id);
                Assert.That(descriptor.IsEnabledByDefault, Is.True, descriptor.Id);
                Assert.That(descriptor.Title.ToString(CultureInfo.InvariantCulture), Is.Not.Empty, descriptor.Id);
                Assert.That(descriptor.MessageFormat.ToString(CultureInfo.InvariantCulture), Is.Not.Empty, descriptor.Id);
                Assert.That(descriptor.Description.ToString(CultureInfo.InvariantCulture), Does.EndWith("."), descriptor.Id);
                Assert.That(descriptor.DefaultSeverity, Is.EqualTo(descriptor.Id is "CACHED012" or "CACHED021" or "CACHED023" or "CACHED026" or "CACHED030" or "CACHED032" or "CACHED033" or "CACHED036" or "CACHED042" or "CACHED043" or "CACHED044" ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error), descriptor.Id);
            }
        }
    }

    [Test]
    public void A_method_with_an_error_generates_nothing_while_the_valid_methods_of_its_type_still_generate()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached]
                public partial User GetBroken(int id);

                [Cached(Ttl = 10)]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED002" }));
        Assert.That(run.Sources, Has.Count.EqualTo(1));
        var generated = run.Sources.Single().Value;
        Assert.That(generated, Does.Contain("GetUser("));
        Assert.That(generated, Does.Contain("GetUserCore("));
        Assert.That(generated, Does.Not.Contain("GetBroken"));
    }

    [Test]
    public void A_type_whose_only_method_has_an_error_generates_no_file()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Ttl = -1)]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED011" }));
        Assert.That(run.Sources, Is.Empty);
    }

    // ---- CACHED001 ----

    [Test]
    public void CACHED001_a_method_that_is_not_partial()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public User [|GetUser|](int id) => new(id, "name");
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED001");
        Assert.That(message, Is.EqualTo("'UserService.GetUser' must be declared 'partial' without a body, in types that are all 'partial' (not partial: the method), so that Cached can write its body"));
    }

    [Test]
    public void CACHED001_a_containing_type_that_is_not_partial()
    {
        var message = Single("""
            public class UserService
            {
                [Cached]
                public partial User [|GetUser|](int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED001");
        Assert.That(message, Does.Contain("(not partial: type UserService)"));
        Assert.That(message, Does.StartWith("'UserService.GetUser' must be declared 'partial'"));
    }

    [Test]
    public void CACHED001_an_outer_type_that_is_not_partial()
    {
        var message = Single("""
            public class Outer
            {
                public partial class UserService
                {
                    [Cached]
                    public partial User [|GetUser|](int id);
                    private User GetUserCore(int id) => new(id, "name");
                }
            }
            """, "CACHED001");
        Assert.That(message, Does.Contain("(not partial: type Outer)"));
        Assert.That(message, Does.Not.Contain("type UserService"));
    }

    [Test]
    public void CACHED001_lists_the_method_and_every_type_that_is_not_partial()
    {
        var message = Single("""
            public class Outer
            {
                public class UserService
                {
                    [Cached]
                    public User [|GetUser|](int id) => new(id, "name");
                }
            }
            """, "CACHED001");
        Assert.That(message, Does.Contain("(not partial: the method, type UserService, type Outer)"));
    }

    // ---- CACHED002 ----

    [Test]
    public void CACHED002_the_Core_method_is_missing()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial Task<User> [|GetUser|](int id);
            }
            """, "CACHED002");
        Assert.That(message, Is.EqualTo("'UserService.GetUser' needs the method that runs on a miss: add 'private Task<User> GetUserCore(int id)'"));
    }

    [Test]
    public void CACHED002_the_Core_method_has_another_signature()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial Task<User> [|GetUser|](int id, CancellationToken ct);
                private Task<User> GetUserCore(long id, CancellationToken ct) => Task.FromResult(new User((int)id, "name"));
            }
            """, "CACHED002");
        Assert.That(message, Is.EqualTo("'UserService.GetUser' runs 'GetUserCore' on a miss, but 'private Task<User> GetUserCore(long id, CancellationToken ct)' has another signature: change it to 'private Task<User> GetUserCore(int id, CancellationToken ct)'"));
    }

    [Test]
    public void CACHED002_the_Core_method_returns_another_type()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial ValueTask<User?> [|FindUser|](string name);
                private Task<User?> FindUserCore(string name) => Task.FromResult<User?>(null);
            }
            """, "CACHED002");
        Assert.That(message, Does.EndWith("but 'private Task<User?> FindUserCore(string name)' has another signature: change it to 'private ValueTask<User?> FindUserCore(string name)'"));
    }

    [Test]
    public void CACHED002_a_custom_Implementation_name_is_missing()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Implementation = [|"LoadUser"|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED002");
        Assert.That(message, Does.Contain("add 'private User LoadUser(int id)'"));
    }

    [Test]
    public void CACHED002_a_static_method_with_an_instance_Core()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public static partial User [|GetUser|](int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED002");
        Assert.That(message, Does.EndWith("but 'private User GetUserCore(int id)' has another signature: change it to 'private static User GetUserCore(int id)'"));
    }

    [Test]
    public void CACHED002_an_instance_method_with_a_static_Core()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial User [|GetUser|](int id);
                private static User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED002");
        Assert.That(message, Does.EndWith("but 'private static User GetUserCore(int id)' has another signature: change it to 'private User GetUserCore(int id)'"));
    }

    [Test]
    public void CACHED002_an_InvalidateCache_method_without_its_Core()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateCache(nameof(GetUser))]
                public partial Task [|Rename|](int id, string name);
            }
            """, "CACHED002");
        Assert.That(message, Does.Contain("add 'private Task RenameCore(int id, string name)'"));
    }

    // ---- CACHED003 ----

    [TestCase("ref int id", "a 'ref' parameter")]
    [TestCase("out int id", "an 'out' parameter")]
    [TestCase("in int id", "an 'in' parameter")]
    [TestCase("ref readonly int id", "a 'ref readonly' parameter")]
    [TestCase("Span<int> id", "a ref struct, which cannot outlive the call")]
    [TestCase("ReadOnlySpan<char> id", "a ref struct, which cannot outlive the call")]
    public void CACHED003_a_parameter_that_cannot_be_cached(string parameter, string problem)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached]
                public partial string Describe([|{{parameter}}|]);
                private string DescribeCore({{parameter}}) => throw new NotSupportedException();
            }
            """, "CACHED003");
        Assert.That(message, Does.StartWith("Parameter 'id' of 'UserService.Describe' is "));
        Assert.That(message, Does.Contain(problem));
        Assert.That(message, Does.EndWith(": a cached method cannot take it"));
    }

    [Test]
    public void CACHED003_a_second_CancellationToken_on_the_second_token_only()
    {
        // The runtime waits, and the body runs, under one token: a second one would cancel nothing.
        var message = Single("""
            public partial class UserService
            {
                [Cached(Lease = 30)]
                public partial Task<string> DescribeAsync(int id, CancellationToken requestAborted, [|CancellationToken operation|]);
                private Task<string> DescribeAsyncCore(int id, CancellationToken requestAborted, CancellationToken operation) => Task.FromResult("x");
            }
            """, "CACHED003");
        Assert.That(message, Does.StartWith("Parameter 'operation' of 'UserService.DescribeAsync' is a second CancellationToken"));
        Assert.That(message, Does.Contain("CreateLinkedTokenSource"));
    }

    [Test]
    public void CACHED003_a_parameter_named_with_two_leading_underscores()
    {
        // Regression: '__key' hid the generated key local (CS0136 inside the generated file), '__cached_M' the state field.
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial string Describe(int id, [|int __key|]);
                private string DescribeCore(int id, int __key) => "x";
            }
            """, "CACHED003");
        Assert.That(message, Does.StartWith("Parameter '__key' of 'UserService.Describe' is named with two leading underscores"));
        Assert.That(message, Does.Contain("__cached_Describe").And.Contain("rename it"));
    }

    [Test]
    public void CACHED003_a_pointer_in_an_unsafe_context()
    {
        var message = Single("""
            public unsafe partial class UserService
            {
                [Cached]
                public partial string Describe([|int* id|]);
                private string DescribeCore(int* id) => "x";
            }
            """, "CACHED003");
        Assert.That(message, Is.EqualTo("Parameter 'id' of 'UserService.Describe' is a pointer: a cached method cannot take it"));
    }

    [Test]
    public void CACHED003_is_reported_once_for_each_bad_parameter()
    {
        var diagnostics = Expect("""
            public partial class UserService
            {
                [Cached]
                public partial string Describe([|ref int a|], int ok, [|out int b|]);
                private string DescribeCore(ref int a, int ok, out int b) { b = 0; return "x"; }
            }
            """, DiagnosticSeverity.Error, "CACHED003", "CACHED003");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "Parameter 'a' of 'UserService.Describe' is a 'ref' parameter: a cached method cannot take it",
            "Parameter 'b' of 'UserService.Describe' is an 'out' parameter: a cached method cannot take it",
        }));
    }

    // ---- CACHED004 ----

    [TestCase("void", "void")]
    [TestCase("Task", "Task")]
    [TestCase("ValueTask", "ValueTask")]
    public void CACHED004_a_Cached_method_that_returns_no_value(string returnType, string shown)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached]
                public partial [|{{returnType}}|] Refresh(int id);
                private {{returnType}} RefreshCore(int id) => throw new NotSupportedException();
            }
            """, "CACHED004");
        Assert.That(message, Is.EqualTo($"'UserService.Refresh' returns '{shown}': a cached method returns a value, Task<T> or ValueTask<T>"));
    }

    [TestCase("void")]
    [TestCase("Task")]
    [TestCase("ValueTask")]
    public void CACHED004_a_MultiCached_method_that_returns_no_value(string returnType)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids")]
                public partial [|{{returnType}}|] Refresh(List<int> ids);
                private {{returnType}} RefreshCore(List<int> ids) => throw new NotSupportedException();
            }
            """, "CACHED004");
        Assert.That(message, Does.StartWith($"'UserService.Refresh' returns '{returnType}':"));
    }

    // ---- CACHED005 ----

    [Test]
    public void CACHED005_a_key_template_names_an_unknown_parameter()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = "user:[|{userId}|]:{name}")]
                public partial Task<User> GetUser(int id, string name, CancellationToken ct);
                private Task<User> GetUserCore(int id, string name, CancellationToken ct) => Task.FromResult(new User(id, name));
            }
            """, "CACHED005");
        Assert.That(message, Is.EqualTo("Key template \"user:{userId}:{name}\" names 'userId', which is not a parameter of 'UserService.GetUser' (parameters: id, name)"));
    }

    [Test]
    public void CACHED005_a_method_without_parameters_lists_none()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = "all:[|{id:D4}|]")]
                public partial User GetDefault();
                private User GetDefaultCore() => new(0, "name");
            }
            """, "CACHED005");
        Assert.That(message, Is.EqualTo("Key template \"all:{id:D4}\" names 'id', which is not a parameter of 'UserService.GetDefault' (parameters: none)"));
    }

    [Test]
    public void CACHED005_a_hole_that_reaches_into_a_parameter_says_to_use_a_KeyBuilder()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = "user:[|{user.Id}|]")]
                public partial Task<User> GetUser(User user, CancellationToken ct);
                private Task<User> GetUserCore(User user, CancellationToken ct) => Task.FromResult(user);
            }
            """, "CACHED005");
        Assert.That(message, Is.EqualTo("Key template \"user:{user.Id}\" names 'user.Id', which is not a parameter of 'UserService.GetUser' (parameters: user); a hole names a whole parameter, not a member or an expression of it: make this key with a KeyBuilder method"));
    }

    // ---- CACHED027 ----

    [TestCase("k:[|{id,abc}|]", "{id,abc}", "its alignment 'abc' is not a whole number")]
    [TestCase("k:[|{id,}|]", "{id,}", "its alignment is missing after the comma")]
    [TestCase("k:[|{id,99999999999}|]", "{id,99999999999}", "its alignment '99999999999' is not a whole number")]
    [TestCase("k:[|{id:}|]", "{id:}", "its format is empty after the colon")]
    [TestCase("k:[|{id,4:}|]", "{id,4:}", "its format is empty after the colon")]
    [TestCase("k:[|{id:{x}|]", "{id:{x}", "its format holds a brace (write a literal one as {{)")]
    [TestCase("u:[|{id|]", "{id", "it has no closing brace (write a literal one as {{)")]
    [TestCase("w:[|{id:D2 }|]", "{id:D2 }", TrailingWhitespace)]
    [TestCase("w:[|{id,4:X }|]", "{id,4:X }", TrailingWhitespace)]
    [TestCase("w:[|{id: }|]", "{id: }", TrailingWhitespace)]
    [TestCase("user:{id}:[|{name|]", "{name", "it has no closing brace (write a literal one as {{)")]
    public void CACHED027_a_key_template_hole_that_would_not_compile(string key, string hole, string wrong)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached(Key = "{{key}}")]
                public partial User GetUser(int id, string name);
                private User GetUserCore(int id, string name) => new(id, "name");
            }
            """, "CACHED027");
        var template = key.Replace("[|", string.Empty).Replace("|]", string.Empty);
        Assert.That(message, Is.EqualTo($"Template \"{template}\" of 'UserService.GetUser' has the hole '{hole}': {wrong}"));
    }

    // An escape in the literal moves the hole's text away from its value's: the diagnostic is on the whole literal.
    [TestCase("w:{id:D2\\t}", "{id:D2\t}")]
    [TestCase("w:{id:D2\\n}", "{id:D2\n}")]
    [TestCase("w:{id:D2\\r\\n}", "{id:D2\r\n}")]
    [TestCase("w:{id:D2\\u00A0}", "{id:D2\u00A0}")]
    [TestCase("w:{id:D2\\u2028}", "{id:D2\u2028}")]
    public void CACHED027_a_key_template_hole_whose_format_ends_in_an_escaped_space_or_line_break(string key, string hole)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached(Key = [|"{{key}}"|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED027");
        Assert.That(message, Does.EndWith($"has the hole '{hole}': {TrailingWhitespace}"));
    }

    private const string TrailingWhitespace = "its format ends in whitespace or a line break, which C# refuses in a format: remove it";

    [TestCase("[Cached(Tags = [\"t:[|{id:D2 }|]\"])]", "public partial User GetUser(int id);", "private User GetUserCore(int id) => new(id, \"name\");")]
    [TestCase("[InvalidateTags([|\"t:{id:D2\\n}\"|], Alias = \"m\")]", "public partial void Rename(int id);", "private void RenameCore(int id) { }")]
    public void CACHED027_a_tag_template_hole_whose_format_ends_in_whitespace(string attribute, string method, string core)
    {
        var message = Single($$"""
            public partial class UserService
            {
                {{attribute}}
                {{method}}
                {{core}}
            }
            """, "CACHED027");
        Assert.That(message, Does.EndWith(": " + TrailingWhitespace));
    }

    [Test]
    public void Whitespace_inside_a_format_or_around_an_alignment_is_not_reported_and_compiles()
    {
        // The alignment is C# code in the interpolated string, where an escaped tab or line break would not compile:
        // it is written trimmed. Whitespace inside or before a format is C#'s to keep.
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Key = "k:{id,\t8}:{id, 4\n:D2}:{id: D 2}:{id:D\n2}", Tags = ["t:{id,\r\n5}"])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources.Single().Value, Does.Contain("$\"k:{id,8}:{id,4:D2}:{id: D 2}:{id:D\\n2}\""));
    }

    [Test]
    public void CACHED027_a_tag_template_hole_that_would_not_compile()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = ["t:[|{id,abc}|]"])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED027");
        Assert.That(message, Is.EqualTo("Template \"t:{id,abc}\" of 'UserService.GetUser' has the hole '{id,abc}': its alignment 'abc' is not a whole number"));
    }

    [Test]
    public void Well_formed_alignments_and_formats_are_not_reported_and_compile()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Key = "k:{id,8}:{id,-8}:{id, +3}:{id:D4}:{id,6:X}", Tags = ["t:{id,5:D2}"])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    // ---- CACHED028 ----

    [TestCase("[Cached]", "[MultiCached(KeysFrom = \"ids\")]", "[Cached] and [MultiCached]")]
    [TestCase("[Cached]", "[InvalidateCache(nameof(Other))]", "[Cached] and [InvalidateCache]")]
    [TestCase("[MultiCached(KeysFrom = \"ids\")]", "[InvalidateCache(nameof(Other))]", "[MultiCached] and [InvalidateCache]")]
    [TestCase("[Cached]", "[InvalidateTags(\"users\")]", "[Cached] and [InvalidateTags]")]
    public void CACHED028_a_method_with_two_attributes_that_each_write_its_body(string first, string second, string named)
    {
        var message = Single($$"""
            public partial class UserService
            {
                {{first}}
                {{second}}
                public partial Dictionary<int, User> [|GetMany|](List<int> ids);
                private Dictionary<int, User> GetManyCore(List<int> ids) => new();

                [Cached]
                public partial User Other(int id);
                private User OtherCore(int id) => new(id, "name");
            }
            """, "CACHED028");
        Assert.That(message, Is.EqualTo($"'UserService.GetMany' carries {named}: each would write the method's body; keep one, and put the other on a method of its own"));
    }

    [Test]
    public void CACHED003_a_multi_dimensional_array_in_a_default_key()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial int Count([|int[,] grid|]);
                private int CountCore(int[,] grid) => grid.Length;

                [Cached(Key = "rows:{rows}")]
                public partial int Rows(int rows, int[,] grid);
                private int RowsCore(int rows, int[,] grid) => rows;
            }
            """, "CACHED003");
        Assert.That(message, Does.StartWith("Parameter 'grid' of 'UserService.Count' is a multi-dimensional array, which a default key cannot write"));
    }

    [Test]
    public void CACHED003_a_memory_inside_another_type_in_a_default_key()
    {
        var messages = Expect("""
            public partial class UserService
            {
                [Cached]
                public partial int Count([|(System.ReadOnlyMemory<int> Values, int Skip) page|]);
                private int CountCore((System.ReadOnlyMemory<int> Values, int Skip) page) => page.Skip;

                [Cached]
                public partial int Total([|System.Collections.Generic.List<System.Memory<byte>> chunks|]);
                private int TotalCore(System.Collections.Generic.List<System.Memory<byte>> chunks) => chunks.Count;

                [Cached]
                public partial int Parts([|System.Buffers.ReadOnlySequence<byte>[] parts|]);
                private int PartsCore(System.Buffers.ReadOnlySequence<byte>[] parts) => parts.Length;

                [Cached]
                public partial int Text((System.ReadOnlyMemory<char> Name, int Id) item);
                private int TextCore((System.ReadOnlyMemory<char> Name, int Id) item) => item.Id;

                // A type of its own, written by its own ToString whatever it holds: not refused.
                [Cached]
                public partial int Wrapped(Envelope<System.ReadOnlyMemory<byte>> envelope);
                private int WrappedCore(Envelope<System.ReadOnlyMemory<byte>> envelope) => envelope.Value.Length;
            }

            public sealed record Envelope<T>(T Value)
            {
                public override string ToString() => "envelope";
            }
            """, DiagnosticSeverity.Error, "CACHED003", "CACHED003", "CACHED003");
        Assert.That(messages[0].GetMessage(CultureInfo.InvariantCulture), Does.StartWith("Parameter 'page' of 'UserService.Count' is a type that holds a ReadOnlyMemory<int>, which a default key cannot write by its elements"));
        Assert.That(messages[1].GetMessage(CultureInfo.InvariantCulture), Does.StartWith("Parameter 'chunks' of 'UserService.Total' is a type that holds a Memory<byte>"));
        Assert.That(messages[2].GetMessage(CultureInfo.InvariantCulture), Does.StartWith("Parameter 'parts' of 'UserService.Parts' is a type that holds a ReadOnlySequence<byte>"));
    }

    // ---- CACHED030 ----

    [Test]
    public void CACHED030_IncludeInstance_on_a_type_whose_ToString_is_object_s()
    {
        var message = Single("""
            public partial class Tenant
            {
                [Cached(IncludeInstance = [|true|])]
                public partial string Name(int id);
                private string NameCore(int id) => id.ToString();
            }

            public partial record Shop(string Code)
            {
                [Cached(IncludeInstance = true)]
                public partial string Name(int id);
                private string NameCore(int id) => Code + id;
            }

            public partial class Named
            {
                public override string ToString() => "named";

                [Cached(IncludeInstance = true)]
                public partial string Name(int id);
                private string NameCore(int id) => id.ToString();
            }
            """, "CACHED030", DiagnosticSeverity.Warning);
        Assert.That(message, Is.EqualTo("'Tenant.Name' sets IncludeInstance, but 'Tenant' does not override ToString: every instance writes its type name into the key, so all instances would share one cache entry; override ToString (or make the type a record), or set Key or KeyBuilder"));
    }

    // ---- CACHED029 ----

    [Test]
    public void CACHED029_a_method_of_a_file_local_type()
    {
        var message = Single("""
            file partial class UserService
            {
                [Cached]
                public partial User [|GetUser|](int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED029");
        Assert.That(message, Does.StartWith("'UserService.GetUser' is declared in the file-local type 'UserService'"));
    }

    [Test]
    public void CACHED029_an_instance_method_of_a_ref_struct_but_not_a_static_one()
    {
        var message = Single("""
            public ref partial struct Reader
            {
                [Cached]
                public partial int [|Read|](int id);
                private int ReadCore(int id) => id;

                [Cached]
                public static partial int Parse(int id);
                private static int ParseCore(int id) => id;
            }
            """, "CACHED029");
        Assert.That(message, Does.StartWith("'Reader.Read' is declared in the ref struct 'Reader'"));
    }

    // ---- CACHED031 ----

    [TestCase("ref int", "by 'ref'")]
    [TestCase("ref readonly int", "by 'ref readonly'")]
    [TestCase("ReadOnlySpan<int>", "the ref struct 'ReadOnlySpan<int>', which cannot outlive the call")]
    public void CACHED031_a_result_by_reference_or_a_ref_struct(string result, string shape)
    {
        var message = Single($$"""
            public partial class Numbers
            {
                private static int[] s_values = [1, 2, 3];

                [Cached]
                public static partial [|{{result}}|] Get(int id);
                private static {{result}} GetCore(int id) => {{(result.StartsWith("ref", StringComparison.Ordinal) ? "ref s_values[id]" : "s_values")}};
            }
            """, "CACHED031");
        Assert.That(message, Is.EqualTo($"'Numbers.Get' returns {shape}: a cached method returns a value it can keep for another call"));
    }

    [Test]
    public void CACHED031_a_pointer_result()
    {
        var message = Single("""
            public unsafe partial class Numbers
            {
                [Cached]
                public static partial [|int*|] Get(int id);
                private static int* GetCore(int id) => null;
            }
            """, "CACHED031");
        Assert.That(message, Is.EqualTo("'Numbers.Get' returns a pointer: a cached method returns a value it can keep for another call"));
    }

    // ---- CACHED006 ----

    [TestCase("Cache = typeof(SimpleMemoryCache)", "Cache")]
    [TestCase("Serializer = typeof(StringSerializer)", "Serializer")]
    [TestCase("Plugins = new[] { typeof(TimingPlugin) }", "Plugins")]
    [TestCase("Cache = typeof(SimpleMemoryCache), Plugins = new[] { typeof(TimingPlugin) }", "Cache, Plugins")]
    public void CACHED006_Alias_combined_with_another_cache_option(string option, string named)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached(Alias = [|"redis"|], {{option}})]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED006");
        Assert.That(message, Is.EqualTo($"'UserService.GetUser' sets Alias and {named}: an alias's configuration decides its cache, serializer and plugins; remove one of them"));
    }

    // ---- CACHED007 ----

    private const string MultiService = """
        public partial class UserService
        {
            [MultiCached(KeysFrom = "ids")]
            public partial Task<Dictionary<int, User>> GetUsers(List<int> ids);
            private Task<Dictionary<int, User>> GetUsersCore(List<int> ids) => Task.FromResult(new Dictionary<int, User>());
        }
        """;

    private static string MarkKeysFrom(string source) => source.Replace("KeysFrom = \"ids\"", "KeysFrom = [|\"ids\"|]", StringComparison.Ordinal);

    [Test]
    public void The_valid_MultiCached_source_of_these_tests_reports_nothing()
    {
        var run = GeneratorRunner.Run(Prelude + MultiService);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.Sources, Has.Count.EqualTo(1));
    }

    [Test]
    public void CACHED007_KeysFrom_is_not_set()
    {
        var message = Single(MultiService.Replace("[MultiCached(KeysFrom = \"ids\")]", "[[|MultiCached(Ttl = 5)|]]", StringComparison.Ordinal), "CACHED007");
        Assert.That(message, Is.EqualTo("KeysFrom of 'UserService.GetUsers' is not set: name the parameter that holds the keys (parameters that can hold the keys: ids)"));
    }

    [Test]
    public void CACHED007_KeysFrom_names_no_parameter()
    {
        var message = Single(MultiService.Replace("KeysFrom = \"ids\"", "KeysFrom = [|\"keys\"|]", StringComparison.Ordinal), "CACHED007");
        Assert.That(message, Is.EqualTo("KeysFrom of 'UserService.GetUsers' names 'keys', which is not a parameter (parameters that can hold the keys: ids)"));
    }

    [TestCase("int")]
    [TestCase("string")]
    public void CACHED007_KeysFrom_names_a_parameter_that_is_not_enumerable(string type)
    {
        var message = Single(MarkKeysFrom(MultiService.Replace("List<int> ids", type + " ids", StringComparison.Ordinal)), "CACHED007");
        Assert.That(message, Is.EqualTo($"KeysFrom of 'UserService.GetUsers' names 'ids', whose type '{type}' is not an IEnumerable<TKey> (parameters that can hold the keys: none)"));
    }

    [Test]
    public void CACHED007_KeysFrom_names_an_unsupported_collection_type()
    {
        var message = Single(MarkKeysFrom(MultiService.Replace("List<int> ids", "Queue<int> ids", StringComparison.Ordinal)), "CACHED007");
        Assert.That(message, Is.EqualTo("KeysFrom of 'UserService.GetUsers' names 'ids' of type 'Queue<int>': use an array, List, IList, ICollection, IReadOnlyList, IReadOnlyCollection, IEnumerable, HashSet, ISet or IReadOnlySet"));
    }

    // ---- CACHED008 ----

    [Test]
    public void CACHED008_a_MultiCached_method_that_returns_a_list()
    {
        var message = Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids")]
                public partial [|List<string>|] GetNames(List<int> ids);
                private List<string> GetNamesCore(List<int> ids) => new();
            }
            """, "CACHED008");
        Assert.That(message, Is.EqualTo("'UserService.GetNames' returns 'List<string>': a [MultiCached] method returns Dictionary, IDictionary or IReadOnlyDictionary<int, TValue>, directly or in a Task/ValueTask"));
    }

    [Test]
    public void CACHED008_a_MultiCached_method_whose_dictionary_has_another_key_type()
    {
        var message = Single(MultiService.Replace("Dictionary<int, User>", "Dictionary<string, User>", StringComparison.Ordinal)
            .Replace("partial Task<Dictionary<string, User>>", "partial [|Task<Dictionary<string, User>>|]", StringComparison.Ordinal), "CACHED008");
        Assert.That(message, Does.StartWith("'UserService.GetUsers' returns 'Task<Dictionary<string, User>>':"));
        Assert.That(message, Does.Contain("IReadOnlyDictionary<int, TValue>"));
    }

    // ---- CACHED009 ----

    [Test]
    public void CACHED009_SkipCacheWhen_names_a_missing_method()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(SkipCacheWhen = [|"IsGuest"|])]
                public partial Task<User> GetUser(int id);
                private Task<User> GetUserCore(int id) => Task.FromResult(new User(id, "name"));
            }
            """, "CACHED009");
        Assert.That(message, Is.EqualTo("SkipCacheWhen of 'UserService.GetUser' names 'IsGuest': add 'bool IsGuest(User result)'"));
    }

    [Test]
    public void CACHED009_SkipCacheWhen_names_a_predicate_of_another_type()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(SkipCacheWhen = [|nameof(IsGuest)|])]
                public partial Task<User> GetUser(int id);
                private Task<User> GetUserCore(int id) => Task.FromResult(new User(id, "name"));
                private static bool IsGuest(string name) => name.Length == 0;
            }
            """, "CACHED009");
        Assert.That(message, Does.Contain("add 'bool IsGuest(User result)'"));
    }

    [Test]
    public void CACHED009_SkipCacheWhen_names_an_instance_predicate_of_a_static_method()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(SkipCacheWhen = [|nameof(IsGuest)|])]
                public static partial User GetUser(int id);
                private static User GetUserCore(int id) => new(id, "name");
                private bool IsGuest(User user) => user.Id == 0;
            }
            """, "CACHED009");
        Assert.That(message, Is.EqualTo("SkipCacheWhen of 'UserService.GetUser' names 'IsGuest': add 'bool IsGuest(User result)' (static)"));
    }

    [Test]
    public void CACHED009_SkipCacheWhen_of_a_MultiCached_method_suggests_both_forms()
    {
        var message = Single(MultiService.Replace("[MultiCached(KeysFrom = \"ids\")]", "[MultiCached(KeysFrom = \"ids\", SkipCacheWhen = [|\"IsGuest\"|])]", StringComparison.Ordinal), "CACHED009");
        Assert.That(message, Is.EqualTo("SkipCacheWhen of 'UserService.GetUsers' names 'IsGuest': add 'bool IsGuest(User value)' or 'bool IsGuest(int key, User value)'"));
    }

    // ---- CACHED010 ----

    [Test]
    public void CACHED010_KeyBuilder_names_a_missing_method()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(KeyBuilder = [|"KeyOf"|])]
                public partial Task<User> GetUser(int id, string region, CancellationToken ct);
                private Task<User> GetUserCore(int id, string region, CancellationToken ct) => Task.FromResult(new User(id, region));
            }
            """, "CACHED010");
        Assert.That(message, Is.EqualTo("KeyBuilder of 'UserService.GetUser' names 'KeyOf': add 'string KeyOf(int id, string region)'"));
    }

    [TestCase("private static string KeyOf(int id) => \"k\";")]
    [TestCase("private static int KeyOf(int id, string region) => id;")]
    [TestCase("private static string KeyOf(string region, int id) => region;")]
    [TestCase("private static string KeyOf(int id, string region, CancellationToken ct) => region;")]
    public void CACHED010_KeyBuilder_names_a_method_with_the_wrong_signature(string builder)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached(KeyBuilder = [|"KeyOf"|])]
                public partial Task<User> GetUser(int id, string region, CancellationToken ct);
                private Task<User> GetUserCore(int id, string region, CancellationToken ct) => Task.FromResult(new User(id, region));
                {{builder}}
            }
            """, "CACHED010");
        Assert.That(message, Does.Contain("add 'string KeyOf(int id, string region)'"));
    }

    [Test]
    public void CACHED010_KeyBuilder_of_a_static_method_names_an_instance_method()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(KeyBuilder = [|nameof(KeyOf)|])]
                public static partial User GetUser(int id);
                private static User GetUserCore(int id) => new(id, "name");
                private string KeyOf(int id) => "k" + id;
            }
            """, "CACHED010");
        Assert.That(message, Is.EqualTo("KeyBuilder of 'UserService.GetUser' names 'KeyOf': add 'string KeyOf(int id)' (static)"));
    }

    [Test]
    public void CACHED010_KeyBuilder_of_a_MultiCached_method_takes_one_key()
    {
        var message = Single(MultiService.Replace("[MultiCached(KeysFrom = \"ids\")]", "[MultiCached(KeysFrom = \"ids\", KeyBuilder = [|\"KeyOf\"|])]", StringComparison.Ordinal), "CACHED010");
        Assert.That(message, Is.EqualTo("KeyBuilder of 'UserService.GetUsers' names 'KeyOf': add 'string KeyOf(int key)'"));
    }

    // ---- CACHED011 ----

    [TestCase("Ttl", "-1", "Ttl of 'UserService.GetUser' is -1")]
    [TestCase("Ttl", "-0.5", "Ttl of 'UserService.GetUser' is -0.5")]
    [TestCase("Lease", "-30", "Lease of 'UserService.GetUser' is -30")]
    [TestCase("Ttl", "double.NaN", "Ttl of 'UserService.GetUser' is NaN")]
    [TestCase("FailSafe", "-60", "FailSafe of 'UserService.GetUser' is -60")]
    [TestCase("FailSafeThrottle", "-1", "FailSafeThrottle of 'UserService.GetUser' is -1")]
    [TestCase("SoftTimeout", "double.PositiveInfinity", "SoftTimeout of 'UserService.GetUser' is Infinity")]
    [TestCase("HardTimeout", "-2", "HardTimeout of 'UserService.GetUser' is -2")]
    public void CACHED011_a_negative_duration(string option, string value, string start)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached({{option}} = [|{{value}}|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED011");
        Assert.That(message, Is.EqualTo(start + ": use a positive number of seconds, or 0 for the default"));
    }

    [TestCase("Ttl", "1e12", "1000000000000", "the cache's own Ttl, which is no expiry when the cache has none")]
    [TestCase("Ttl", "double.MaxValue", "1.7976931348623157E+308", "the cache's own Ttl, which is no expiry when the cache has none")]
    [TestCase("Ttl", "922337203685.478", "922337203685.478", "the cache's own Ttl, which is no expiry when the cache has none")]
    [TestCase("Lease", "1e300", "1E+300", "no lease")]
    [TestCase("FailSafe", "1e12", "1000000000000", "no fail-safe")]
    [TestCase("FailSafeThrottle", "1e12", "1000000000000", "the default, 30 s")]
    [TestCase("SoftTimeout", "1e12", "1000000000000", "no timeout")]
    [TestCase("HardTimeout", "1e12", "1000000000000", "no timeout")]
    public void CACHED011_a_duration_beyond_TimeSpan_MaxValue(string option, string value, string written, string zero)
    {
        // Before CACHED011 refused it, the type's static initializer threw an OverflowException from TimeSpan.FromSeconds.
        // A SoftTimeout comes with a FailSafe, so that CACHED023 stays out of it.
        var message = Single($$"""
            public partial class UserService
            {
                [Cached({{option}} = [|{{value}}|]{{(option == "SoftTimeout" ? ", FailSafe = 60" : string.Empty)}})]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED011");
        Assert.That(message, Is.EqualTo($"{option} of 'UserService.GetUser' is {written}: the most a duration can be is 922337203685.4775 seconds (TimeSpan.MaxValue, about 29,000 years); 0, or leaving {option} unset, means {zero}"));
    }

    [Test]
    public void CACHED011_takes_the_longest_duration_TimeSpan_holds()
    {
        Assert.DoesNotThrow(() => TimeSpan.FromSeconds(922337203685.4775));
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Ttl = 922337203685.4775, Lease = 922337203685.4775)]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void CACHED011_a_negative_Ttl_of_a_MultiCached_method()
    {
        var message = Single(MultiService.Replace("KeysFrom = \"ids\"", "KeysFrom = \"ids\", Ttl = [|-5|]", StringComparison.Ordinal), "CACHED011");
        Assert.That(message, Does.StartWith("Ttl of 'UserService.GetUsers' is -5:"));
    }

    [Test]
    public void CACHED011_a_negative_FailSafe_of_a_MultiCached_method()
    {
        var message = Single(MultiService.Replace("KeysFrom = \"ids\"", "KeysFrom = \"ids\", FailSafe = [|-5|]", StringComparison.Ordinal), "CACHED011");
        Assert.That(message, Does.StartWith("FailSafe of 'UserService.GetUsers' is -5:"));
    }

    [Test]
    public void CACHED011_is_reported_for_Ttl_and_Lease_both()
    {
        var diagnostics = Expect("""
            public partial class UserService
            {
                [Cached(Ttl = [|-1|], Lease = [|-2|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, DiagnosticSeverity.Error, "CACHED011", "CACHED011");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "Lease of 'UserService.GetUser' is -2: use a positive number of seconds, or 0 for the default",
            "Ttl of 'UserService.GetUser' is -1: use a positive number of seconds, or 0 for the default",
        }));
    }

    // ---- CACHED022, CACHED023 ----

    [TestCase("1")]
    [TestCase("1.5")]
    [TestCase("-0.2")]
    [TestCase("double.NaN")]
    public void CACHED022_EagerRefresh_outside_0_to_1(string value)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached(Ttl = 60, EagerRefresh = [|{{value}}|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED022");
        Assert.That(message, Does.StartWith("EagerRefresh of 'UserService.GetUser' is ").And.EndWith("or 0 for none"));
    }

    [Test]
    public void Valid_resilience_options_are_not_reported()
    {
        var run = GeneratorRunner.Run(Mark("""
            public partial class UserService
            {
                [Cached(Ttl = 60, FailSafe = 600, FailSafeThrottle = 5, SoftTimeout = 0.1, HardTimeout = 2, EagerRefresh = [|0.8|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """).Source);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
    }

    [Test]
    public void CACHED023_SoftTimeout_without_FailSafe()
    {
        var diagnostics = Expect("""
            public partial class UserService
            {
                [Cached(Ttl = 60, SoftTimeout = [|0.5|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, DiagnosticSeverity.Warning, "CACHED023");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[] { "SoftTimeout of 'UserService.GetUser' answers with the last value, which only FailSafe keeps: set FailSafe, or use HardTimeout to bound the wait" }));
    }

    // ---- CACHED012 ----

    private const string KeyTypes = """
        public sealed class Filter { public int Page { get; set; } }
        public struct Point { public int X; public int Y; }
        public sealed record Query(string Text, int Page);
        public enum Color { Red, Green }
        public class Described { public int Page { get; set; } public override string ToString() => "page " + Page; }
        public sealed class DerivedDescribed : Described { }

        """;

    [Test]
    public void CACHED012_a_key_parameter_of_a_class_without_ToString_is_a_warning_and_the_method_is_still_generated()
    {
        var body = KeyTypes + """
            public partial class SearchService
            {
                [Cached]
                public partial Task<string> Search([|Filter filter|], int page, CancellationToken ct);
                private Task<string> SearchCore(Filter filter, int page, CancellationToken ct) => Task.FromResult("x");
            }
            """;
        var message = Single(body, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Is.EqualTo("Parameter 'filter' of 'SearchService.Search' has type 'Filter', which does not override ToString: different values would share one cache key; override ToString, use a record, mark it [CacheKeyIgnore], or set Key/KeyBuilder"));
        var run = GeneratorRunner.Run(Mark(body).Source);
        Assert.That(run.Sources, Has.Count.EqualTo(1), "a warning does not stop generation");
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void CACHED012_a_key_parameter_of_a_struct_without_ToString_is_a_warning()
    {
        var message = Single(KeyTypes + """
            public partial class SearchService
            {
                [Cached]
                public partial string Near([|Point point|]);
                private string NearCore(Point point) => "x";
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Does.StartWith("Parameter 'point' of 'SearchService.Near' has type 'Point', which does not override ToString"));
    }

    [TestCase("Func<int>", "Func<int>")]
    [TestCase("Action", "Action")]
    [TestCase("Delegate", "Delegate")]
    public void CACHED012_a_delegate_key_parameter_is_a_warning(string type, string shown)
    {
        // Regression: a delegate's ToString is its type name, so every lambda shared one entry, without a warning.
        var message = Single(KeyTypes + $$"""
            public partial class SearchService
            {
                [Cached]
                public partial int Run([|{{type}} work|]);
                private int RunCore({{type}} work) => 1;
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Does.StartWith($"Parameter 'work' of 'SearchService.Run' has type '{shown}', which does not override ToString"));
    }

    [TestCase("Delegate", TestName = "CACHED012_a_type_parameter_constrained_to_Delegate")]
    [TestCase("MulticastDelegate", TestName = "CACHED012_a_type_parameter_constrained_to_MulticastDelegate")]
    [TestCase("U where U : Delegate", TestName = "CACHED012_a_type_parameter_constrained_to_Delegate_through_another")]
    public void CACHED012_a_type_parameter_that_can_only_be_a_delegate(string constraint)
    {
        var typeParameters = constraint.StartsWith('U') ? "T, U" : "T";
        // Regression (outside check of hostile contexts): T is a delegate whatever its argument, so its text is its type
        // name and two lambdas of one type shared one entry; type parameters were not judged at all.
        var message = Single(KeyTypes + $$"""
            public partial class SearchService
            {
                [Cached]
                public partial int Run<{{typeParameters}}>([|T work|]) where T : {{constraint}};
                private int RunCore<{{typeParameters}}>(T work) where T : {{constraint}} => 1;
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Does.StartWith("Parameter 'work' of 'SearchService.Run' has type 'T', which does not override ToString"));
    }

    [Test]
    public void CACHED012_is_not_reported_for_a_type_parameter_constrained_to_a_class_that_keeps_object_ToString()
    {
        // A class of its own may override ToString in a derived type: not judged, as unconstrained type parameters are not.
        var diagnostics = GeneratorRunner.Run(Prelude + KeyTypes + """
            public class Shape { }
            public partial class SearchService
            {
                [Cached]
                public partial int Run<T>(T work) where T : Shape;
                private int RunCore<T>(T work) where T : Shape => 1;
            }
            """).GeneratorDiagnostics;
        Assert.That(diagnostics, Is.Empty);
    }

    [TestCase("Query query", "", TestName = "CACHED012_is_not_reported_for_a_record")]
    [TestCase("string query", "", TestName = "CACHED012_is_not_reported_for_a_string")]
    [TestCase("int query", "", TestName = "CACHED012_is_not_reported_for_an_int")]
    [TestCase("int? query", "", TestName = "CACHED012_is_not_reported_for_a_nullable_int")]
    [TestCase("Color query", "", TestName = "CACHED012_is_not_reported_for_an_enum")]
    [TestCase("Guid query", "", TestName = "CACHED012_is_not_reported_for_a_Guid")]
    [TestCase("DateTime query", "", TestName = "CACHED012_is_not_reported_for_a_DateTime")]
    [TestCase("List<int> query", "", TestName = "CACHED012_is_not_reported_for_a_List_of_int")]
    [TestCase("int[] query", "", TestName = "CACHED012_is_not_reported_for_an_array")]
    [TestCase("Described query", "", TestName = "CACHED012_is_not_reported_for_a_class_that_overrides_ToString")]
    [TestCase("DerivedDescribed query", "", TestName = "CACHED012_is_not_reported_for_a_class_whose_base_overrides_ToString")]
    [TestCase("[CacheKeyIgnore] Filter query", "", TestName = "CACHED012_is_not_reported_for_a_CacheKeyIgnore_parameter")]
    [TestCase("Filter query", "(Key = \"search\")", TestName = "CACHED012_is_not_reported_with_a_fixed_Key")]
    [TestCase("Filter query, int page", "(Key = \"search:{page}\")", TestName = "CACHED012_is_not_reported_with_a_Key_template")]
    [TestCase("Filter query", "(KeyBuilder = nameof(KeyOf))", TestName = "CACHED012_is_not_reported_with_a_KeyBuilder")]
    [TestCase("Order query", "", TestName = "CACHED012_is_not_reported_for_a_record_whose_members_have_value_texts")]
    [TestCase("Tree query", "", TestName = "CACHED012_is_not_reported_for_a_record_that_holds_itself")]
    [TestCase("List<Tree> query", "", TestName = "CACHED012_is_not_reported_for_a_list_of_a_record_that_holds_itself")]
    [TestCase("Dictionary<string, Uri> query", "", TestName = "CACHED012_is_not_reported_for_a_dictionary_of_Uris")]
    [TestCase("(int, string, (Guid, List<long>)) query", "", TestName = "CACHED012_is_not_reported_for_tuples_of_value_texts")]
    [TestCase("Dictionary<string, object> query", "", TestName = "CACHED012_is_not_reported_for_object_values")]
    [TestCase("List<IDisposable> query", "", TestName = "CACHED012_is_not_reported_for_interface_elements")]
    [TestCase("List<Shape> query", "", TestName = "CACHED012_is_not_reported_for_abstract_class_elements")]
    [TestCase("List<dynamic> query", "", TestName = "CACHED012_is_not_reported_for_dynamic_elements")]
    [TestCase("[CacheKeyIgnore] List<Plain> query", "", TestName = "CACHED012_is_not_reported_for_a_CacheKeyIgnore_list")]
    [TestCase("List<Plain> query, int page", "(Key = \"search:{page}\")", TestName = "CACHED012_is_not_reported_for_a_list_no_Key_hole_names")]
    [TestCase("List<Plain> query", "(KeyBuilder = nameof(KeyOf))", TestName = "CACHED012_is_not_reported_for_a_list_with_a_KeyBuilder")]
    [TestCase("List<Query> query, (int, string) page", "(Key = \"search:{query}:{page}\")", TestName = "CACHED012_is_not_reported_for_Key_holes_of_value_texts")]
    public void CACHED012_is_not_reported(string parameters, string attributeArguments)
    {
        var source = Prelude + KeyTypes + InnerKeyTypes + $$"""
            public partial class SearchService
            {
                [Cached{{attributeArguments}}]
                public partial string Search({{parameters}});
                private string SearchCore({{parameters.Replace("[CacheKeyIgnore] ", string.Empty, StringComparison.Ordinal)}}) => "x";
                private static string KeyOf(Filter query) => "k" + query.Page;
                private static string KeyOf(List<Plain> query) => "k" + query.Count;
            }
            """;
        var run = GeneratorRunner.Run(source);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources, Has.Count.EqualTo(1));
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    private const string InnerKeyTypes = """
        public sealed class Plain { public int X; }
        public sealed record Holder(Plain P);
        public sealed record Tree(string Name, List<Tree> Children);
        public sealed record Order(int Id, string Customer, List<int> Lines, Dictionary<string, Uri> Links);
        public abstract class Shape { }

        """;

    private const string Cached012Fix = ", which does not override ToString: different values would share one cache key; override ToString, use a record, mark it [CacheKeyIgnore], or set Key/KeyBuilder";

    [TestCase("Plain[]", "element type", "Plain", TestName = "CACHED012_is_reported_for_the_element_type_of_an_array")]
    [TestCase("List<Plain>", "element type", "Plain", TestName = "CACHED012_is_reported_for_the_element_type_of_a_list")]
    [TestCase("IEnumerable<Plain>", "element type", "Plain", TestName = "CACHED012_is_reported_for_the_element_type_of_an_IEnumerable")]
    [TestCase("HashSet<Plain>?", "element type", "Plain", TestName = "CACHED012_is_reported_for_the_element_type_of_a_nullable_set")]
    [TestCase("ReadOnlyMemory<Plain>", "element type", "Plain", TestName = "CACHED012_is_reported_for_the_element_type_of_a_memory")]
    [TestCase("(int, Plain)", "item 2", "Plain", TestName = "CACHED012_is_reported_for_an_item_of_a_tuple")]
    [TestCase("(int, Plain)?", "item 2", "Plain", TestName = "CACHED012_is_reported_for_an_item_of_a_nullable_tuple")]
    [TestCase("Tuple<int, int, int, int, int, int, int, Tuple<string, Plain>>", "item 9", "Plain", TestName = "CACHED012_is_reported_for_an_item_of_a_long_reference_tuple")]
    [TestCase("Dictionary<string, Plain>", "value type", "Plain", TestName = "CACHED012_is_reported_for_the_value_type_of_a_dictionary")]
    [TestCase("IReadOnlyDictionary<Plain, int>", "key type", "Plain", TestName = "CACHED012_is_reported_for_the_key_type_of_a_dictionary")]
    [TestCase("KeyValuePair<string, Plain>", "value type", "Plain", TestName = "CACHED012_is_reported_for_the_value_of_a_KeyValuePair")]
    [TestCase("System.Linq.ILookup<string, Plain>", "element type's element type", "Plain", "ILookup<string, Plain>", TestName = "CACHED012_is_reported_for_the_elements_of_a_lookup")]
    [TestCase("List<Func<int>>", "element type", "Func<int>", TestName = "CACHED012_is_reported_for_a_delegate_element_type")]
    [TestCase("Holder", "member P", "Plain", TestName = "CACHED012_is_reported_for_a_printed_member_of_a_record")]
    [TestCase("List<(int, Holder)>", "element type's item 2's member P", "Plain", TestName = "CACHED012_is_reported_deep_inside_and_says_where")]
    public void CACHED012_is_reported_for_a_type_without_ToString_inside_a_key_parameter(string type, string where, string inner, string? shown = null)
    {
        // Regression: only the parameter's own type was checked, but the key writer writes these values part by part,
        // so every value of such a part was its type name and different arguments shared one entry, silently.
        var message = Single(InnerKeyTypes + $$"""
            public partial class SearchService
            {
                [Cached]
                public partial string Search(int page, [|{{type}} query|], CancellationToken ct);
                private string SearchCore(int page, {{type}} query, CancellationToken ct) => "x";
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Is.EqualTo($"Parameter 'query' of 'SearchService.Search' has type '{shown ?? type}', whose {where} is '{inner}'{Cached012Fix}"));
    }

    [Test]
    public void CACHED012_is_reported_once_for_a_parameter_with_several_parts_without_ToString()
    {
        var message = Single(InnerKeyTypes + """
            public partial class SearchService
            {
                [Cached]
                public partial string Search([|(Plain, List<Plain>, Holder) query|]);
                private string SearchCore((Plain, List<Plain>, Holder) query) => "x";
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Does.Contain(", whose item 1 is 'Plain',"));
    }

    [Test]
    public void CACHED012_is_reported_on_the_Key_template_hole_that_names_a_parameter_without_ToString()
    {
        // A hole writes its value's text (a collection's by its elements): a Plain writes "Demo.Plain" for every call.
        // Once per parameter, on its first hole; [CacheKeyIgnore] does not keep a hole from writing its parameter.
        var messages = Messages(Expect(InnerKeyTypes + """
            public partial class SearchService
            {
                [Cached(Key = "tpl:[|{p}|]:{page}:[|{xs,4}|]:{p}")]
                public partial string Search(Plain p, int page, [CacheKeyIgnore] List<Plain> xs);
                private string SearchCore(Plain p, int page, List<Plain> xs) => "x";
            }
            """, DiagnosticSeverity.Warning, "CACHED012", "CACHED012"));
        Assert.That(messages, Is.EqualTo(new[]
        {
            "Parameter 'p' in the Key template of 'SearchService.Search' has type 'Plain', which does not override ToString: different values would share one cache key; override ToString, use a record, or set KeyBuilder",
            "Parameter 'xs' in the Key template of 'SearchService.Search' has type 'List<Plain>', whose element type is 'Plain', which does not override ToString: different values would share one cache key; override ToString, use a record, or set KeyBuilder",
        }));
    }

    [TestCase("Plain[] ids", "Plain", "Plain[]", "element type", TestName = "CACHED012_is_reported_for_a_MultiCached_key_type_without_ToString")]
    [TestCase("List<(int, Plain)> ids", "(int, Plain)", "List<(int, Plain)>", "element type's item 2", TestName = "CACHED012_is_reported_for_a_part_of_a_MultiCached_key_type")]
    [TestCase("HashSet<Holder> ids", "Holder", "HashSet<Holder>", "element type's member P", TestName = "CACHED012_is_reported_for_a_member_of_a_MultiCached_record_key")]
    public void CACHED012_is_reported_on_KeysFrom_for_a_MultiCached_key_without_ToString(string parameter, string key, string type, string where)
    {
        // Regression: a [MultiCached] key type was never checked: every key of a batch was "Demo.Plain", one entry.
        var inner = where == "element type" ? key : "Plain";
        var message = Single(InnerKeyTypes + $$"""
            public partial class SearchService
            {
                [MultiCached(KeysFrom = [|"ids"|])]
                public partial Dictionary<{{key}}, string> Get({{parameter}});
                private Dictionary<{{key}}, string> GetCore({{parameter}}) => new();
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Is.EqualTo($"KeysFrom parameter 'ids' of 'SearchService.Get' has type '{type}', whose {where} is '{inner}', which does not override ToString: different values would share one cache key; override ToString, use a record, or set KeyBuilder"));
    }

    [Test]
    public void CACHED012_is_not_reported_for_a_type_parameter_inside_a_list_or_for_MultiCached_keys_with_value_texts()
    {
        var source = Prelude + InnerKeyTypes + """
            public partial class SearchService
            {
                [Cached]
                public partial string Search<T>(List<T> query, Dictionary<string, T> more);
                private string SearchCore<T>(List<T> query, Dictionary<string, T> more) => "x";

                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<string, string> ByName(IEnumerable<string> ids);
                private Dictionary<string, string> ByNameCore(IEnumerable<string> ids) => new();

                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<int, string> ById(int[] ids);
                private Dictionary<int, string> ByIdCore(int[] ids) => new();

                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<Tree, string> ByTree(List<Tree> ids);
                private Dictionary<Tree, string> ByTreeCore(List<Tree> ids) => new();

                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(KeyOf))]
                public partial Dictionary<Plain, string> ByPlain(Plain[] ids);
                private Dictionary<Plain, string> ByPlainCore(Plain[] ids) => new();
                private static string KeyOf(Plain plain) => "p" + plain.X;
            }
            """;
        var run = GeneratorRunner.Run(source);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void CACHED012_is_not_added_to_the_CACHED003_of_a_multi_dimensional_array()
        => Single(InnerKeyTypes + """
            public partial class SearchService
            {
                [Cached]
                public partial string Search([|Plain[,] query|]);
                private string SearchCore(Plain[,] query) => "x";
            }
            """, "CACHED003");

    [Test]
    public void CACHED012_inside_a_parameter_is_silenced_by_pragma_warning_disable_around_the_method()
    {
        var run = GeneratorRunner.Run(Prelude + InnerKeyTypes + """
            public partial class SearchService
            {
            #pragma warning disable CACHED012
                [Cached]
                public partial string Search(List<Plain> query);
            #pragma warning restore CACHED012
                private string SearchCore(List<Plain> query) => "x";
            }
            """);
        Assert.That(run.GeneratorDiagnostics.Single().Id, Is.EqualTo("CACHED012"));
        Assert.That(run.GeneratorDiagnostics.Single().IsSuppressed, Is.True);
    }

    // ---- CACHED013 ----

    [Test]
    public void CACHED013_InvalidateCache_names_a_method_that_does_not_exist()
    {
        var message = Single("""
            public partial class UserService
            {
                [InvalidateCache([|"GetUser"|])]
                public partial Task Rename(int id, string name);
                private Task RenameCore(int id, string name) => Task.CompletedTask;
            }
            """, "CACHED013");
        Assert.That(message, Is.EqualTo("[InvalidateCache] on 'UserService.Rename' names 'GetUser', which is not a [Cached] or [MultiCached] method of 'UserService' (such methods: none)"));
    }

    [Test]
    public void CACHED013_InvalidateCache_names_a_method_that_is_not_Cached()
    {
        var message = Single("""
            public partial class UserService
            {
                public User GetUser(int id) => new(id, "name");

                [InvalidateCache([|nameof(GetUser)|])]
                public partial void Rename(int id, string name);
                private void RenameCore(int id, string name) { }
            }
            """, "CACHED013");
        Assert.That(message, Does.EndWith("names 'GetUser', which is not a [Cached] or [MultiCached] method of 'UserService' (such methods: none)"));
    }

    [Test]
    public void CACHED013_is_reported_on_the_name_that_is_not_Cached_among_several()
    {
        var message = Single("public partial class UserService\n{\n" + CachedGetUser + """
                [InvalidateCache(nameof(GetUser), [|"GetUsers"|])]
                public partial void Rename(int id, string name);
                private void RenameCore(int id, string name) { }
            }
            """, "CACHED013");
        Assert.That(message, Does.EndWith("names 'GetUsers', which is not a [Cached] or [MultiCached] method of 'UserService' (such methods: GetUser)"));
    }

    // ---- CACHED014 ----

    private const string CachedGetUser = """
            [Cached]
            public partial User GetUser(int id);
            private User GetUserCore(int id) => new(id, "name");

        """;

    [Test]
    public void CACHED014_the_invalidator_lacks_a_key_parameter_of_the_target()
    {
        var message = Single("public partial class UserService\n{\n" + CachedGetUser + """
                [InvalidateCache([|nameof(GetUser)|])]
                public partial void Rename(string name);
                private void RenameCore(string name) { }
            }
            """, "CACHED014");
        Assert.That(message, Is.EqualTo("[InvalidateCache] on 'UserService.Rename' cannot build the key of 'GetUser': it needs a parameter 'id' of type 'int'"));
    }

    [Test]
    public void CACHED014_the_invalidator_has_the_key_parameter_with_another_type()
    {
        var message = Single("public partial class UserService\n{\n" + CachedGetUser + """
                [InvalidateCache([|nameof(GetUser)|])]
                public partial Task Rename(long id, string name);
                private Task RenameCore(long id, string name) => Task.CompletedTask;
            }
            """, "CACHED014");
        Assert.That(message, Does.EndWith("it needs a parameter 'id' of type 'int'"));
    }

    [Test]
    public void CACHED014_a_static_invalidator_of_a_target_that_keys_on_the_instance()
    {
        var message = Single("""
            public partial class UserService
            {
                public override string ToString() => "users";

                [Cached(IncludeInstance = true)]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateCache([|nameof(GetUser)|])]
                public static partial void Forget(int id);
                private static void ForgetCore(int id) { }
            }
            """, "CACHED014");
        Assert.That(message, Does.EndWith("it needs a parameter 'this' of type 'UserService'"));
    }

    // ---- CACHED015: DiagnosticTests.Shapes.cs ----

    // ---- CACHED016 ----

    [Test]
    public void CACHED016_a_Cache_type_that_is_not_a_cache()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Cache = [|typeof(string)|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Cache of 'UserService.GetUser' is 'string', which does not implement Cached.ICache"));
    }

    [Test]
    public void CACHED016_a_Serializer_type_without_a_public_parameterless_constructor()
    {
        var message = Single("""
            public sealed class PrefixSerializer : ISerializer
            {
                private readonly string _prefix;
                public PrefixSerializer(string prefix) => _prefix = prefix;
                public bool StoresReferences => _prefix.Length == 0;
                public void Serialize<T>(System.Buffers.IBufferWriter<byte> destination, T value) { }
                public T? Deserialize<T>(System.Buffers.ReadOnlySequence<byte> payload) => default;
            }
            public partial class UserService
            {
                [Cached(Serializer = [|typeof(PrefixSerializer)|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Serializer of 'UserService.GetUser' is 'Demo.PrefixSerializer', which has no public parameterless constructor"));
    }

    [Test]
    public void CACHED016_Plugins_that_contain_a_type_that_is_not_a_plugin()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Plugins = new[] { typeof(TimingPlugin), [|typeof(string)|] })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Plugins of 'UserService.GetUser' is 'string', which does not implement Cached.Plugins.ICachePlugin"));
    }

    [Test]
    public void CACHED016_Plugins_that_contain_an_abstract_type()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Plugins = new[] { [|typeof(CachePlugin)|] })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Plugins of 'UserService.GetUser' is 'Cached.Plugins.CachePlugin', which is not a concrete class"));
    }

    // ---- CACHED017 ----

    [Test]
    public void CACHED017_IncludeInstance_on_a_static_method()
    {
        var message = Single("""
            public static partial class Lookups
            {
                [Cached(IncludeInstance = [|true|])]
                public static partial User GetUser(int id);
                private static User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED017");
        Assert.That(message, Is.EqualTo("'Lookups.GetUser' is static, so it has no instance to put in the key: remove IncludeInstance"));
    }

    // ---- CACHED018 ----

    private const string MultiCachedByIds = """
            [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(IdKey))]
            public partial Dictionary<int, User> GetUsers(int[] ids);
            private string IdKey(int id) => "user-" + id;
            private Dictionary<int, User> GetUsersCore(int[] ids) => new();

        """;

    [Test]
    public void CACHED018_the_invalidator_has_no_parameter_of_the_KeysFrom_name()
    {
        var message = Single("public partial class UserService\n{\n" + MultiCachedByIds + """
                [InvalidateCache([|nameof(GetUsers)|])]
                public partial void Forget(int id);
                private void ForgetCore(int id) { }
            }
            """, "CACHED018");
        Assert.That(message, Is.EqualTo("[InvalidateCache] on 'UserService.Forget' cannot name the keys of [MultiCached] 'GetUsers': add a parameter 'ids' of type 'int' or a collection of them (e.g. 'IEnumerable<int>')"));
    }

    [Test]
    public void CACHED018_the_invalidator_parameter_holds_another_key_type()
    {
        var message = Single("public partial class UserService\n{\n" + MultiCachedByIds + """
                [InvalidateCache([|nameof(GetUsers)|])]
                public partial Task ForgetAsync(List<long> ids);
                private Task ForgetAsyncCore(List<long> ids) => Task.CompletedTask;
            }
            """, "CACHED018");
        Assert.That(message, Does.EndWith("its parameter 'ids' is a 'List<long>', not a 'int' or a collection of them"));
    }

    [Test]
    public void CACHED018_a_static_invalidator_of_a_target_with_an_instance_KeyBuilder()
    {
        var message = Single("public partial class UserService\n{\n" + MultiCachedByIds + """
                [InvalidateCache([|nameof(GetUsers)|])]
                public static partial void Forget(int ids);
                private static void ForgetCore(int ids) { }
            }
            """, "CACHED018");
        Assert.That(message, Does.EndWith("its KeyBuilder 'IdKey' is an instance method: make 'Forget' an instance method"));
    }

    // ---- CACHED037 ----

    [Test]
    public void CACHED037_an_empty_fixed_Key()
    {
        // Before it was reported, every call ran uncached and was logged as a failure of the cache.
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = [|""|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED037");
        Assert.That(message, Is.EqualTo("Key of 'UserService.GetUser' is empty: the cache refuses an empty key, so every call would run uncached; give the key some text (\"settings\"), make it a template (\"user:{id}\"), or remove Key for the default key"));
    }

    [Test]
    public void CACHED037_is_reported_once_and_an_InvalidateCache_method_of_the_target_still_generates()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Key = "")]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateCache(nameof(GetUser))]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED037" }));
        Assert.That(run.Sources.Single().Value, Does.Contain("RenameCore(").And.Not.Contain("GetUserCore("));
        // Only the partial method left without a body: nothing inside the generated file.
        Assert.That(run.CompilationProblems.Select(static d => d.Id), Is.EqualTo(new[] { "CS8795" }));
    }

    [Test]
    public void A_Key_of_spaces_is_a_key_like_any_other()
    {
        // The cache refuses only an empty key (Guard.Key).
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Key = " ")]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void An_empty_KeyBuilder_is_CACHED010()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(KeyBuilder = [|""|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED010");
        Assert.That(message, Does.StartWith("KeyBuilder of 'UserService.GetUser' names '': add "));
    }
}
