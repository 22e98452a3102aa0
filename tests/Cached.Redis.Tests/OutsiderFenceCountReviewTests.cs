using System.Diagnostics;
using Cached.Capabilities;
using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of the count of open fills beside each Redis fence (<c>…:__cached:fence:holders</c>, commit
/// 26f0181), on a real redis-server, standalone and cluster. "Processes" are caches on multiplexers of their own
/// (their own client names), each with its own in-process fences, so only Redis ties them together. Checked against
/// docs/redis.md's fence paragraph: fills of a key opened while its fence exists share its token, here or in another
/// process; a count "living as long" as the fence says how many are open; a fill that closes without storing takes the
/// fence away only if it was the last, so the others still store; fences (and their counts) live at most
/// MaxFillDuration after the last fill opened.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class OutsiderFenceCountReviewTests(bool cluster)
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    private readonly List<IDisposable> _owned = [];
    private ConnectionMultiplexer _direct = null!;
    private string _space = null!;

    private string ConnectionString => cluster ? SharedRedis.Cluster.ConnectionString : SharedRedis.Server.ConnectionString;

    [SetUp]
    public void SetUp()
    {
        _space = "ofc" + Guid.NewGuid().ToString("N")[..8];
        _direct = ConnectionMultiplexer.Connect(ConnectionString + ",name=ofc-direct-" + _space);
    }

    [TearDown]
    public async Task TearDown()
    {
        try
        {
            using var cleaner = new RedisCache { Connection = _direct, Namespace = _space };
            await cleaner.ClearAsync(_space);
        }
        finally
        {
            foreach (var owned in Enumerable.Reverse(_owned))
            {
                owned.Dispose();
            }

            _owned.Clear();
            _direct.Dispose();
        }
    }

    /// <summary>A cache on a multiplexer of its own: another process, as far as fences go.</summary>
    private RedisCache Process(string name, TimeSpan? maxFill = null)
    {
        var cache = new RedisCache { ConnectionString = ConnectionString + ",name=ofc-" + name + "-" + _space, Namespace = _space, MaxFillDuration = maxFill ?? TimeSpan.FromMinutes(1) };
        _owned.Add(cache);
        return cache;
    }

    private RedisKey Fence(string key) => RedisFences.Of(_space + ":" + key, _direct, cluster)!.Value;

    private RedisKey Holders(string key) => RedisFences.HoldersOf(Fence(key));

    private IDatabase Db => _direct.GetDatabase();

    private async Task<long> PttlAsync(RedisKey key) => (long)await Db.ExecuteAsync("PTTL", key);

    /// <summary>The fills open on the fence's current token (its count is kept per token), or null without a fence.</summary>
    private async Task<long?> CountAsync(string key)
    {
        var token = await Db.StringGetAsync(Fence(key));
        if (token.IsNull)
        {
            return null;
        }

        var value = await Db.HashGetAsync(Holders(key), token);
        return value.IsNull ? 0 : (long)value;
    }

    /// <summary>Every fence or count of a fence in this test's namespace, on every primary.</summary>
    private async Task<List<string>> FenceLeftoversAsync()
    {
        var found = new List<string>();
        foreach (var server in _direct.GetServers().Where(static s => !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: _space + ":*__cached:fence*"))
            {
                found.Add(key!);
            }
        }

        return found;
    }

    /// <summary>
    /// A fill's release goes fire-and-forget on its cache's connection; a command on the same connection, answered, comes
    /// after it.
    /// </summary>
    private static async Task CloseAsync(RedisCache process, FillTicket ticket)
    {
        ticket.Dispose();
        await process.ExistsAsync("__settle");
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }

    // ------------------------------------------------------------------------------------------------------------------
    // The count drifts: a release decrements the count whatever generation of the fence it belongs to.
    // ------------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task A_fill_that_outlived_a_stored_fill_does_not_release_the_fence_of_later_fills_on_closing()
    {
        // Two processes fill "k" together; the first stores (removing the fence and its count), the second's body is
        // still running. The key is deleted later; two new fills open a fresh fence (count 2). The old fill's body then
        // throws: its release belongs to a fence that is gone, yet it decrements the new count, so when one of the new
        // fills closes without storing, it looks like the last and takes the fence away from the other, which is refused.
        var (p1, p2, p3, p4, writer) = (Process("p1"), Process("p2"), Process("p3"), Process("p4"), Process("writer"));
        var stored = await ((IFencedFillCache)p1).OpenFillAsync("k");
        var outlived = await ((IFencedFillCache)p2).OpenFillAsync("k");
        Assert.That(await ((IFencedFillCache)p1).TryFillAsync(stored, "first"), Is.True);
        stored.Dispose();
        await writer.DeleteAsync("k");

        var abandoned = await ((IFencedFillCache)p3).OpenFillAsync("k");
        using var survivor = await ((IFencedFillCache)p4).OpenFillAsync("k");
        await CloseAsync(p2, outlived); // the old body threw
        await CloseAsync(p3, abandoned); // one of the new bodies threw

        Assert.That(await ((IFencedFillCache)p4).TryFillAsync(survivor, "fresh"), Is.True, "p3 was not the last fill open on the new fence: p4's fill still stores (docs/redis.md)");
        Assert.That(await writer.GetAsync<string>("k"), Is.EqualTo("fresh"));
    }

    [Test]
    public async Task The_count_of_a_new_fence_is_not_lowered_by_a_fill_of_a_fence_that_went_before_it()
    {
        var (p1, p2, p3, writer) = (Process("p1"), Process("p2"), Process("p3"), Process("writer"));
        var stored = await ((IFencedFillCache)p1).OpenFillAsync("k");
        var outlived = await ((IFencedFillCache)p2).OpenFillAsync("k");
        Assert.That(await ((IFencedFillCache)p1).TryFillAsync(stored, "first"), Is.True);
        stored.Dispose();
        await writer.DeleteAsync("k");

        using var open = await ((IFencedFillCache)p3).OpenFillAsync("k");
        Assert.That(await CountAsync("k"), Is.EqualTo(1), "one fill open on the new fence");
        await CloseAsync(p2, outlived);

        Assert.That(await CountAsync("k"), Is.EqualTo(1), "p3's fill is still open: the old fill's release must not count against it");
    }

    [Test]
    public async Task A_fill_opened_before_a_namespace_clear_does_not_release_the_fence_of_fills_opened_after_it()
    {
        // The clear moves the fence and then unlinks it with its count. The fill opened before it is refused (right),
        // but when its body throws, its release decrements the count of the fence the next fills created.
        var (p1, p2, p3, writer) = (Process("p1"), Process("p2"), Process("p3"), Process("writer"));
        var before = await ((IFencedFillCache)p1).OpenFillAsync("k");
        await writer.ClearAsync();

        var abandoned = await ((IFencedFillCache)p2).OpenFillAsync("k");
        using var survivor = await ((IFencedFillCache)p3).OpenFillAsync("k");
        await CloseAsync(p1, before);
        await CloseAsync(p2, abandoned);

        Assert.That(await ((IFencedFillCache)p3).TryFillAsync(survivor, "fresh"), Is.True, "p2 was not the last fill open on the fence made after the clear");
    }

    [Test]
    public async Task A_fill_whose_fence_expired_does_not_release_the_fence_of_fills_opened_after_it()
    {
        // A body that ran longer than its MaxFillDuration: its fence (and count) expired, later fills made a new one.
        var slow = Process("slow", TimeSpan.FromMilliseconds(300));
        var (p2, p3) = (Process("p2"), Process("p3"));
        var late = await ((IFencedFillCache)slow).OpenFillAsync("k");
        await Eventually(async () => !await Db.KeyExistsAsync(Fence("k")) && !await Db.KeyExistsAsync(Holders("k")), "the slow fill's fence expired");

        var abandoned = await ((IFencedFillCache)p2).OpenFillAsync("k");
        using var survivor = await ((IFencedFillCache)p3).OpenFillAsync("k");
        await CloseAsync(slow, late);
        await CloseAsync(p2, abandoned);

        Assert.That(await ((IFencedFillCache)p3).TryFillAsync(survivor, "fresh"), Is.True, "p2 was not the last fill open on the new fence");
    }

    // ------------------------------------------------------------------------------------------------------------------
    // What the change claims, kept as regression tests.
    // ------------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task The_count_lives_exactly_as_long_as_its_fence_through_opens_joins_and_a_moving_write()
    {
        var (p1, p2, writer) = (Process("p1", TimeSpan.FromSeconds(20)), Process("p2", TimeSpan.FromSeconds(20)), Process("writer"));
        var one = await ((IFencedFillCache)p1).OpenFillAsync("k");
        var two = await ((IFencedFillCache)p2).OpenFillAsync("k");
        Assert.That(await CountAsync("k"), Is.EqualTo(2));
        var fence = await PttlAsync(Fence("k"));
        var count = await PttlAsync(Holders("k"));
        Assert.That(fence, Is.InRange(1, 20_000));
        Assert.That(count, Is.InRange(1, 20_000), "the count has a TTL");
        Assert.That(Math.Abs(fence - count), Is.LessThan(1000), "the count lives as long as its fence");

        await writer.SetAsync("k", "newer"); // moves the token, keeps the fence's expiry
        Assert.That(await PttlAsync(Fence("k")), Is.InRange(1, 20_000));
        Assert.That(await PttlAsync(Holders("k")), Is.InRange(1, 20_000), "a write leaves the count its TTL");

        await CloseAsync(p1, one);
        await CloseAsync(p2, two);
        Assert.That(await PttlAsync(Holders("k")), Is.Not.EqualTo(-1), "no count is ever left without a TTL");
        Assert.That(await PttlAsync(Fence("k")), Is.Not.EqualTo(-1), "no fence is ever left without a TTL");
    }

    [Test]
    public async Task An_overtaken_fill_s_count_never_keeps_its_fence_past_MaxFillDuration_after_the_last_open()
    {
        // A fill refused because a write moved its token never releases (it tried to store), so it stays counted; the
        // fence must still go by itself, with its count, MaxFillDuration after the last fill opened.
        var (p1, p2, writer) = (Process("p1", TimeSpan.FromMilliseconds(400)), Process("p2", TimeSpan.FromMilliseconds(400)), Process("writer"));
        using var overtaken = await ((IFencedFillCache)p1).OpenFillAsync("k");
        await writer.SetAsync("k", "newer");
        Assert.That(await ((IFencedFillCache)p1).TryFillAsync(overtaken, "old"), Is.False, "the write overtook the fill");
        var thrown = await ((IFencedFillCache)p2).OpenFillAsync("k");
        await CloseAsync(p2, thrown);
        // The count is per token: the overtaken fill counts on the token the write moved away, so p2, the last fill open
        // on the fence's new token, took the fence away; the old token's count stays until it expires.
        Assert.That(await Db.KeyExistsAsync(Fence("k")), Is.False, "p2 was the last fill open on the moved fence");
        Assert.That(await PttlAsync(Holders("k")), Is.InRange(1, 400), "the overtaken fill's count lives no longer than its fence would have");

        await Eventually(async () => (await FenceLeftoversAsync()).Count == 0, "the fence and its count expired");
        Assert.That(await writer.GetAsync<string>("k"), Is.EqualTo("newer"));
    }

    [Test]
    public async Task A_stored_fill_removes_both_the_fence_and_its_count_even_with_other_fills_open()
    {
        var (p1, p2) = (Process("p1"), Process("p2"));
        var stored = await ((IFencedFillCache)p1).OpenFillAsync("k");
        var other = await ((IFencedFillCache)p2).OpenFillAsync("k");
        Assert.That(await ((IFencedFillCache)p1).TryFillAsync(stored, "v"), Is.True);
        stored.Dispose();
        Assert.That(await FenceLeftoversAsync(), Is.Empty, "the store took the fence and its count away");

        Assert.That(await ((IFencedFillCache)p2).TryFillAsync(other, "w"), Is.False, "the other fill of the stored fence does not store");
        other.Dispose();
        Assert.That(await FenceLeftoversAsync(), Is.Empty);
    }

    [Test]
    public async Task A_batch_of_fills_closed_without_storing_leaves_a_shared_key_to_the_other_process_and_nothing_else()
    {
        var (p1, p2) = (Process("p1"), Process("p2"));
        string[] keys = ["a", "b", "c", "d", "e"]; // several hash slots on a cluster
        var batch = await ((IFencedFillCache)p1).OpenFillsAsync(keys);
        foreach (var key in keys)
        {
            Assert.That(await CountAsync(key), Is.EqualTo(1), key);
            Assert.That(await PttlAsync(Holders(key)), Is.GreaterThan(0), key + "'s count has a TTL");
        }

        using var joined = await ((IFencedFillCache)p2).OpenFillAsync("c");
        Assert.That(await CountAsync("c"), Is.EqualTo(2));
        foreach (var ticket in batch)
        {
            ticket.Dispose();
        }

        await p1.ExistsAsync("__settle");
        Assert.That(await ((IFencedFillCache)p2).TryFillAsync(joined, "v"), Is.True, "the batch's release left c's fence to p2's open fill");
        Assert.That(await FenceLeftoversAsync(), Is.Empty, "every other fence went with the batch's release, c's with p2's store");
    }

    [Test]
    public async Task A_batch_store_removes_every_stored_key_s_fence_and_count()
    {
        var (p1, p2) = (Process("p1"), Process("p2"));
        string[] keys = ["a", "b", "c"];
        var batch = await ((IFencedFillCache)p1).OpenFillsAsync(keys);
        using var joined = await ((IFencedFillCache)p2).OpenFillAsync("b");
        var stored = await ((IFencedFillCache)p1).TryFillManyAsync(batch.Select(static t => new KeyValuePair<FillTicket, string>(t, "v-" + t.Key)));
        foreach (var ticket in batch)
        {
            ticket.Dispose();
        }

        Assert.That(stored, Is.EqualTo(3));
        Assert.That(await FenceLeftoversAsync(), Is.Empty);
    }

    [Test]
    public async Task A_two_level_read_s_fence_survives_a_plain_fill_that_closes_without_storing_and_its_fill_stores()
    {
        // A node's read of a miss opens the fence (GetOrOpenFence, counted, never released); a plain fill of another
        // process joins it and its body throws. The node's fill still stores, and nothing is left behind.
        var connection = ConnectionMultiplexer.Connect(ConnectionString + ",name=ofc-node-" + _space);
        _owned.Add(connection);
        var node = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { Connection = connection, Namespace = _space });
        _owned.Add(node);
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Tests.Count.Get", CacheFactory = () => node, Ttl = 600 });
        await method.InvokeAsync("warm", 0, static (_, _) => new ValueTask<string>("w"), null, CancellationToken.None);

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = method.InvokeAsync("k", (started, release), static async (g, ct) =>
        {
            g.started.TrySetResult();
            await g.release.Task.WaitAsync(s_limit, ct);
            return "node";
        }, null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);
        Assert.That(await CountAsync("k"), Is.EqualTo(1), "the node's read opened the fence and counted itself");
        Assert.That(await PttlAsync(Holders("k")), Is.GreaterThan(0), "the read's count has a TTL");

        var plain = Process("plain");
        var thrown = await ((IFencedFillCache)plain).OpenFillAsync("k");
        await CloseAsync(plain, thrown);
        Assert.That(await Db.KeyExistsAsync(Fence("k")), Is.True, "the node's fill still holds the fence");

        release.SetResult();
        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("node"));
        using var reader = Process("reader");
        Assert.That(await reader.GetAsync<string>("k"), Is.EqualTo("node"), "the node's fill stored");
        Assert.That(await FenceLeftoversAsync(), Is.Empty);
    }

    // ------------------------------------------------------------------------------------------------------------------
    // A process still on the earlier scripts (fences without a count), during a rolling upgrade.
    // ------------------------------------------------------------------------------------------------------------------

    private const string OldOpenFences = """
        local seen = {}
        for i, fence in ipairs(KEYS) do
            local token = redis.call('get', fence)
            if token then
                redis.call('pexpire', fence, ARGV[2])
            else
                token = ARGV[1]
                redis.call('set', fence, token, 'PX', ARGV[2])
            end
            seen[i] = token
        end
        return seen
        """;

    private const string OldFillIfFenced = """
        local stored = 0
        for i = 1, #KEYS, 2 do
            local n = (i + 1) / 2
            if redis.call('get', KEYS[i + 1]) == ARGV[2 * n] then
                if ARGV[1] ~= '' then
                    redis.call('set', KEYS[i], ARGV[2 * n + 1], 'PX', ARGV[1])
                else
                    redis.call('set', KEYS[i], ARGV[2 * n + 1])
                end
                redis.call('del', KEYS[i + 1])
                stored = stored + 1
            end
        end
        return stored
        """;

    [Test]
    public async Task A_fill_of_a_process_on_the_earlier_scripts_that_joined_the_fence_is_refused_when_a_new_fill_closes_unused()
    {
        // docs/redis.md: a process on an earlier version of Cached joins a fence without counting itself, so while
        // versions are mixed, a fill of this version that closes unused may take the fence from under the older
        // process's fill, which is then refused (extra work, never a stale value). The outsider first expected it to
        // store; the limit is documented, and this pins it.
        var p1 = Process("p1");
        var thrown = await ((IFencedFillCache)p1).OpenFillAsync("k");
        var token = (RedisValue)((RedisResult[])(await Db.ScriptEvaluateAsync(OldOpenFences, [Fence("k")], ["old-token", 60_000]))!)[0];
        await CloseAsync(p1, thrown);

        var stored = (long)await Db.ScriptEvaluateAsync(OldFillIfFenced, [(RedisKey)(_space + ":k"), Fence("k")], ["", token, "old"]);
        Assert.That(stored, Is.EqualTo(0), "the older process's fill is refused: it was not counted");
        Assert.That(await Db.KeyExistsAsync((RedisKey)(_space + ":k")), Is.False, "and nothing is stored");
    }

    [Test]
    public async Task A_store_by_a_process_on_the_earlier_scripts_leaves_a_count_that_expires()
    {
        var p1 = Process("p1");
        using var open = await ((IFencedFillCache)p1).OpenFillAsync("k");
        var token = (RedisValue)((RedisResult[])(await Db.ScriptEvaluateAsync(OldOpenFences, [Fence("k")], ["old-token", 60_000]))!)[0];
        var stored = (long)await Db.ScriptEvaluateAsync(OldFillIfFenced, [(RedisKey)(_space + ":k"), Fence("k")], ["", token, "old"]);
        Assert.That(stored, Is.EqualTo(1));
        Assert.That(await Db.KeyExistsAsync(Fence("k")), Is.False);
        Assert.That(await PttlAsync(Holders("k")), Is.GreaterThan(0), "the count the older store left behind still expires");
    }
}
