using System.Collections.Concurrent;
using System.Numerics;
using Cached.Redis.Tests.Infrastructure;

namespace Cached.Redis.Tests;

/// <summary>Generated methods of <see cref="OutsiderTodayReviewTests"/>, on the alias <see cref="Alias"/>.</summary>
public static partial class OutsiderTodaySvc
{
    public const string Alias = "outsider-today-review";

    public static ConcurrentQueue<string> Calls { get; } = new();

    public static bool Down { get; set; }

    public static int Depth;

    // A key starting with "x" has an empty cache key.
    private static string Blank(string name) => name.StartsWith('x') ? "" : name;

    private static Dictionary<string, string> Load(IEnumerable<string> names)
    {
        var list = names.ToList();
        Calls.Enqueue(string.Join(",", list));
        return Down ? throw new InvalidOperationException("down") : list.ToDictionary(static n => n, static n => "v" + n);
    }

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 600, Namespace = "otr-tag", KeyBuilder = nameof(Blank), Tags = new[] { "otr:{names}" })]
    public static partial Task<Dictionary<string, string>> TaggedAsync(List<string> names, CancellationToken ct = default);

    private static Task<Dictionary<string, string>> TaggedAsyncCore(List<string> names, CancellationToken ct) => Task.FromResult(Load(names));

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 600, Namespace = "otr-tags", KeyBuilder = nameof(Blank), Tags = new[] { "otr:{names}" })]
    public static partial Dictionary<string, string> Tagged(string[] names);

    private static Dictionary<string, string> TaggedCore(string[] names) => Load(names);

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 1, FailSafe = 600, Namespace = "otr-safe", KeyBuilder = nameof(Blank))]
    public static partial Dictionary<string, string> Safe(string[] names);

    private static Dictionary<string, string> SafeCore(string[] names) => Load(names);

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 600, Namespace = "otr-plain")]
    public static partial Task<Dictionary<string, string>> PlainAsync(string[] names);

    private static Task<Dictionary<string, string>> PlainAsyncCore(string[] names) => Task.FromResult(Load(names));

    [Cached(Alias = Alias, Key = "otr-tuple:{id}", Ttl = 600)]
    public static partial Task<(int Id, string Name, decimal Price, BigInteger Big, double? Ratio)> TupleAsync(int id);

    private static Task<(int Id, string Name, decimal Price, BigInteger Big, double? Ratio)> TupleAsyncCore(int id)
    {
        Calls.Enqueue("tuple:" + id);
        return Task.FromResult((id, "n" + id, 1.25m, BigInteger.Pow(10, 40) * -1, (double?)null));
    }

    [Cached(Alias = Alias, Key = "otr-lease:{id}", Ttl = 600, Lease = 30)]
    public static partial int Leased(int id);

    private static int LeasedCore(int id) => Interlocked.Increment(ref Depth) > 1 ? 1 : Leased(id) + 1;

    [Cached(Alias = Alias, Key = "otr-lease-async:{id}", Ttl = 600, Lease = 30)]
    public static partial Task<int> LeasedAsync(int id, CancellationToken ct = default);

    private static async Task<int> LeasedAsyncCore(int id, CancellationToken ct) => Interlocked.Increment(ref Depth) > 1 ? 1 : await LeasedAsync(id, ct) + 1;

    [Cached(Alias = Alias, Key = "otr-plain-async:{id}", Ttl = 600)]
    public static partial Task<int> PlainOwnAsync(int id);

    private static async Task<int> PlainOwnAsyncCore(int id) => Interlocked.Increment(ref Depth) > 1 ? 1 : await PlainOwnAsync(id) + 1;

    [Cached(Alias = Alias, Key = "otr-lease-vt:{id}", Ttl = 600, Lease = 30, FailSafe = 600)]
    public static partial ValueTask<int> LeasedSafeAsync(int id);

    private static async ValueTask<int> LeasedSafeAsyncCore(int id) => Interlocked.Increment(ref Depth) > 1 ? 1 : await LeasedSafeAsync(id) + 1;
}

