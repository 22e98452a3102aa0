using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Tags against a real redis-server, two "processes" (two caches on two multiplexers) sharing it: an invalidation by one
/// is seen by the other at once and every time (dotnet/extensions#7411 kept a node's first answer for ever), it costs
/// one write per tag whatever the number of entries, and tag records live as long as the entries that need them.
/// </summary>
[NonParallelizable]
public sealed class RedisTagTests
{
    private static readonly CacheEntryOptions s_userOne = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };
    private static readonly CacheEntryOptions s_userTwo = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2", "users"] };

    private readonly List<RedisCache> _caches = [];
    private ConnectionMultiplexer _admin = null!;

    [SetUp]
    public async Task Connect()
    {
        _admin = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString + ",allowAdmin=true");
        await Clean();
    }

    [TearDown]
    public async Task Disconnect()
    {
        await Clean();
        await _admin.DisposeAsync();
        foreach (var cache in _caches)
        {
            await cache.DisposeAsync();
        }

        _caches.Clear();
    }

    private async Task Clean()
    {
        var server = _admin.GetServer(_admin.GetEndPoints()[0]);
        await foreach (var key in server.KeysAsync(pattern: "tags:*"))
        {
            await _admin.GetDatabase().KeyDeleteAsync(key);
        }
    }

    private RedisCache Process(string name)
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=tags-" + name, Namespace = "tags" };
        _caches.Add(cache);
        return cache;
    }

    [Test]
    public async Task A_read_that_finds_an_invalidated_entry_counts_as_a_miss_for_plugins([Values] bool async)
    {
        // The tag versions are read beside the entry; the entry is checked with them as it is decoded, before it is counted.
        var ratio = new Plugins.HitMissRatioPlugin();
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=tags-ratio", Namespace = "tags", Plugins = [ratio] };
        _caches.Add(cache);
        async Task<string> Read(string value) => async
            ? await cache.GetOrSetAsync("u1", _ => ValueTask.FromResult(value), s_userOne)
            : cache.GetOrSet("u1", _ => value, s_userOne);

        await Read("one");                   // a miss
        Assert.That(await Read("one"), Is.EqualTo("one"));
        await Process("other").InvalidateTagsAsync(["user:1"]);
        Assert.That(await Read("again"), Is.EqualTo("again"));
        Assert.That(await Read("later"), Is.EqualTo("again"));

        Assert.That((ratio.Hits, ratio.Misses), Is.EqualTo((2L, 2L)), "the read that found the invalidated entry is a miss");
    }

    [Test]
    public async Task Another_process_s_invalidation_is_seen_at_once_and_every_time([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        var calls = 0;
        ValueTask<string> Load(CancellationToken _) => new("v" + Interlocked.Increment(ref calls));
        async Task<string> Read() => async ? await a.GetOrSetAsync("u1", Load, s_userOne) : a.GetOrSet("u1", ct => Load(ct).Result, s_userOne);

        Assert.That(await Read(), Is.EqualTo("v1"));
        Assert.That(await Read(), Is.EqualTo("v1"), "a hit");
        for (var round = 2; round <= 4; round++)
        {
            if (async)
            {
                await b.InvalidateTagsAsync(["user:1"]);
            }
            else
            {
                b.InvalidateTags("user:1");
            }

            Assert.That(await Read(), Is.EqualTo("v" + round), $"invalidation {round - 1} by the other process");
            Assert.That(await Read(), Is.EqualTo("v" + round), "then a hit again");
        }
    }

    [Test]
    public async Task Plain_reads_in_another_process_miss_once_a_tag_is_invalidated()
    {
        var (a, b) = (Process("a"), Process("b"));
        await a.SetAsync("u1", "one", s_userOne);
        await a.SetAsync("u2", "two", s_userTwo);

        Assert.That(await b.GetAsync<string>("u1"), Is.EqualTo("one"));
        a.InvalidateTags("user:1");

        Assert.That(await b.GetAsync<string>("u1"), Is.Null);
        Assert.That(b.Get<string>("u1"), Is.Null);
        Assert.That(await b.GetAsync<string>("u2"), Is.EqualTo("two"), "other tags untouched");
    }

    [Test]
    public async Task An_invalidation_is_one_write_per_tag_whatever_the_number_of_entries()
    {
        var a = Process("a");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["bulk"] };
        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => a.SetAsync("k" + i, i, options).AsTask()));
        var before = await CommandCounts();

        await a.InvalidateTagsAsync(["bulk"]);

        var after = await CommandCounts();
        var issued = after.Where(p => p.Value != before.GetValueOrDefault(p.Key)).ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key));
        var writes = issued.GetValueOrDefault("set") + issued.GetValueOrDefault("setex") + issued.GetValueOrDefault("psetex");
        Assert.That(writes, Is.EqualTo(1), string.Join(", ", issued));
        Assert.That(issued.Keys, Has.None.AnyOf("scan", "del", "unlink", "keys", "mget", "get"), "no walk over the entries");
        Assert.That(await a.GetAsync<int?>("k7"), Is.Null);
    }

    [Test]
    public async Task An_invalidation_sends_the_tag_record_alone_without_a_fence_script([Values] bool async)
    {
        var a = Process("a");
        await a.SetAsync("k", 1, new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["solo"] });
        var before = await CommandCounts();

        if (async)
        {
            await a.InvalidateTagsAsync(["solo"]);
        }
        else
        {
            a.InvalidateTags(["solo"]);
        }

        var after = await CommandCounts();
        // What the server ran for the invalidation, scripts' own calls included; INFO is this test's reading.
        var issued = after.Where(p => p.Key != "info" && p.Value != before.GetValueOrDefault(p.Key))
            .ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key));
        Assert.That(issued.Values.Sum(), Is.EqualTo(1), string.Join(", ", issued));
        Assert.That(issued.Keys.Single(), Is.AnyOf("set", "setex", "psetex"), "one write of the record (no fill waits on a tag record, so no fence moves)");
        Assert.That(await a.GetAsync<int?>("k"), Is.Null);
    }

    [Test]
    public async Task A_plain_batch_read_checks_every_tagged_entry_with_one_read_of_their_tags([Values] bool async)
    {
        var a = Process("a");
        var keys = Enumerable.Range(0, 50).Select(static i => "m" + i).ToArray();
        foreach (var (key, i) in keys.Select(static (k, i) => (k, i)))
        {
            await a.SetAsync(key, i, new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t" + i, "all"] });
        }

        await a.InvalidateTagsAsync(["t3"]);
        var before = await CommandCounts();

        var read = async ? await a.MultiGetAsync<int?>(keys) : a.MultiGet<int?>(keys);

        var after = await CommandCounts();
        Assert.That(read.Select(static (v, i) => (v, i)).Where(static p => p.v is null).Select(static p => p.i), Is.EqualTo(new[] { 3 }));
        Assert.That(after.GetValueOrDefault("mget") - before.GetValueOrDefault("mget"), Is.EqualTo(2), "the entries, then the union of their 51 tags");
        Assert.That(after.GetValueOrDefault("get") - before.GetValueOrDefault("get"), Is.Zero);
    }

    [Test]
    public async Task Tag_records_live_as_long_as_the_entries_that_carry_them_and_no_longer()
    {
        var a = Process("a");
        var db = _admin.GetDatabase();
        await a.SetAsync("short", 1, new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(30), Tags = ["t"] });
        var afterShort = await db.KeyTimeToLiveAsync("tags:__cached:tag:t");
        await a.SetAsync("long", 1, new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(5), Tags = ["t"] });
        var afterLong = await db.KeyTimeToLiveAsync("tags:__cached:tag:t");
        await a.SetAsync("shorter", 1, new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(5), Tags = ["t"] });
        var afterShorter = await db.KeyTimeToLiveAsync("tags:__cached:tag:t");
        await a.InvalidateTagsAsync(["never-used"]);
        var unused = await db.KeyTimeToLiveAsync("tags:__cached:tag:never-used");

        Assert.That(afterShort, Is.InRange(TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30)));
        Assert.That(afterLong, Is.InRange(TimeSpan.FromMinutes(4.9), TimeSpan.FromMinutes(5)), "extended for the longer entry");
        Assert.That(afterShorter, Is.InRange(TimeSpan.FromMinutes(4.9), TimeSpan.FromMinutes(5)), "never shortened");
        Assert.That(unused, Is.InRange(TimeSpan.FromMinutes(9.9), TimeSpan.FromMinutes(10)), "an invalidation alone lives for the in-flight window");
    }

    [Test]
    public async Task A_lost_tag_record_makes_its_entries_miss_rather_than_serve_them()
    {
        var a = Process("a");
        await a.SetAsync("u1", "one", s_userOne);

        await _admin.GetDatabase().KeyDeleteAsync("tags:__cached:tag:users");

        Assert.That(await a.GetAsync<string>("u1"), Is.Null, "evicted or expired early: the entry cannot be proven current");
    }

    [Test]
    public async Task A_writer_whose_observed_record_went_never_brings_its_token_back([Values] bool async)
    {
        // Review finding: the writer once re-created the record with the token it had read, making every entry that
        // still carried that token current again after an invalidation.
        var (a, b) = (Process("a"), Process("b"));
        await a.SetAsync("old", "before the save", s_userOne);
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var writer = Task.Run(async () =>
        {
            ValueTask<string> Slow(CancellationToken _)
            {
                entered.Release();
                release.Wait(TimeSpan.FromSeconds(10));
                return new ValueTask<string>("computed before the save");
            }

            return async ? await a.GetOrSetAsync("slow", Slow, s_userOne) : a.GetOrSet("slow", ct => Slow(ct).Result, s_userOne);
        });
        Assert.That(await entered.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "the writer observed the tags' tokens");

        await b.InvalidateTagsAsync(["user:1"]);
        await _admin.GetDatabase().KeyDeleteAsync("tags:__cached:tag:user:1");   // the new record is evicted
        release.Release();
        Assert.That(await writer, Is.EqualTo("computed before the save"));

        Assert.That(await b.GetAsync<string>("old"), Is.Null, "the old token must not be current again");
        Assert.That(await b.GetAsync<string>("slow"), Is.Null, "nor the slow writer's value");
    }

    [Test]
    public async Task A_tagged_entry_carries_its_tags_in_the_stamp_before_the_plain_JSON()
    {
        var a = Process("a");
        await a.SetAsync("u1", "one", s_userOne);

        byte[] raw = (await _admin.GetDatabase().StringGetAsync("tags:u1"))!;

        Assert.That(raw[..4], Is.EqualTo(new byte[] { 0x00, 0xCA, 0xC4, 0xED }));
        Assert.That(raw[5] & 2, Is.EqualTo(2), "the tagged flag");
        // Looked for as bytes: the tag versions between the names are arbitrary bytes, and read as text they can make a
        // combining mark that a culture-aware search joins to the letter before it ("users" then failed to match).
        Assert.Multiple(() =>
        {
            Assert.That(raw.AsSpan().IndexOf("user:1"u8), Is.GreaterThan(0));
            Assert.That(raw.AsSpan().IndexOf("users"u8), Is.GreaterThan(0));
            Assert.That(raw.AsSpan().EndsWith("\"one\""u8), Is.True, "the plain JSON last");
        });
    }

    private async Task<Dictionary<string, long>> CommandCounts()
    {
        var info = await _admin.GetServer(_admin.GetEndPoints()[0]).InfoAsync("commandstats");
        var counts = new Dictionary<string, long>();
        foreach (var pair in info.SelectMany(static g => g))
        {
            // cmdstat_set: calls=12,usec=...
            var name = pair.Key.Replace("cmdstat_", string.Empty, StringComparison.Ordinal);
            var calls = pair.Value.Split(',')[0].Split('=')[1];
            counts[name] = long.Parse(calls, System.Globalization.CultureInfo.InvariantCulture);
        }

        return counts;
    }
}
