using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// The user's text and types as the generated file repeats them: every character C# reads as a line break escaped in
/// the strings it writes (a key, a tag, a hole's format), and the types of the signature, whatever attributes they
/// carry, named without an error the user's own <c>#pragma</c> cannot reach. Each scenario is compiled with the
/// generated code (no diagnostic, no warning), loaded and run.
/// </summary>
public sealed class GeneratedTextBehaviourTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using Cached;

        """;

    /// <summary>Unconfigured, the default alias is one in-memory store that Caches.Reset leaves as it is: emptied before and after.</summary>
    [SetUp]
    [TearDown]
    public void EmptyTheDefaultCache()
    {
        Caches.Reset();
        Caches.Get().Clear();
    }

    [Test]
    public void Line_separators_and_next_lines_in_keys_tags_and_formats_are_written_as_escapes()
    {
        // C# ends a line at U+0085, U+2028 and U+2029 as at \n: copied raw into a regular string, they broke the build
        // inside the generated file (CS1010, CS1039). The attribute's strings write them as escapes here.
        var scenario = UserScenario.Build(Usings, ["""
            namespace Shop
            {
                public partial class Store
                {
                    public static int Calls;

                    [Cached(Key = "k\u2029{x}", Tags = new[] { "t\u2028{x}", "n\u0085{x}", "fixed\u2028tag" })]
                    public static partial string Get(int x);
                    private static string GetCore(int x) { Calls++; return "v" + x; }

                    [Cached(Key = "d:{d:HH\u2028mm}")]
                    public static partial string At(DateTime d);
                    private static string AtCore(DateTime d) => "at";

                    [Cached(Key = "fixed\u2029key")]
                    public static partial string Fixed();
                    private static string FixedCore() => "f";

                    [InvalidateTags("t\u2028{x}")]
                    public static partial void Forget(int x);
                    private static void ForgetCore(int x) { }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        Store.Get(1);
                        Store.At(new DateTime(2024, 1, 2, 3, 4, 5));
                        Store.Fixed();
                        Store.Forget(1);
                        Store.Get(1);
                        var keys = (IEnumerable<string>)Caches.Get().Raw("keys")!;
                        return string.Join("|", keys.Where(static k => !k.StartsWith("__", StringComparison.Ordinal)).OrderBy(static k => k, StringComparer.Ordinal)) + ";" + Store.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("d:03\u202804|fixed\u2029key|k\u20291;2"), "the keys as written, and the tag invalidated by its own text");
    }

    [Test]
    public void The_generated_file_holds_no_raw_line_separator_nor_lone_surrogate()
    {
        // A lone surrogate compiles, but written to disk (EmitCompilerGeneratedFiles) or into the PDB as UTF-8 it turns
        // into U+FFFD: the file would not show the key the code builds. A pair (an emoji) stays as it is.
        var run = GeneratorRunner.Run(Usings + """
            namespace Shop
            {
                public partial class Store
                {
                    [Cached(Key = "k\ud800\u2028{x:D\u00852}\U0001F600", Tags = new[] { "t\udc00{x}" })]
                    public static partial string Get(int x);
                    private static string GetCore(int x) => "v";
                }
            }
            """);

        Assert.That(UserScenario.Problems(run), Is.Empty);
        var generated = run.Sources.Values.Single();
        Assert.That(generated, Does.Contain("\\ud800\\u2028").And.Contain("D\\u00852").And.Contain("\U0001F600").And.Contain("t\\udc00"));
        Assert.That(generated.Where(static c => c is '\u0085' or '\u2028' or '\u2029'), Is.Empty);
    }

    [Test]
    public void Experimental_types_the_signature_and_the_options_name_build_under_the_users_pragma()
    {
        // Using an [Experimental] type is an error that '#pragma warning disable <id>' lifts, but the user's pragma
        // does not reach the generated file: the result type, the state field's CachedMethod<T> and the parameter
        // failed the build there, each 'error SHOP001'. The generated file now lifts the ids its types carry (and the
        // body's, which it calls).
        var scenario = UserScenario.Build(Usings, ["""
            using System.Diagnostics.CodeAnalysis;
            using System.Threading.Tasks;
            namespace Shop
            {
                [Experimental("SHOP001")] public sealed record Preview(int Id);
                [Experimental("SHOP002")] public sealed record Draft(string Name);
                [Experimental("SHOP003")] public sealed class PreviewPlugin : Cached.Plugins.CachePlugin { }
                [Experimental("SHOP004")] public interface IShape { }
                [Experimental("SHOP005")] public enum Mode { Fast }
                [Experimental("SHOP006")] public static class Outer { public sealed record Inner(int X); }
            }

            #pragma warning disable SHOP001, SHOP002, SHOP003, SHOP004, SHOP005, SHOP006, SHOP007
            namespace Shop
            {
                public partial class Store
                {
                    public static int Calls;

                    [Cached(Plugins = new[] { typeof(PreviewPlugin) })]
                    public static partial Preview Get(Draft draft);
                    private static Preview GetCore(Draft draft) { Calls++; return new(1); }

                    [Cached]
                    public static partial Task<List<Preview[]>> All(Dictionary<int, Draft?> drafts, Mode mode, Outer.Inner inner);
                    private static Task<List<Preview[]>> AllCore(Dictionary<int, Draft?> drafts, Mode mode, Outer.Inner inner) => Task.FromResult(new List<Preview[]>());

                    [Cached]
                    public static partial T Echo<T>(T value) where T : IShape;
                    private static T EchoCore<T>(T value) where T : IShape => value;

                    [MultiCached(KeysFrom = "drafts")]
                    public static partial Dictionary<Draft, Preview> Many(List<Draft> drafts);
                    private static Dictionary<Draft, Preview> ManyCore(List<Draft> drafts) => new();

                    [Cached]
                    public static partial int Count();
                    [Experimental("SHOP007")] private static int CountCore() => 0;

                    [InvalidateCache(nameof(Get))]
                    public static partial void Forget(Draft draft);
                    private static void ForgetCore(Draft draft) { }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var draft = new Draft("a");
                        Store.Get(draft);
                        Store.Get(draft);
                        Store.Forget(draft);
                        Store.Get(draft);
                        return Store.Calls.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("2"), "a hit, then a miss after the invalidation");
    }

    [Test]
    public void Experimental_key_builders_and_skip_rules_build_under_the_users_pragma()
    {
        // Regression: the ids of the methods the generated file calls besides the body (a KeyBuilder, a SkipCacheWhen,
        // the KeyBuilder of a [MultiCached] method and of a method an invalidation reaches) were not lifted: each was
        // 'error SHOP01x' inside the generated file.
        var scenario = UserScenario.Build(Usings, ["""
            using System.Diagnostics.CodeAnalysis;
            namespace Shop
            {
                #pragma warning disable SHOP011, SHOP012, SHOP013
                public partial class Store
                {
                    public static int Calls;

                    [Cached(KeyBuilder = nameof(KeyOf), SkipCacheWhen = nameof(IsEmpty))]
                    public static partial string Get(int id);
                    private static string GetCore(int id) { Calls++; return id == 0 ? "" : "v" + id; }
                    [Experimental("SHOP011")] private static string KeyOf(int id) => "item:" + id;
                    [Experimental("SHOP012")] private static bool IsEmpty(string value) => value.Length == 0;

                    [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(ManyKeyOf))]
                    public static partial Dictionary<int, string> Many(List<int> ids);
                    private static Dictionary<int, string> ManyCore(List<int> ids) => ids.ToDictionary(static i => i, static i => "m" + i);
                    [Experimental("SHOP013")] private static string ManyKeyOf(int id) => "many:" + id;

                    [InvalidateCache(nameof(Get))]
                    public static partial void Forget(int id);
                    private static void ForgetCore(int id) { }
                }
                #pragma warning restore SHOP011, SHOP012, SHOP013

                public static class Probe
                {
                    public static string Run()
                    {
                        Store.Get(1);
                        Store.Get(1);
                        Store.Get(0);
                        Store.Get(0);
                        Store.Forget(1);
                        Store.Get(1);
                        return Store.Calls.ToString(System.Globalization.CultureInfo.InvariantCulture) + " " + Store.Many([1, 2])[2];
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("4 m2"), "a hit; an empty result is not cached; a miss after the invalidation");
    }

    [Test]
    public void Types_obsolete_as_errors_in_an_obsolete_method_build_and_the_method_caches()
    {
        // Regression (outside check of hostile contexts): the state field, the key method and the tags method named
        // the [Obsolete(error: true)] types outside the [Obsolete] method, where they are errors (CS0619 in the
        // generated file, which no pragma lifts). They are [Obsolete] too now.
        var scenario = UserScenario.Build(Usings, ["""
            #pragma warning disable CS0612, CS0618
            namespace Legacy
            {
                [Obsolete("use Account", true)]
                public sealed record OldUser(int Id, string Name);

                [Obsolete("use Region", true)]
                public enum OldRegion { Eu, Us }

                public partial class Accounts
                {
                    public int Calls;

                    [Obsolete("moving to GetAccount")]
                    [Cached(Ttl = 60, Tags = new[] { "users" })]
                    public partial OldUser Get(int id, OldRegion region);
                    [Obsolete("moving to GetAccount")]
                    private OldUser GetCore(int id, OldRegion region) { Calls++; return new OldUser(id, region + ":" + Calls); }

                    [Obsolete("moving to GetAccount")]
                    [MultiCached(KeysFrom = "ids", Ttl = 60)]
                    public partial Dictionary<int, OldUser> GetMany(List<int> ids);
                    [Obsolete("moving to GetAccount")]
                    private Dictionary<int, OldUser> GetManyCore(List<int> ids) { Calls++; return ids.ToDictionary(id => id, id => new OldUser(id, "many")); }

                    [Obsolete("moving to GetAccount")]
                    [InvalidateCache(nameof(Get), nameof(GetMany))]
                    public partial void Forget(int id, OldRegion region, int ids);
                    [Obsolete("moving to GetAccount")]
                    private void ForgetCore(int id, OldRegion region, int ids) { }
                }

                [Obsolete("moving to GetAccount")]
                public static class Probe
                {
                    public static string Run()
                    {
                        var accounts = new Accounts();
                        var first = accounts.Get(1, OldRegion.Eu).Name;
                        var hit = accounts.Get(1, OldRegion.Eu).Name;
                        var many = accounts.GetMany([1, 2])[2].Name + accounts.GetMany([2])[2].Name;
                        accounts.Forget(1, OldRegion.Eu, 2);
                        return first + " " + hit + " " + many + " " + accounts.Get(1, OldRegion.Eu).Name + " " + accounts.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("Eu:1 Eu:1 manymany Eu:3 3"));
    }

    [Test]
    public void A_class_nested_in_the_class_it_derives_from_caches_a_method_of_the_same_name_on_its_own()
    {
        // Regression (outside check of hostile contexts): the nested class's generated state and key method hid the outer
        // class's private ones, which it can see (CS0108 inside the generated file, an error under TreatWarningsAsErrors).
        var scenario = UserScenario.Build(Usings, ["""
            namespace Tree
            {
                public partial class Node
                {
                    public int Calls;

                    [Cached(Ttl = 60, Tags = new[] { "node:{id}" })]
                    public partial int Get(int id);
                    private int GetCore(int id) { Calls++; return id; }

                    [InvalidateCache(nameof(Get))]
                    public partial void Forget(int id);
                    private void ForgetCore(int id) { }

                    public partial class Leaf : Node
                    {
                        [Cached(Ttl = 60, Tags = new[] { "leaf:{id}" })]
                        public new partial int Get(int id);
                        private new int GetCore(int id) { Calls++; return -id; }

                        [InvalidateCache(nameof(Get))]
                        public new partial void Forget(int id);
                        private new void ForgetCore(int id) { }
                    }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var node = new Node();
                        var leaf = new Node.Leaf();
                        var values = node.Get(1) + " " + leaf.Get(1) + " " + node.Get(1) + " " + leaf.Get(1);
                        leaf.Forget(1);
                        return values + " " + node.Get(1) + " " + leaf.Get(1) + " " + node.Calls + " " + leaf.Calls;
                    }
                }
            }
            """]);

        // Each class has entries of its own; the leaf's invalidation drops the leaf's entry alone.
        Assert.That(UserScenario.Run(scenario), Is.EqualTo("1 -1 1 -1 1 -1 1 2"));
    }

    [Test]
    public void Types_obsolete_with_a_diagnostic_id_of_their_own_build_in_a_method_that_is_not_obsolete()
    {
        // From a review: [Obsolete(DiagnosticId = "ACME001")] raises ACME001, not CS0618, which the generated file lifted
        // alone; the user's pragma around their declaration cannot reach that file.
        var scenario = UserScenario.Build(Usings, ["""
            namespace Legacy
            {
                [Obsolete("use Account", DiagnosticId = "ACME001")]
                public sealed record OldUser(int Id);

                public partial class Accounts
                {
                    public int Calls;
            #pragma warning disable ACME001
                    [Cached(Ttl = 60, Tags = new[] { "user:{id}" })]
                    public partial OldUser Get(int id, OldUser? hint);
                    private OldUser GetCore(int id, OldUser? hint) { Calls++; return new OldUser(id); }
            #pragma warning restore ACME001
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var accounts = new Accounts();
                        return accounts.Get(1, null).Id + " " + accounts.Get(1, null).Id + " " + accounts.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("1 1 1"));
    }
    [Test]
    public void Bodies_obsolete_as_errors_to_keep_callers_off_them_are_called_through_an_obsolete_forwarder()
    {
        // Regression (a review's note): a <Name>Core marked [Obsolete(error: true)], so that nothing but the cached
        // method calls it, failed the generated call with CS0619, which no pragma lifts. The generated code calls it
        // from a forwarder marked [Obsolete], from where C# allows it. Instance and static, sync and async, generic, [Cached],
        // [MultiCached], an [InvalidateCache] method's own body, and a base class's body that a method of its name hides.
        var scenario = UserScenario.Build(Usings, ["""
            using System.Threading;
            using System.Threading.Tasks;

            namespace Guarded
            {
                public class RepositoryBase
                {
                    [Obsolete("call Find", error: true)]
                    protected int FindCore(int id) => id * 100;
                }

                public partial class Repository : RepositoryBase
                {
                    public static int Calls;

                    [Cached(Ttl = 60)]
                    public partial int Find(int id);
                    private int FindCore(long id) => -1;

                    [Cached(Ttl = 60)]
                    public partial string Get(int id);
                    [Obsolete("call Get", error: true)]
                    private string GetCore(int id) { Calls++; return "get" + id; }

                    [Cached(Ttl = 60)]
                    public static partial Task<string> LoadAsync(int id, CancellationToken ct);
                    [Obsolete("call LoadAsync", true)]
                    private static Task<string> LoadAsyncCore(int id, CancellationToken ct) { Calls++; return Task.FromResult("load" + id); }

                    [MultiCached(KeysFrom = "ids", Ttl = 60)]
                    public partial Dictionary<int, string> GetMany(List<int> ids);
                    [Obsolete("call GetMany", error: true)]
                    private Dictionary<int, string> GetManyCore(List<int> ids) { Calls++; return ids.ToDictionary(id => id, id => "many" + id); }

                    [Cached(Ttl = 60)]
                    public partial T Echo<T>(T value);
                    [Obsolete("call Echo", error: true)]
                    private T EchoCore<T>(T value) { Calls++; return value; }

                    [InvalidateCache(nameof(Get))]
                    public partial void Forget(int id);
                    [Obsolete("call Forget", error: true)]
                    private void ForgetCore(int id) => Calls += 10;
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var repository = new Repository();
                        var found = repository.Find(2) + repository.Find(2);
                        var get = repository.Get(1) + repository.Get(1);
                        var load = Repository.LoadAsync(1, default).Result + Repository.LoadAsync(1, default).Result;
                        var many = repository.GetMany([1, 2])[2] + repository.GetMany([2])[2];
                        var echo = repository.Echo("e") + repository.Echo("e");
                        repository.Forget(1);
                        return found + " " + get + " " + load + " " + many + " " + echo + " " + repository.Get(1) + " " + Repository.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("400 get1get1 load1load1 many2many2 ee get1 15"));
    }

    [Test]
    public void An_override_of_a_virtual_obsolete_as_an_error_and_an_invalidating_overload_are_called_through_forwarders()
    {
        // Regressions (review): C# judges a call to an override by the virtual it overrides, so an override of an
        // [Obsolete(error: true)] virtual failed the generated call (CS0619) without a forwarder; and an invalidating
        // method that shares its name with two [Cached] overloads got a forwarder named __CachedCore_Find_-1 (CS1003).
        var scenario = UserScenario.Build(Usings, ["""
            namespace Guarded
            {
                public abstract class RepositoryBase
                {
                    [Obsolete("call Get", error: true)]
                    protected virtual string GetCore(int id) => "base";
                }

                public partial class Repository : RepositoryBase
                {
                    public static int Calls;

                    [Cached(Ttl = 60)]
                    public partial string Get(int id);
            #pragma warning disable CS0672 // The override is not marked obsolete: the point of the test.
                    protected override string GetCore(int id) { Calls++; return "derived" + id; }
            #pragma warning restore CS0672

                    [Cached(Ttl = 60)]
                    public partial string Find(int id);
                    private string FindCore(int id) { Calls++; return "find" + id; }

                    [Cached(Ttl = 60)]
                    public partial string Find(string name);
                    private string FindCore(string name) => name;

                    [InvalidateCache(nameof(Find))]
                    public partial void Find(int id, bool refresh);
                    [Obsolete("call Find", error: true)]
                    private void FindCore(int id, bool refresh) => Calls += 10;
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var repository = new Repository();
                        var get = repository.Get(1) + repository.Get(1);
                        var find = repository.Find(2) + repository.Find(2);
                        repository.Find(2, true);
                        return get + " " + find + " " + repository.Find(2) + " " + Repository.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("derived1derived1 find2find2 find2 13"));
    }
}

