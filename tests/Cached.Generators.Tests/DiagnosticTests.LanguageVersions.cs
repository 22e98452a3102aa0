using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED040: a Key or tag template in a project whose LangVersion is below 10. The generated code writes a template
/// through an interpolated string handler, a C# 10 feature: before it was reported, C# 9 failed the build inside the
/// generated file (CS8773).
/// </summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED040 ----

    [Test]
    public void CACHED040_a_Key_template_under_LangVersion_9()
    {
        var message = SingleAt(LanguageVersion.CSharp9, """
            public partial class UserService
            {
                [Cached(Key = [|"user:{id}"|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED040");
        Assert.That(message, Is.EqualTo("Key template \"user:{id}\" of 'UserService.GetUser' needs C# 10, and this project builds with C# 9.0: the generated code writes a template through an interpolated string handler; set LangVersion to 10 or later, or write the key with a KeyBuilder method"));
    }

    [Test]
    public void CACHED040_each_tag_template_of_Cached_and_InvalidateTags_under_LangVersion_9_and_not_a_fixed_tag()
    {
        var diagnostics = ExpectAt(LanguageVersion.CSharp9, """
            public partial class UserService
            {
                [Cached(Key = "user", Tags = new[] { "users", [|"user:{id}"|] })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateTags([|"user:{id}"|], "users")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, DiagnosticSeverity.Error, "CACHED040", "CACHED040");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "Tag template \"user:{id}\" of 'UserService.GetUser' needs C# 10, and this project builds with C# 9.0: the generated code writes a template through an interpolated string handler; set LangVersion to 10 or later, or use fixed tags",
            "Tag template \"user:{id}\" of 'UserService.Rename' needs C# 10, and this project builds with C# 9.0: the generated code writes a template through an interpolated string handler; set LangVersion to 10 or later, or use fixed tags",
        }));
    }

    [Test]
    public void A_Key_of_escaped_braces_or_a_lone_closing_brace_is_fixed_text_under_LangVersion_9()
    {
        // Regression: a key without a hole but with a brace went the template way, so C# 9 reported CACHED040 for it,
        // where a tag of the same text was fixed.
        var run = Infrastructure.GeneratorRunner.Run(LanguageVersion.CSharp9, """
            using Cached;
            namespace Demo
            {
                public partial class UserService
                {
                    [Cached(Key = "b{{x}}", Tags = new[] { "t{{y}}" })]
                    public partial string GetBraced(int id);
                    private string GetBracedCore(int id) => "name";

                    [Cached(Key = "c}")]
                    public partial string GetClosed(int id);
                    private string GetClosedCore(int id) => "name";
                }
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()), Is.Empty);
        var source = run.Sources.Single().Value;
        Assert.That(source, Does.Contain("\"b{x}\"").And.Contain("\"c}\"").And.Contain("\"t{y}\""));
        Assert.That(source, Does.Not.Contain("CacheKeyTemplate"), "no template is written");
    }

    [Test]
    public void Key_and_tag_templates_under_LangVersion_10_build_without_a_diagnostic()
    {
        var run = Infrastructure.GeneratorRunner.Run(LanguageVersion.CSharp10, Prelude + """
            public partial class UserService
            {
                [Cached(Key = "user:{id:D4}", Tags = new[] { "user:{id}", "users" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateTags("user:{id}")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void Every_shape_without_a_template_builds_under_LangVersion_9()
    {
        // docs/decorators.md "Language versions": what C# 9 compiles, without a file-scoped namespace of the test's own.
        var run = Infrastructure.GeneratorRunner.Run(LanguageVersion.CSharp9, """
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo
            {
                public sealed record User(int Id, string Name);
                public partial class UserService
                {
                    [Cached(Ttl = 5, Tags = new[] { "users" })]
                    public partial User GetUser(int id);
                    private User GetUserCore(int id) => new(id, "name");

                    [Cached(Key = "all", Alias = "redis", FailSafe = 10, SoftTimeout = 1)]
                    public partial Task<List<User>> GetAllAsync(CancellationToken ct);
                    private Task<List<User>> GetAllAsyncCore(CancellationToken ct) => Task.FromResult(new List<User>());

                    [Cached(KeyBuilder = nameof(NameKey), Cache = typeof(SimpleMemoryCache), Serializer = typeof(Cached.Serializers.JsonSerializer))]
                    public partial ValueTask<string> GetNameAsync(int id);
                    private ValueTask<string> GetNameAsyncCore(int id) => new("name");
                    private static string NameKey(int id) => "name:" + id;

                    [Cached]
                    public partial T Echo<T>(T value);
                    private T EchoCore<T>(T value) => value;

                    [Cached]
                    public partial IAsyncEnumerable<int> Stream(int count);
                    private async IAsyncEnumerable<int> StreamCore(int count) { await Task.Yield(); yield return count; }

                    [MultiCached(KeysFrom = "ids", Tags = new[] { "users" })]
                    public partial Task<Dictionary<int, User>> GetUsersAsync(IReadOnlyList<int> ids);
                    private Task<Dictionary<int, User>> GetUsersAsyncCore(IReadOnlyList<int> ids) => Task.FromResult(new Dictionary<int, User>());

                    [InvalidateCache(nameof(GetUser), nameof(GetUsersAsync))]
                    [InvalidateTags("users")]
                    public partial Task RenameAsync(int id, int ids);
                    private Task RenameAsyncCore(int id, int ids) => Task.CompletedTask;
                }
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()), Is.Empty, () => string.Join("\n// ----\n", run.Sources.Values));
    }

    private static string SingleAt(LanguageVersion version, string body, string id)
        => ExpectAt(version, body, DiagnosticSeverity.Error, id)[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture);
}