/// <summary>
/// An outsider's review of today's changes on a real redis-server: [MultiCached] keys with an empty cache key (tags,
/// fail-safe), a value tuple as a [Cached] result, a leased body asking for its own key, and two levels' Clear.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderTodayReviewTests
{
    private RedisCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        Caches.AddInstance(OutsiderTodaySvc.Alias, _cache);
        OutsiderTodaySvc.Calls.Clear();
        OutsiderTodaySvc.Down = false;
        OutsiderTodaySvc.Depth = 0;
    }

    [TearDown]
    public void TearDown()
    {
        foreach (var space in new[] { "otr-tag", "otr-tags", "otr-safe", "otr-plain" })
        {
            _cache.Clear(space);
        }

        foreach (var key in new[] { "otr-tuple:1", "otr-lease:1", "otr-lease-async:1", "otr-lease-vt:1", "otr-plain-async:1", "user:2" })
        {
            _cache.Delete(key);
        }

        Caches.Reset();
        _cache.Dispose();
    }

    private static string Calls() => string.Join(" | ", OutsiderTodaySvc.Calls);

    private static async Task<Exception?> Outcome<T>(Func<Task<T>> call)
    {
        var running = Task.Run(call);
        var ended = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.That(ended, Is.SameAs(running), "the call waited for itself (hung)");
        try
        {
            await running;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    [Test]
    public async Task Tagged_multi_with_empty_cache_keys_computes_them_every_call_and_caches_the_rest_on_Redis([Values] bool async)
    {
        // decorators.md [MultiCached]: "A key that can have no entry, ... one whose cache key is empty (which a backend
        // refuses, and with it the whole batch), goes to the body on every call, in the caller's order with the missing
        // keys, and is never read, stored or invalidated".
        Task<Dictionary<string, string>> Call(params string[] names) => async ? OutsiderTodaySvc.TaggedAsync([.. names]) : Task.FromResult(OutsiderTodaySvc.Tagged(names));

        var first = await Call("b", "x1", "a", "x1");
        var second = await Call("a", "x2", "b", "x1");
        await _cache.InvalidateTagsAsync(["otr:a", "otr:x1"]);
        var third = await Call("x1", "a", "b");

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EquivalentTo(new Dictionary<string, string> { ["b"] = "vb", ["x1"] = "vx1", ["a"] = "va" }));
            Assert.That(second, Is.EquivalentTo(new Dictionary<string, string> { ["a"] = "va", ["x2"] = "vx2", ["b"] = "vb", ["x1"] = "vx1" }));
            Assert.That(third, Is.EquivalentTo(new Dictionary<string, string> { ["x1"] = "vx1", ["a"] = "va", ["b"] = "vb" }));
            Assert.That(Calls(), Is.EqualTo("b,x1,a | x2,x1 | x1,a"));
        });
    }

    [Test]
    public async Task An_empty_string_key_without_KeyBuilder_goes_to_the_body_each_call_and_the_rest_is_cached_on_Redis()
    {
        // decorators.md [MultiCached]: "Without a KeyBuilder a key's cache key is its invariant text (a string as it is)";
        // "one whose cache key is empty ... goes to the body on every call".
        var first = await OutsiderTodaySvc.PlainAsync(["", "a"]);
        var second = await OutsiderTodaySvc.PlainAsync(["a", ""]);

        Assert.That((first[""], first["a"], second[""], second["a"]), Is.EqualTo(("v", "va", "v", "va")));
        Assert.That(Calls(), Is.EqualTo(",a | "));
    }

    [Test]
    public void Fail_safe_multi_on_Redis_serves_last_values_and_keeps_computing_empty_cache_keys()
    {
        // decorators.md [MultiCached]: an uncacheable key "goes to the body on every call ... it costs only itself its
        // entry"; fail-safe answers the cached keys with their last values when the body fails.
        OutsiderTodaySvc.Safe(["a", "xq", "b"]);
        Thread.Sleep(1200);
        OutsiderTodaySvc.Down = true;

        var served = OutsiderTodaySvc.Safe(["a", "b"]);

        Assert.That(served, Is.EquivalentTo(new Dictionary<string, string> { ["a"] = "va", ["b"] = "vb" }));
        Assert.That(Calls(), Is.EqualTo("a,xq,b | a,b"));
        OutsiderTodaySvc.Down = false;
        Assert.That(OutsiderTodaySvc.Safe(["xq", "a", "b"])["xq"], Is.EqualTo("vxq"));
    }

    [Test]
    public async Task A_value_tuple_result_is_stored_on_Redis_and_a_hit_reads_it_back_whole()
    {
        // serializers.md: "new JsonSerializer() writes a value tuple as a JSON array of its items" and "a BigInteger as a
        // JSON number of its digits".
        var cold = await OutsiderTodaySvc.TupleAsync(1);
        var warm = await OutsiderTodaySvc.TupleAsync(1);

        Assert.That(warm, Is.EqualTo(cold));
        Assert.That(warm, Is.EqualTo((1, "n1", 1.25m, -BigInteger.Pow(10, 40), (double?)null)));
        Assert.That(Calls(), Is.EqualTo("tuple:1"));
    }

    [Test]
    public async Task A_leased_body_asking_for_its_own_key_is_refused_not_left_waiting_on_Redis([Values("sync", "task", "valuetask-failsafe")] string shape)
    {
        // decorators.md: "a body (or what it calls) that calls its own cached method for the key it is computing would wait
        // for itself; that call throws InvalidOperationException naming the method and the key".
        var failure = await Outcome(async () => shape switch
        {
            "sync" => OutsiderTodaySvc.Leased(1),
            "task" => await OutsiderTodaySvc.LeasedAsync(1),
            _ => await OutsiderTodaySvc.LeasedSafeAsync(1),
        });

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(failure!.Message, Does.Contain("'1'").Or.Contain(":1'"));
        Assert.That(_cache.Exists("otr-lease:1") || _cache.Exists("otr-lease-async:1") || _cache.Exists("otr-lease-vt:1"), Is.False, "nothing stored");
    }

    [Test]
    public async Task A_plain_async_body_on_Redis_asking_for_its_own_key_before_any_await_is_refused()
    {
        // decorators.md: "that call throws InvalidOperationException naming the method and the key ... The check sees a
        // call made on the thread running the body: a sync body, or an async one before its first await that does not
        // complete at once". The body below calls its own method before any await of its own.
        var failure = await Outcome(() => OutsiderTodaySvc.PlainOwnAsync(1));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(_cache.Exists("otr-plain-async:1"), Is.False, "nothing stored");
    }

    [Test]
    public async Task Two_levels_on_Redis_clear_of_a_namespace_drops_every_nodes_copy_of_a_key_written_without_it([Values] bool async)
    {
        // multilevel.md, Clear: "L1 is emptied whole, on every node: one L2 entry may be written under several names (on
        // Redis, user:2 without a namespace is 2 in namespace user, which a clear of user removes)".
        var backplane = new MemoryBackplane();
        using var l2 = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        using var l1a = new SimpleMemoryCache();
        using var l1b = new SimpleMemoryCache();
        var a = new MultiLevelCache(l1a, l2, backplane);
        var b = new MultiLevelCache(l1b, l2, backplane);
        a.Set("2", "v", @namespace: "user");
        b.Set("warm", "w");
        Assert.That(b.Get<string>("user:2"), Is.EqualTo("v"));
        Assert.That(a.Get<string>("user:2"), Is.EqualTo("v"));

        _ = async ? await a.ClearAsync("user") : a.Clear("user");
        await Task.Delay(200);

        Assert.That((b.Get<string>("user:2"), a.Get<string>("user:2"), b.Get<string>("2", @namespace: "user")), Is.EqualTo(((string?)null, (string?)null, (string?)null)));
        l2.Delete("warm");
    }
}
