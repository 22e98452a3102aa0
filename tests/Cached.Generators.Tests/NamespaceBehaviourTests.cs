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
}
