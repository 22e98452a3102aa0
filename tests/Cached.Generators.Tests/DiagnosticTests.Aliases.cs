using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED038: an Alias no configuration can hold (empty or white space), on each attribute that takes one; and
/// Namespace = "", which is no misuse: no namespace, even where the alias's cache has one.
/// </summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED038 ----

    [Test]
    public void CACHED038_an_empty_Alias_on_Cached()
    {
        // Before it was reported, the generated module initializer registered the alias "", which the runtime refuses:
        // the assembly threw TypeInitializationException as it loaded.
        var message = Single("""
            public partial class UserService
            {
                [Cached(Alias = [|""|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED038");
        Assert.That(message, Is.EqualTo("Alias of 'UserService.GetUser' is empty: no configuration can name such a cache; name a configured alias (\"redis\"), or remove Alias for the default cache"));
    }

    [Test]
    public void CACHED038_an_Alias_of_white_space_on_MultiCached()
    {
        // Before it was reported, every call ran its body uncached: configuration refuses such an alias, so it never has a cache.
        var message = Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids", Alias = [|"  "|])]
                public partial Task<Dictionary<int, User>> GetUsers(List<int> ids);
                private Task<Dictionary<int, User>> GetUsersCore(List<int> ids) => Task.FromResult(new Dictionary<int, User>());
            }
            """, "CACHED038");
        Assert.That(message, Is.EqualTo("Alias of 'UserService.GetUsers' is white space: no configuration can name such a cache; name a configured alias (\"redis\"), or remove Alias for the default cache"));
    }

    [Test]
    public void CACHED038_an_empty_Alias_on_InvalidateTags()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Tags = new[] { "user:{id}" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateTags("user:{id}", Alias = [|""|])]
                public partial void Rename(int id);
                private void RenameCore(int id) { }
            }
            """, "CACHED038");
        Assert.That(message, Is.EqualTo("Alias of 'UserService.Rename' is empty: no configuration can name such a cache; name a configured alias (\"redis\"), or remove Alias to invalidate in the caches of the type's tagged methods"));
    }

    [Test]
    public void CACHED038_leaves_the_alias_out_of_the_registration_the_assembly_runs_as_it_loads()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class UserService
            {
                [Cached(Alias = "")]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [Cached(Alias = "redis")]
                public partial User GetOther(int id);
                private User GetOtherCore(int id) => new(id, "name");
            }
            """);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED038" }));
        var registrations = run.Sources.Single(static s => s.Key.EndsWith("Cached.Aliases.g.cs", StringComparison.Ordinal)).Value;
        Assert.That(registrations, Does.Contain("Register(\"redis\"").And.Not.Contain("Register(\"\""));
    }

    [TestCase("[Cached(Alias = \"shared\", Namespace = \"\")]", "public partial User GetUser(int id);", "private User GetUserCore(int id) => new(id, \"name\");")]
    [TestCase("[MultiCached(KeysFrom = \"ids\", Namespace = \"\")]", "public partial Dictionary<int, User> GetUser(List<int> ids);", "private Dictionary<int, User> GetUserCore(List<int> ids) => new();")]
    public void An_empty_Namespace_is_no_namespace_and_reaches_the_cache_as_written(string attribute, string declaration, string body)
    {
        // docs/decorators.md: Namespace = "" means no namespace, even where the cache has one of its own; a command's
        // namespace "" means the same (docs/caches.md).
        var run = GeneratorRunner.Run(Prelude + $$"""
            public partial class UserService
            {
                {{attribute}}
                {{declaration}}
                {{body}}
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources.Values, Has.Some.Contain("Namespace = \"\""));
    }
}
