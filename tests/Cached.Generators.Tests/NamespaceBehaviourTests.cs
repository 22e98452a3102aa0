using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// <c>Namespace = ""</c> on a cached method means no namespace, even where its cache has one of its own, as a
/// command's <c>namespace: ""</c> does (docs/decorators.md, docs/caches.md): not a misuse the generator reports.
/// </summary>
public sealed class NamespaceBehaviourTests
{
    private const string Alias = "namespaced";

    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void AnAliasWhoseCacheHasANamespace()
    {
        Caches.Reset();
        _cache = new SimpleMemoryCache { Namespace = "own" };
        Caches.AddInstance(Alias, _cache);
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    [Test]
    public void An_empty_Namespace_stores_the_entries_without_a_namespace_over_the_caches_own()
    {
        var scenario = UserScenario.Build("using System.Collections.Generic;\nusing Cached;\n", ["""
            namespace Demo;
            public partial class Svc
            {
                public int Calls;

                [Cached(Alias = "namespaced", Namespace = "")] public partial int Get(int id);
                private int GetCore(int id) => ++Calls;

                [MultiCached(KeysFrom = "ids", Alias = "namespaced", Namespace = "")] public partial Dictionary<int, int> GetMany(List<int> ids);
                private Dictionary<int, int> GetManyCore(List<int> ids) { Calls++; var d = new Dictionary<int, int>(); foreach (var i in ids) d[i] = i; return d; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var s = new Svc();
                    s.Get(1);
                    s.Get(1);
                    s.GetMany(new List<int> { 7 });
                    s.GetMany(new List<int> { 7 });
                    return s.Calls.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("2"), "each body ran once: the second calls were hits");
        Assert.That(_cache.Exists("Demo.Svc.Get(1)", @namespace: ""), Is.True, "stored without a namespace");
        Assert.That(_cache.Exists("7", @namespace: ""), Is.True);
        Assert.That(_cache.Exists("Demo.Svc.Get(1)"), Is.False, "not in the cache's own namespace");
    }

    [Test]
    public void A_Namespace_beside_an_Alias_applies_over_the_aliass_own()
    {
        // migration.md "Where we differ on purpose": aiocache ignores namespace= when alias= is given (with a warning);
        // here the method's Namespace is the one its entries are stored in (parity sweep, item 91).
        var scenario = UserScenario.Build("using Cached;\n", ["""
            namespace Demo;
            public partial class Svc
            {
                [Cached(Key = "k", Alias = "namespaced", Namespace = "x")] public partial int Get();
                private int GetCore() => 5;
            }
            public static class Probe
            {
                public static string Run() => new Svc().Get().ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("5"));
        Assert.That(_cache.Exists("k", @namespace: "x"), Is.True, "in the method's namespace");
        Assert.That(_cache.Exists("k"), Is.False, "not in the alias's own");
    }

    [Test]
    public void Methods_without_Alias_or_Cache_share_the_default_cache_and_a_Cache_type_gives_one_of_their_own()
    {
        // migration.md "Where we differ on purpose": aiocache's @cached() makes a cache per decorated function; here
        // methods without Alias or Cache share the default alias, so two fixed keys alike share one entry (parity
        // sweep, item 89), and Cache = typeof(SimpleMemoryCache) gives a method a cache of its own.
        Caches.Reset();
        Caches.Get().Clear();
        var scenario = UserScenario.Build("using Cached;\n", ["""
            namespace Demo;
            public static partial class A
            {
                public static int Calls;
                [Cached(Key = "config")] public static partial string Config();
                private static string ConfigCore() { Calls++; return "A's"; }
            }
            public static partial class B
            {
                public static int Calls;
                [Cached(Key = "config")] public static partial string Config();
                private static string ConfigCore() { Calls++; return "B's"; }
            }
            public static partial class C
            {
                public static int Calls;
                [Cached(Key = "config", Cache = typeof(SimpleMemoryCache))] public static partial string Config();
                private static string ConfigCore() { Calls++; return "C's"; }
            }
            public static class Probe
            {
                public static string Run() => A.Config() + " " + B.Config() + " " + C.Config() + " " + A.Calls + B.Calls + C.Calls;
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("A's A's C's 101"));
        Caches.Get().Clear();
    }
}

