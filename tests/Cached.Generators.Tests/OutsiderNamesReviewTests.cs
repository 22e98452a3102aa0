using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// Regressions of an outside review of names and hostile contexts in a user's project (from the packed package): a
/// user's attributes named like .NET's, identifiers that are keywords only in some places, names the generated code
/// reserves, and type names the compiler warns about. Each scenario builds with no diagnostic and runs.
/// </summary>
public sealed class OutsiderNamesReviewTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Cached;

        """;

    [SetUp]
    [TearDown]
    public void EmptyTheDefaultCache()
    {
        Caches.Reset();
        Caches.Get().Clear();
    }

    [Test]
    public void A_users_attributes_named_like_the_frameworks_do_not_change_how_a_record_is_keyed()
    {
        // Regression: an attribute matched by its name alone: a user's [Flags.Experimental] on a record member sent the
        // key to the record's printed text (where "1, B = 2" + "3" and "1" + "2, B = 3" print alike), and a user's
        // [Gen.CompilerGenerated] on a record's own ToString made the generator ignore it (R(1){Tag="b"} got the entry
        // of R(1){Tag="a"}).
        var scenario = UserScenario.Build(Usings, ["""
            namespace Flags { [AttributeUsage(AttributeTargets.All)] public sealed class ExperimentalAttribute : Attribute { } }
            namespace Gen { [AttributeUsage(AttributeTargets.All)] public sealed class CompilerGeneratedAttribute : Attribute { } }
            namespace App
            {
                public sealed record Pair(string A, [property: Flags.Experimental] string B);
                public sealed record R(int Id)
                {
                    internal string Tag { get; init; } = "";
                    [Gen.CompilerGenerated] public override string ToString() => $"{Id}:{Tag}";
                }

                public partial class Svc
                {
                    [Cached] public partial string Get(Pair p);
                    private string GetCore(Pair p) => p.A + "|" + p.B;
                    [Cached] public partial string Show(R r);
                    private string ShowCore(R r) => r.ToString();
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var s = new Svc();
                        return string.Join(" ", s.Get(new Pair("1, B = 2", "3")), s.Get(new Pair("1", "2, B = 3")),
                            s.Show(new R(1) { Tag = "a" }), s.Show(new R(1) { Tag = "b" }));
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("1, B = 2|3 1|2, B = 3 1:a 1:b"));
    }

    [Test]
    public async Task A_parameter_named_await_is_written_with_its_escape()
    {
        // Regression: 'await' is an identifier in the user's (not async) declaration, and a keyword in the generated
        // async lambda and async invalidating method: CS4003 and CS1525 inside the generated file.
        var scenario = UserScenario.Build(Usings, ["""
            namespace App
            {
                public partial class Svc
                {
                    public int Calls;

                    [Cached] public partial Task<int> GetAsync(int await);
                    private Task<int> GetAsyncCore(int await) { Calls++; return Task.FromResult(await * 2); }

                    [InvalidateCache(nameof(GetAsync))] public partial Task ForgetAsync(int await);
                    private Task ForgetAsyncCore(int await) => Task.CompletedTask;
                }

                public static class Probe
                {
                    public static async Task<string> RunAsync()
                    {
                        var s = new Svc();
                        var first = await s.GetAsync(2);
                        await s.GetAsync(2);
                        await s.ForgetAsync(2);
                        await s.GetAsync(2);
                        return first + " " + s.Calls;
                    }
                }
            }
            """]);

        Assert.That(await UserScenario.RunAsync(scenario), Is.EqualTo("4 2"));
    }

    [Test]
    public async Task A_type_named_var_in_scope_does_not_change_the_generated_locals()
    {
        // Regression (stop 65's names review, left then): the generated locals were declared 'var', which a user's type
        // named 'var' in the namespace turns into that type: CS0029 inside the generated file, for template and default
        // keys, an [InvalidateCache] key, a [MultiCached] method declaring an interface, a sequence and an invalidating
        // method's result.
        var scenario = UserScenario.Build(Usings, ["""
            namespace App
            {
            #pragma warning disable CS8981
                public sealed class var { }
            #pragma warning restore CS8981

                public partial class Svc
                {
                    public int Calls;

                    [Cached(Key = "u:{id}")] public partial int ByTemplate(int id);
                    private int ByTemplateCore(int id) { Calls++; return id; }

                    [Cached] public partial int ByDefault(int id, string name);
                    private int ByDefaultCore(int id, string name) { Calls++; return id + name.Length; }

                    [InvalidateCache(nameof(ByDefault))] public partial Task<int> ForgetAsync(int id, string name);
                    private Task<int> ForgetAsyncCore(int id, string name) => Task.FromResult(id);

                    [MultiCached(KeysFrom = "ids")] public partial Task<IReadOnlyDictionary<int, string>> ManyAsync(IEnumerable<int> ids);
                    private Task<IReadOnlyDictionary<int, string>> ManyAsyncCore(IEnumerable<int> ids)
                    {
                        Calls++;
                        Dictionary<int, string> found = new Dictionary<int, string>();
                        foreach (int id in ids) { found[id] = "v" + id; }
                        return Task.FromResult<IReadOnlyDictionary<int, string>>(found);
                    }

                    [Cached] public partial Task<IEnumerable<int>> SeqAsync(int n);
                    private Task<IEnumerable<int>> SeqAsyncCore(int n) { Calls++; return Task.FromResult<IEnumerable<int>>(new[] { n, n + 1 }); }
                }

                public static class Probe
                {
                    public static async Task<string> RunAsync()
                    {
                        Svc s = new Svc();
                        int a = s.ByTemplate(1) + s.ByTemplate(1);
                        int b = s.ByDefault(1, "ab") + s.ByDefault(1, "ab");
                        int forgot = await s.ForgetAsync(1, "ab");
                        int c = s.ByDefault(1, "ab");
                        IReadOnlyDictionary<int, string> many = await s.ManyAsync(new[] { 1, 2 });
                        await s.ManyAsync(new[] { 1, 2 });
                        IEnumerable<int> seq = await s.SeqAsync(3);
                        await s.SeqAsync(3);
                        return string.Join(" ", a, b, forgot, c, many[2], string.Join(",", seq), s.Calls);
                    }
                }
            }
            """]);

        Assert.That(await UserScenario.RunAsync(scenario), Is.EqualTo("2 6 1 3 v2 3,4 5"));
    }

    [Test]
    public void A_global_using_alias_named_var_does_not_change_the_generated_locals()
    {
        // As above, through 'global using var = ...;' in another file of the project.
        var scenario = UserScenario.Build(string.Empty, ["""
            global using var = System.Text.StringBuilder;
            """, Usings + """
            namespace App
            {
                public partial class Svc
                {
                    public int Calls;

                    [Cached(Key = "u:{id}")] public partial int ByTemplate(int id);
                    private int ByTemplateCore(int id) { Calls++; return id; }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        Svc s = new Svc();
                        return (s.ByTemplate(2) + s.ByTemplate(2)) + " " + s.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("4 1"));
    }

    [Test]
    public void An_unsafe_type_is_declared_unsafe_again_so_that_pointer_types_in_its_signatures_build()
    {
        // Regression (outside check of hostile contexts): 'unsafe' on the class made its methods' pointer types legal
        // (an array of pointers, ignored by the key), but the generated declaration of the class was not unsafe:
        // CS0214 inside the generated file. 'unsafe' on the method itself built.
        var compilation = GeneratorRunner.Compile(Usings + """
            namespace App
            {
                public unsafe partial class Svc
                {
                    [Cached] public partial int TakesPointers([CacheKeyIgnore] int*[] pointers, int x);
                    private int TakesPointersCore(int*[] pointers, int x) => x + pointers.Length;

                    public partial class Nested
                    {
                        [Cached] public partial int Inner([CacheKeyIgnore] int*[] pointers, int x);
                        private int InnerCore(int*[] pointers, int x) => x;
                    }
                }
            }
            """);
        var run = GeneratorRunner.Run(compilation.WithOptions(compilation.Options.WithAllowUnsafe(true)));

        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void A_lowercase_type_name_the_user_allowed_does_not_warn_in_the_generated_file()
    {
        // Regression: CS8981 (a type name of lowercase letters only, a warning from warning level 7, the SDK's default
        // since .NET 7) was reported inside the generated file, which the user's '#pragma warning disable CS8981' cannot
        // reach; under TreatWarningsAsErrors the build failed.
        var compilation = GeneratorRunner.Compile(Usings + """
            namespace App
            {
            #pragma warning disable CS8981
                public partial class svc<t>
            #pragma warning restore CS8981
                {
                    [Cached] public partial int Get(int id);
                    private int GetCore(int id) => id + 1;
                }

                public partial class Plain
                {
                    [Cached] public partial int Get(int id);
                    private int GetCore(int id) => id + 1;
                }

                public partial class Generic
                {
            #pragma warning disable CS8981
                    [Cached] public partial t Echo<t>(t value);
                    private t EchoCore<t>(t value) => value;
            #pragma warning restore CS8981
                }
            }
            """);
        var run = GeneratorRunner.Run(compilation.WithOptions(compilation.Options.WithWarningLevel(9999)));

        Assert.That(UserScenario.Problems(run), Is.Empty);
        Assert.That(run.Sources.Single(static s => s.Key.StartsWith("App.svc", StringComparison.Ordinal)).Value, Does.Contain("#pragma warning disable CS8981"));
        Assert.That(run.Sources["App.Generic.Cached.g.cs"], Does.Contain("#pragma warning disable CS8981"), "a generic method's type parameters are declared again");
        Assert.That(run.Sources["App.Plain.Cached.g.cs"], Does.Not.Contain("CS8981"), "only where a name needs it");
    }

    [Test]
    public void Types_named_like_contextual_keywords_are_declared_again_with_their_escape()
    {
        // Regression: 'partial class file' (the user wrote @file) read as the modifier: CS9056 inside the generated
        // file; @required and @scoped likewise, and @record warned CS8860.
        var scenario = UserScenario.Build(Usings, ["""
            namespace App
            {
                public partial class @file
                {
                    [Cached] public partial int Get(int id);
                    private int GetCore(int id) => id + 1;
                }

                public partial class @required
                {
                    [Cached] public partial int Get(int id);
                    private int GetCore(int id) => id + 2;
                }

                public partial class @scoped
                {
                    [Cached] public partial int Get(int id);
                    private int GetCore(int id) => id + 3;
                }

                public static class Probe
                {
                    public static string Run() => $"{new @file().Get(1)} {new @required().Get(1)} {new @scoped().Get(1)}";
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("2 3 4"));
    }
}
