using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Cached.Generators.Tests;

/// <summary>The diagnostics of tags (issue 17): CACHED024, CACHED025, CACHED026, and the shared ones [InvalidateTags] reuses.</summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED024 ----

    [Test]
    public void CACHED024_a_Cached_tag_names_an_unknown_parameter()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = new[] { "users", "user:[|{userId}|]:{name}" })]
                public partial Task<User> GetUser(int id, string name, CancellationToken ct);
                private Task<User> GetUserCore(int id, string name, CancellationToken ct) => Task.FromResult(new User(id, name));
            }
            """, "CACHED024");
        Assert.That(message, Is.EqualTo("Tag \"user:{userId}:{name}\" of 'UserService.GetUser' names 'userId', which is not a parameter (parameters: id, name)"));
    }

    [Test]
    public void CACHED024_a_hole_that_reaches_into_a_parameter_says_so()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = ["team:[|{user.TeamId}|]"])]
                public partial Task<User> GetUser(User user, CancellationToken ct);
                private Task<User> GetUserCore(User user, CancellationToken ct) => Task.FromResult(user);
            }
            """, "CACHED024");
        Assert.That(message, Is.EqualTo("Tag \"team:{user.TeamId}\" of 'UserService.GetUser' names 'user.TeamId', which is not a parameter; a hole names a whole parameter, not a member or an expression of it: give the method a parameter of that value (parameters: user)"));
    }

    [Test]
    public void CACHED024_a_tag_that_names_the_CancellationToken_says_so()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = ["user:{id}", "call:[|{ct}|]"])]
                public partial Task<User> GetUser(int id, CancellationToken ct);
                private Task<User> GetUserCore(int id, CancellationToken ct) => Task.FromResult(new User(id, "name"));
            }
            """, "CACHED024");
        Assert.That(message, Is.EqualTo("Tag \"call:{ct}\" of 'UserService.GetUser' names 'ct', its CancellationToken, which a tag cannot hold (parameters: id)"));
    }

    [Test]
    public void CACHED024_a_MultiCached_tag_names_an_unknown_parameter()
    {
        var message = Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids", Tags = new[] { "user:{ids}", "region:[|{area}|]" })]
                public partial Dictionary<int, User> GetUsers(List<int> ids, [CacheKeyIgnore] string region);
                private Dictionary<int, User> GetUsersCore(List<int> ids, string region) => new();
            }
            """, "CACHED024");
        Assert.That(message, Is.EqualTo("Tag \"region:{area}\" of 'UserService.GetUsers' names 'area', which is not a parameter (parameters: ids, region)"));
    }

    [Test]
    public void CACHED024_an_InvalidateTags_tag_names_an_unknown_parameter_among_its_constructor_arguments()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = new[] { "user:{id}" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateTags("users", "user:[|{userId:D4}|]")]
                public partial void Rename(int id, string name);
                private void RenameCore(int id, string name) { }
            }
            """, "CACHED024");
        Assert.That(message, Is.EqualTo("Tag \"user:{userId:D4}\" of 'UserService.Rename' names 'userId', which is not a parameter (parameters: id, name)"));
    }

    [Test]
    public void CACHED024_a_tag_held_by_a_constant_is_reported_on_the_constant()
    {
        Single("""
            public partial class UserService
            {
                private const string UserTag = "user:{userId}";

                [Cached(Tags = new[] { [|UserTag|] })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED024");
    }

    [Test]
    public void CACHED024_is_reported_for_a_tag_of_InvalidateTags_beside_InvalidateCache()
    {
        var diagnostics = Expect("""
            public partial class UserService
            {
                [Cached(Key = "user:{id}", Tags = new[] { "users" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateCache(nameof(GetUser))]
                [InvalidateTags("user:[|{name2}|]")]
                public partial void Rename(int id, string name);
                private void RenameCore(int id, string name) { }
            }
            """, DiagnosticSeverity.Error, "CACHED024");
        Assert.That(diagnostics, Has.Count.EqualTo(1), "reported once, though both attributes' pipelines see the method");
    }

    [Test]
    public void A_lone_closing_brace_in_a_tag_template_is_text_as_in_a_key()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Key = "user:{id}}", Tags = new[] { "id}", "{{users}}" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateTags("id}")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources.Single().Value, Does.Contain("new[] { \"id}\", \"{users}\" }"));
    }

    [Test]
    public void An_unclosed_hole_in_a_tag_template_is_CACHED027_on_every_attribute()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Key = "user:{id}", Tags = new[] { "user:{id" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateTags("user:{id")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED027", "CACHED027" }));
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)), Has.All.Contains("has the hole '{id': it has no closing brace"));
    }

    // ---- CACHED025 ----

    [TestCase("\"users\", [|\"\"|]", "has an empty tag")]
    [TestCase("[|null|], \"users\"", "has a null tag")]
    public void CACHED025_a_null_or_empty_Cached_tag(string tags, string problem)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [Cached(Tags = new string[] { {{tags}} })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED025");
        Assert.That(message, Is.EqualTo($"'UserService.GetUser' {problem}: give it some text, or remove it"));
    }

    [Test]
    public void CACHED025_an_empty_MultiCached_tag()
    {
        Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids", Tags = ["user:{ids}", [|""|]])]
                public partial Dictionary<int, User> GetUsers(List<int> ids);
                private Dictionary<int, User> GetUsersCore(List<int> ids) => new();
            }
            """, "CACHED025");
    }

    [TestCase("[|InvalidateTags|]")]
    [TestCase("[|InvalidateTags()|]")]
    [TestCase("InvalidateTags([|new string[0]|])")]
    public void CACHED025_InvalidateTags_without_a_tag(string attribute)
    {
        var message = Single($$"""
            public partial class UserService
            {
                [{{attribute}}]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, "CACHED025");
        Assert.That(message, Does.StartWith("'UserService.Rename' names no tag in [InvalidateTags]"));
    }

    [Test]
    public void CACHED025_InvalidateTags_with_an_Alias_and_no_tag_is_reported_on_the_attribute()
    {
        Single("""
            public partial class UserService
            {
                [[|InvalidateTags(Alias = "shared")|]]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, "CACHED025");
    }

    [Test]
    public void CACHED025_an_empty_tag_among_the_constructor_arguments_of_InvalidateTags()
    {
        Single("""
            public partial class UserService
            {
                [InvalidateTags("users", [|""|], Alias = "shared")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, "CACHED025");
    }

    [Test]
    public void An_empty_Tags_array_on_Cached_tags_nothing_and_generates_what_a_method_without_Tags_does()
    {
        const string Untagged = """
            public partial class UserService
            {
                [Cached(Key = "user:{id}")]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """;
        var withEmpty = GeneratorRunner.Run(Prelude + Untagged.Replace("Key = \"user:{id}\"", "Key = \"user:{id}\", Tags = new string[0]", StringComparison.Ordinal));
        Assert.That(withEmpty.GeneratorDiagnostics, Is.Empty);
        Assert.That(withEmpty.Sources.Single().Value, Is.EqualTo(GeneratorRunner.Run(Prelude + Untagged).Sources.Single().Value));
    }

    // ---- CACHED026 ----

    [Test]
    public void CACHED026_InvalidateTags_without_Alias_in_a_type_without_tagged_methods_is_a_warning_and_still_generates()
    {
        var diagnostics = Expect("""
            public partial class UserService
            {
                [Cached(Key = "user:{id}")]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [[|InvalidateTags("user:{id}")|]]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, DiagnosticSeverity.Warning, "CACHED026");
        Assert.That(diagnostics[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(
            "[InvalidateTags] on 'UserService.Rename' has no Alias, and 'UserService' has no [Cached] or [MultiCached] method with Tags: nothing would be invalidated; set Alias, or give the type's cached methods Tags"));

        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [InvalidateTags("user:{id}")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty, "the method is generated: it runs its implementation");
        Assert.That(run.Sources.Single().Value, Does.Contain("RenameCore(id);").And.Not.Contain("TagInvalidation"));
    }

    [Test]
    public void CACHED026_names_the_generic_tagged_methods_that_the_method_cannot_reach()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = "echo:{T}:{id}", Tags = new[] { "user:{id}" })]
                public partial T Echo<T>(int id, T value);
                private T EchoCore<T>(int id, T value) => value;

                [[|InvalidateTags("user:{id}")|]]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, "CACHED026", DiagnosticSeverity.Warning);
        Assert.That(message, Does.Contain("has no [Cached] or [MultiCached] method with Tags that it can name (declare the type parameters of generic 'Echo' on 'Rename' to reach it)"));
    }

    [Test]
    public void CACHED026_is_not_reported_with_an_Alias()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [InvalidateTags("user:{id}", Alias = "shared")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    // ---- Shared with [InvalidateCache] ----

    [Test]
    public void CACHED001_an_InvalidateTags_method_that_is_not_partial()
    {
        Single("""
            public partial class UserService
            {
                [InvalidateTags("users", Alias = "shared")]
                public void [|Rename|](int id) { }
            }
            """, "CACHED001");
    }

    [Test]
    public void CACHED002_an_InvalidateTags_method_without_its_Core()
    {
        var message = Single("""
            public partial class UserService
            {
                [InvalidateTags("user:{id}", Alias = "shared")]
                public partial Task [|Rename|](int id, string name);
            }
            """, "CACHED002");
        Assert.That(message, Does.Contain("add 'private Task RenameCore(int id, string name)'"));
    }

    [Test]
    public void CACHED002_an_InvalidateTags_Implementation_that_is_missing()
    {
        var message = Single("""
            public partial class UserService
            {
                [InvalidateTags("user:{id}", Alias = "shared", Implementation = [|"Apply"|])]
                public partial ValueTask<int> Rename(int id);
            }
            """, "CACHED002");
        Assert.That(message, Does.Contain("add 'private ValueTask<int> Apply(int id)'"));
    }

    [Test]
    public void CACHED003_an_InvalidateTags_method_with_a_ref_parameter()
    {
        Single("""
            public partial class UserService
            {
                [InvalidateTags("user:{id}", Alias = "shared")]
                public partial void Rename([|ref int id|]);
                private void RenameCore(ref int id) { }
            }
            """, "CACHED003");
    }

    // ---- CACHED020 ----

    [Test]
    public void CACHED020_an_async_stream_with_Tags()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = [|new[] { "users" }|])]
                public partial IAsyncEnumerable<User> Stream(int page);
                private IAsyncEnumerable<User> StreamCore(int page) => throw new NotSupportedException();
            }
            """, "CACHED020");
        Assert.That(message, Is.EqualTo("'UserService.Stream' returns 'IAsyncEnumerable<User>': an async stream cannot carry Tags: return 'Task<IEnumerable<User>>' to tag its items, or remove Tags"));
    }
}
