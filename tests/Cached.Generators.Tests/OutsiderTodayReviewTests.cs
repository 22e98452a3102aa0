using System.Diagnostics;
using System.Reflection;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests.Outsider;

/// <summary>An outsider's review of today's changes through the generator: own-key calls and blank KeyBuilder keys.</summary>
public sealed class OutsiderTodayReviewTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;

        """;

    private ICache _cache = null!;

    [SetUp]
    public void FreshDefaultCache()
    {
        Caches.Reset();
        _cache = Caches.Get();
        // The shared default instance outlives Caches.Reset(): start every scenario from an empty cache.
        _cache.Clear();
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    private static string[] Problems(GeneratorRunResult run) => UserScenario.Problems(run);

    /// <summary>Generates, compiles (no diagnostic, no warning) and loads the scenario.</summary>
    private static Assembly Build(params string[] sources) => UserScenario.Build(Usings, sources);

    /// <summary>Runs <c>Probe.Run()</c> of a built scenario.</summary>
    private static string Run(Assembly scenario) => UserScenario.Run(scenario);

    /// <summary>Runs <c>Probe.RunAsync()</c> of a built scenario.</summary>
    private static Task<string> RunAsync(Assembly scenario) => UserScenario.RunAsync(scenario);


    [Test]
    public async Task Generated_async_methods_with_and_without_a_token_asking_for_their_own_key_are_refused()
    {
        // decorators.md: "a body (or what it calls) that calls its own cached method for the key it is computing would
        // wait for itself; that call throws InvalidOperationException naming the method and the key".
        var scenario = Build("""
            namespace Own;
            public static partial class Numbers
            {
                public static int Depth;
                [Cached(Key = "own-t:{id}", Ttl = 60)]
                public static partial Task<int> WithToken(int id, CancellationToken ct = default);
                private static async Task<int> WithTokenCore(int id, CancellationToken ct) => ++Depth > 1 ? 1 : await WithToken(id, ct) + 1;
                [Cached(Key = "own-v:{id}", Ttl = 60, FailSafe = 60)]
                public static partial ValueTask<int> Plain(int id);
                private static async ValueTask<int> PlainCore(int id) => ++Depth > 1 ? 1 : await Plain(id) + 1;
                [Cached(Key = "own-s:{id}", Ttl = 60, EagerRefresh = 0.5)]
                public static partial int Sync(int id);
                private static int SyncCore(int id) => ++Depth > 1 ? 1 : Sync(id) + 1;
            }
            public static class Probe
            {
                static async Task<string> One(Func<Task<int>> call)
                {
                    Numbers.Depth = 0;
                    var running = Task.Run(call);
                    if (await Task.WhenAny(running, Task.Delay(20000)) != running) return "hung";
                    try { return (await running).ToString(); } catch (Exception e) { return e.GetType().Name; }
                }
                public static async Task<string> RunAsync()
                    => await One(() => Numbers.WithToken(1, new CancellationTokenSource().Token)) + " "
                     + await One(() => Numbers.WithToken(2)) + " "
                     + await One(() => Numbers.Plain(3).AsTask()) + " "
                     + await One(() => Task.FromResult(Numbers.Sync(4)));
            }
            """);

        var outcome = await RunAsync(scenario);

        Assert.That(outcome, Is.EqualTo("InvalidOperationException InvalidOperationException InvalidOperationException InvalidOperationException"));
        Assert.That(_cache.Exists("own-t:1") || _cache.Exists("own-t:2") || _cache.Exists("own-v:3") || _cache.Exists("own-s:4"), Is.False, "nothing stored");
    }

    [Test]
    public void Generated_multi_with_a_KeyBuilder_returning_empty_caches_the_rest_and_recomputes_the_blank_keys()
    {
        // decorators.md [MultiCached]: "A key that can have no entry, ... one whose cache key is empty ..., goes to the body
        // on every call, in the caller's order with the missing keys, and is never read, stored or invalidated".
        var scenario = Build("""
            namespace Blank;
            public static partial class Users
            {
                public static List<string> Requests = new();
                private static string Key(string name) => name.StartsWith("x") ? "" : "u-" + name;
                [MultiCached(KeysFrom = "names", KeyBuilder = nameof(Key))]
                public static partial Dictionary<string, string> Get(string[] names);
                private static Dictionary<string, string> GetCore(string[] names) { Requests.Add(string.Join(";", names)); return names.ToDictionary(n => n, n => "v" + n); }
                [InvalidateCache(nameof(Get))]
                public static partial void Forget(string names);
                private static void ForgetCore(string names) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var first = Users.Get(new[] { "x2", "a", "x1", "a", "b" });
                    var second = Users.Get(new[] { "b", "x1", "a" });
                    Users.Forget("x1");
                    Users.Forget("a");
                    var third = Users.Get(new[] { "a", "x1", "b" });
                    return first.Count + "/" + second.Count + "/" + third.Count + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        var outcome = Run(scenario);

        Assert.That(outcome, Is.EqualTo("4/3/3 | x2;a;x1;b x1 a;x1"));
        Assert.That(_cache.Exists("u-b"), Is.True);
    }
}
