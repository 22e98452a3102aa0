using System.Diagnostics;
using System.Reflection;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's check of <c>[MultiCached]</c> as a user meets it: each scenario is a user's source file, run through
/// the generator, compiled with the generated code (every warning counted), loaded, and run by its <c>Probe.Run()</c>
/// (or <c>Probe.RunAsync()</c>) against the default cache. Each test cites the sentence of docs/decorators.md (or the
/// expectation) it checks.
/// </summary>
public sealed class OutsiderMultiCachedReviewTests
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

    // ---------------------------------------------------------------- odd keys

    [Test]
    public void An_empty_string_key_in_a_batch_does_not_keep_the_other_keys_of_the_batch_out_of_the_cache()
    {
        // docs/decorators.md [MultiCached]: "its entries are stored with one MultiSet"; "Without a KeyBuilder a key's
        // cache key is its invariant text (a string as it is)". docs/reliability.md: an empty key in MultiGet/MultiSet
        // refuses "the whole batch". Reasonable expectation: one empty key (a blank form field) costs that key its
        // entry, not every other key of the batch, on every call.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "names")]
                public static partial Dictionary<string, string> Get(List<string> names);
                private static Dictionary<string, string> GetCore(List<string> names) { Requests.Add(string.Join(";", names.Select(n => "'" + n + "'"))); return names.ToDictionary(n => n, n => "v" + n); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var first = Users.Get(new List<string> { "a", "", "b" });
                    var second = Users.Get(new List<string> { "a", "", "b" });
                    return first.Count + "/" + second.Count + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        var outcome = Run(scenario);

        Assert.Multiple(() =>
        {
            Assert.That(_cache.Exists("a") && _cache.Exists("b"), Is.True, "the keys a and b are cached despite the empty key beside them; outcome: " + outcome);
            Assert.That(outcome, Is.EqualTo("3/3 | 'a';'';'b' ''"), "the second call asks the body for the empty key only");
        });
    }

    [Test]
    public void An_empty_string_key_in_one_method_does_not_stop_another_method_on_the_same_cache_from_caching()
    {
        // docs/decorators.md [Cached], Fail-open: "a cache fault (backend down, unreadable payload, timeout) never fails the
        // call". An empty key is bad input, not a backend outage: the standard-error line says "cache 'default' failed".
        // Expectation: another method's batch on the same cache, right after, is still cached.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "names", Namespace = "names")]
                public static partial Dictionary<string, string> Get(List<string> names);
                private static Dictionary<string, string> GetCore(List<string> names) => names.ToDictionary(n => n, n => "v" + n);
                [MultiCached(KeysFrom = "ids", Namespace = "ids")]
                public static partial Dictionary<int, string> Other(int[] ids);
                private static Dictionary<int, string> OtherCore(int[] ids) { Requests.Add(string.Join(";", ids)); return ids.ToDictionary(i => i, i => "u" + i); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    Users.Get(new List<string> { "a", "" });
                    Users.Other(new[] { 1, 2 });
                    Users.Other(new[] { 1, 2 });
                    return string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("1;2"));
    }

    [Test]
    public void A_null_key_answers_the_same_after_the_string_key_null_was_cached()
    {
        // docs/decorators.md Keys: in a default key "null is null"; [MultiCached]: a key's cache key "is its invariant
        // text". A Dictionary result cannot hold a null key, so a null key cannot be answered. Reasonable expectation: the
        // same input gives the same outcome whether its entries are cached or not (fail-open: the cache never changes
        // what a call does), and a string key "null" is not the null key's entry. Found: the null key's cache key is the
        // string "null"'s, so once Get(["null"]) has run, Get(["a", null]) hits that entry and throws ArgumentNullException
        // (the entry cannot go into the result Dictionary), where the cold call answered a=va.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "names")]
                public static partial Dictionary<string, string> Get(List<string> names);
                private static Dictionary<string, string> GetCore(List<string> names) { Requests.Add(string.Join(";", names.Select(n => n ?? "<null>"))); return names.Where(n => n is not null).ToDictionary(n => n, n => "v" + n); }
            }
            public static class Probe
            {
                static string Try(Func<Dictionary<string, string>> call)
                {
                    try { var d = call(); return string.Join(";", d.OrderBy(p => p.Key).Select(p => p.Key + "=" + p.Value)); }
                    catch (Exception e) { return e.GetType().Name; }
                }
                public static string Run()
                {
                    var cold = Try(() => Users.Get(new List<string> { "a", null! }));
                    var literal = Try(() => Users.Get(new List<string> { "null" }));
                    var warm = Try(() => Users.Get(new List<string> { "a", null! }));
                    return cold + " | " + literal + " | " + warm + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        var parts = Run(scenario).Split(" | ");

        Assert.Multiple(() =>
        {
            Assert.That(parts[1], Is.EqualTo("null=vnull"), "the string \"null\" answers with its own value");
            Assert.That(parts[2], Is.EqualTo(parts[0]), "a warm cache answers the null key's batch as the cold one did; requests: " + parts[3]);
        });
    }

    [Test]
    public void Two_keys_a_KeyBuilder_maps_to_one_cache_key_leave_the_entry_invalidatable_and_refillable()
    {
        // docs/decorators.md [MultiCached]: "KeyBuilder (string Name(TKey key)) maps a key to its cache key, and the body
        // still receives the original keys"; [InvalidateCache]: "Each key's entry is deleted under the key the target's
        // own calls use". A builder that folds case maps "a" and "A" to one entry: after an invalidation the next batch
        // must compute it again and store it (one fill of the two is opened twice for the same cache key).
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                public static int Version = 1;
                private static string Folded(string name) => name.ToLowerInvariant();
                [MultiCached(KeysFrom = "names", KeyBuilder = nameof(Folded))]
                public static partial Dictionary<string, string> Get(string[] names);
                private static Dictionary<string, string> GetCore(string[] names) { Requests.Add(string.Join(";", names)); return names.ToDictionary(n => n, n => n + Version); }
                [InvalidateCache(nameof(Get))]
                public static partial void Forget(string names);
                private static void ForgetCore(string names) { }
            }
            public static class Probe
            {
                static string Show(Dictionary<string, string> d) => string.Join(";", d.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
                public static string Run()
                {
                    var one = Show(Users.Get(new[] { "a", "A" }));
                    Users.Version = 2;
                    Users.Forget("a");
                    var two = Show(Users.Get(new[] { "a" }));
                    var three = Show(Users.Get(new[] { "a" }));
                    return one + " " + two + " " + three + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("A=A1;a=a1 a=a2 a=a2 | a;A a"));
    }

    // ---------------------------------------------------------------- size

    [Test]
    public void A_batch_of_ten_thousand_keys_is_computed_once_and_then_answered_from_the_cache()
    {
        // docs/decorators.md [MultiCached]: "One MultiGet for the keys ...; the body is called only with the missing keys
        // ..., and not at all when every key hits".
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<int> Requests = new();
                [MultiCached(KeysFrom = "ids", Ttl = 600)]
                public static partial Dictionary<int, string> Get(IReadOnlyList<int> ids);
                private static Dictionary<int, string> GetCore(IReadOnlyList<int> ids) { Requests.Add(ids.Count); return ids.ToDictionary(i => i, i => "u" + i); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var ids = Enumerable.Range(0, 10_000).ToArray();
                    var cold = Users.Get(ids);
                    var warm = Users.Get(ids);
                    var mixed = Users.Get(Enumerable.Range(5_000, 10_000).ToArray());
                    return cold.Count + " " + warm.Count + " " + mixed.Count + " " + (warm[9_999] == "u9999") + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        var clock = Stopwatch.StartNew();
        var outcome = Run(scenario);
        clock.Stop();

        Assert.That(outcome, Is.EqualTo("10000 10000 10000 True | 10000 5000"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
    }

    // ---------------------------------------------------------------- key collections

    [Test]
    public async Task A_sequence_that_can_be_enumerated_once_works_for_the_batch_and_for_its_invalidation()
    {
        // docs/decorators.md [MultiCached]: the keys come in "a collection of the parameter's declared type" (IEnumerable
        // included); [InvalidateCache]: "any collection of keys (IEnumerable<TKey>, ...)". A generator method whose
        // second enumeration throws is enumerated once by each call.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "ids")]
                public static partial Task<IReadOnlyDictionary<int, string>> GetAsync(IEnumerable<int> ids, CancellationToken ct = default);
                private static Task<IReadOnlyDictionary<int, string>> GetAsyncCore(IEnumerable<int> ids, CancellationToken ct) { Requests.Add(string.Join(";", ids)); return Task.FromResult<IReadOnlyDictionary<int, string>>(ids.ToDictionary(i => i, i => "u" + i)); }
                [InvalidateCache(nameof(GetAsync))]
                public static partial Task ForgetAsync(IEnumerable<int> ids);
                private static Task ForgetAsyncCore(IEnumerable<int> ids) => Task.CompletedTask;
            }
            public sealed class Once : System.Collections.Generic.IEnumerable<int>
            {
                private readonly int[] _ids; private bool _used;
                public Once(params int[] ids) => _ids = ids;
                public IEnumerator<int> GetEnumerator() { if (_used) throw new InvalidOperationException("enumerated twice"); _used = true; return ((IEnumerable<int>)_ids).GetEnumerator(); }
                System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var a = await Users.GetAsync(new Once(1, 2, 2));
                    await Users.ForgetAsync(new Once(1));
                    var b = await Users.GetAsync(new Once(1, 2));
                    return a.Count + " " + b.Count + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("2 2 | 1;2 1"));
    }

    // ---------------------------------------------------------------- null values, TTL

    [Test]
    public void Null_values_the_body_returns_are_cached_as_hits()
    {
        // docs/decorators.md [Cached]: "A null result is cached like any other (aiocache cannot do this)"; docs/reliability.md:
        // a null value is "cacheable". [MultiCached] stores "its entries" with one MultiSet.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "ids")]
                public static partial IDictionary<int, string?> Get(HashSet<int> ids);
                private static IDictionary<int, string?> GetCore(HashSet<int> ids) { Requests.Add(string.Join(";", ids.OrderBy(i => i))); return ids.ToDictionary(i => i, i => i % 2 == 0 ? null : "u" + i); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    Users.Get(new HashSet<int> { 1, 2 });
                    var warm = Users.Get(new HashSet<int> { 1, 2 });
                    return string.Join(";", warm.OrderBy(p => p.Key).Select(p => p.Key + "=" + (p.Value ?? "<null>"))) + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("1=u1;2=<null> | 1;2"));
    }

    [Test]
    public async Task Each_entry_of_a_batch_expires_by_its_own_Ttl_from_when_it_was_stored()
    {
        // docs/decorators.md [MultiCached]: "its entries are stored with one MultiSet" with the method's Ttl; each key's
        // entry lives for Ttl from its own store: a key stored by a later batch outlives one stored earlier.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "ids", Ttl = 0.6)]
                public static partial ValueTask<Dictionary<int, string>> GetAsync(int[] ids);
                private static ValueTask<Dictionary<int, string>> GetAsyncCore(int[] ids) { Requests.Add(string.Join(";", ids)); return new(ids.ToDictionary(i => i, i => "u" + i)); }
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    await Users.GetAsync(new[] { 1 });
                    await Task.Delay(400);
                    await Users.GetAsync(new[] { 1, 2 });
                    await Task.Delay(400);
                    await Users.GetAsync(new[] { 1, 2 });
                    return string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("1 2 1"));
    }

    // ---------------------------------------------------------------- cancellation, exceptions

    [Test]
    public async Task The_body_gets_the_callers_token_and_a_cancellation_during_the_body_stores_nothing()
    {
        // docs/decorators.md [Cached]: "Runs on a miss: the same signature"; the body receives the method's
        // CancellationToken. A caller who cancels while the body runs gets an OperationCanceledException, and nothing is
        // stored ("The body's exception propagates unchanged and nothing is stored").
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                [MultiCached(KeysFrom = "ids")]
                public static partial Task<Dictionary<int, string>> GetAsync(List<int> ids, CancellationToken ct);
                private static async Task<Dictionary<int, string>> GetAsyncCore(List<int> ids, CancellationToken ct)
                {
                    Requests.Add(string.Join(";", ids) + (ct.CanBeCanceled ? " cancellable" : " uncancellable"));
                    await Task.Delay(Timeout.Infinite, ct);
                    return ids.ToDictionary(i => i, i => "u" + i);
                }
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    using var cts = new CancellationTokenSource(200);
                    string outcome;
                    try { await Users.GetAsync(new List<int> { 1, 2 }, cts.Token); outcome = "answered"; }
                    catch (OperationCanceledException e) { outcome = "cancelled:" + (e.CancellationToken == cts.Token); }
                    return outcome + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("cancelled:True | 1;2 cancellable"));
        Assert.That(_cache.Exists("1") || _cache.Exists("2"), Is.False);
    }

    [Test]
    public void A_body_exception_after_a_partial_hit_reaches_the_caller_unchanged_and_stores_nothing()
    {
        // docs/decorators.md [Cached]: "The body's exception propagates unchanged and nothing is stored"; the hits of the
        // batch stay in the cache.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static bool Fail;
                [MultiCached(KeysFrom = "ids")]
                public static partial Dictionary<int, string> Get(int[] ids);
                private static Dictionary<int, string> GetCore(int[] ids) => Fail ? throw new TimeoutException("db " + string.Join(";", ids)) : ids.ToDictionary(i => i, i => "u" + i);
            }
            public static class Probe
            {
                public static string Run()
                {
                    Users.Get(new[] { 1 });
                    Users.Fail = true;
                    try { Users.Get(new[] { 1, 2, 3 }); return "answered"; }
                    catch (TimeoutException e) { return e.Message; }
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("db 2;3"));
        Assert.That((_cache.Exists("1"), _cache.Exists("2"), _cache.Exists("3")), Is.EqualTo((true, false, false)));
    }

    // ---------------------------------------------------------------- concurrency and invalidation

    [Test]
    public async Task An_invalidation_of_one_key_while_the_batch_body_runs_keeps_that_key_out_and_the_others_in()
    {
        // docs/decorators.md [InvalidateCache]: "After the body returns ..., the entries of the named methods are deleted",
        // "the other keys' entries stay"; the batch's fills are fenced (MultiCachedMethod.Fills: "an invalidation of any
        // key meanwhile keeps that entry out"). A value computed before the update must not be served after it.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static List<string> Requests = new();
                public static int Version = 1;
                public static TaskCompletionSource Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
                public static TaskCompletionSource? Gate;
                [MultiCached(KeysFrom = "ids")]
                public static partial Task<Dictionary<int, string>> GetAsync(int[] ids);
                private static async Task<Dictionary<int, string>> GetAsyncCore(int[] ids)
                {
                    var version = Version;
                    Requests.Add(string.Join(";", ids));
                    Entered.TrySetResult();
                    if (Gate is { } gate) await gate.Task;
                    return ids.ToDictionary(i => i, i => "v" + version + ":" + i);
                }
                [InvalidateCache(nameof(GetAsync))]
                public static partial void Update(int ids);
                private static void UpdateCore(int ids) => Version++;
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    Users.Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
                    var slow = Users.GetAsync(new[] { 1, 2 });
                    await Users.Entered.Task;
                    var update = Task.Run(() => Users.Update(1));
                    var blocked = await Task.WhenAny(update, Task.Delay(5000)) != update;
                    Users.Gate.SetResult();
                    Users.Gate = null;
                    await update;
                    if (blocked) return "the invalidation waited for the batch body";
                    var first = await slow;
                    var after = await Users.GetAsync(new[] { 1, 2 });
                    return first[1] + " " + after[1] + " " + after[2] + " | " + string.Join(" ", Users.Requests);
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("v1:1 v2:1 v1:2 | 1;2 1"));
    }

    [Test]
    public async Task Two_concurrent_batches_with_overlapping_keys_compute_the_shared_key_once()
    {
        // docs/decorators.md: batches that overlap share their work (single flight). Each body is asked only for keys no
        // other batch computes, so key 2 goes to one body; both bodies run (each has a key of its own), and both callers
        // get an answer for every key they asked.
        var scenario = Build("""
            namespace Batches;
            public static partial class Users
            {
                public static System.Collections.Concurrent.ConcurrentQueue<string> Requests = new();
                public static TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
                public static int Entered;
                [MultiCached(KeysFrom = "ids")]
                public static partial Task<Dictionary<int, string>> GetAsync(int[] ids);
                private static async Task<Dictionary<int, string>> GetAsyncCore(int[] ids)
                {
                    Requests.Enqueue(string.Join(";", ids));
                    if (Interlocked.Increment(ref Entered) == 2) Gate.SetResult();
                    await Gate.Task.WaitAsync(TimeSpan.FromSeconds(5));
                    return ids.ToDictionary(i => i, i => "u" + i);
                }
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var a = Task.Run(() => Users.GetAsync(new[] { 1, 2 }));
                    var b = Task.Run(() => Users.GetAsync(new[] { 2, 3 }));
                    string outcome;
                    try { await Task.WhenAll(a, b); outcome = a.Result.Count + "+" + b.Result.Count; }
                    catch (TimeoutException) { outcome = "one body waited for the other"; }
                    var keys = Users.Requests.SelectMany(r => r.Split(';')).ToList();
                    return outcome + " | " + keys.Count(k => k == "2") + " | " + string.Join(" ", keys.OrderBy(k => k));
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("2+2 | 1 | 1 2 3"));
    }
}
