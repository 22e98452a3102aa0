using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Cached.Redis;
using StackExchange.Redis;

namespace Cached.Benchmarks;

/// <summary>
/// Issue 17's figures on <see cref="RedisCache"/>: a <c>GetOrSetAsync</c> hit of an entry with two tags against the same
/// hit untagged (target: no extra round trip, the tag records are read beside the entry), with a hit followed by a
/// second round trip for the tag records as the reference of what one more round trip costs here, and the same reads
/// with StackExchange.Redis alone (one GET; the GET and the tag records' MGET sent together), the wire's own cost; and
/// <c>InvalidateTagsAsync</c> of one tag that 100,000 entries carry against one plain <c>SET</c> with
/// StackExchange.Redis on the same connection (target: one round trip, no walk over the entries). The "Redis
/// commands/call" column shows what the server counted for one call.
/// </summary>
/// <remarks>
/// The 100,000 entries are stored once per process, before the invalidation benchmarks. They are not re-tagged between
/// calls: an invalidation writes the tag's record whether or not the entries are still current, so its cost is the same.
/// </remarks>
[MemoryDiagnoser]
[RequiresRedis]
[Config(typeof(RedisCommandsConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
// A round trip to a server that shares these 2 cores moves more between processes than between iterations (see
// RedisBenchmarks): three processes put that spread into the mean and its error bars instead of into the verdict.
[ProcessCount(3)]
[WarmupCount(2)]
[IterationCount(4)]
public class TagRedisBenchmarks
{
    /// <summary>How many entries carry the tag that <see cref="InvalidateTagsAsync"/> invalidates.</summary>
    public const int BulkEntries = 100_000;

    /// <summary>Entries stored concurrently, as one pipelined batch, while filling.</summary>
    private const int FillBatch = 1_000;

    private const string BulkTag = "bulk";

    private static readonly string[] s_bulkTags = [BulkTag];
    private static readonly CacheEntryOptions s_plain = new() { Ttl = TimeSpan.FromMinutes(10) };
    private static readonly CacheEntryOptions s_tagged = new() { Ttl = TimeSpan.FromMinutes(10), Tags = ["user:42", "users"] };
    private static readonly CacheEntryOptions s_bulk = new() { Ttl = TimeSpan.FromHours(1), Tags = s_bulkTags };

    // Each run's own namespace, so that runs never share entries or tag records.
    private readonly string _space = "cached-bench-tags-" + Guid.NewGuid().ToString("N")[..8];
    private ConnectionMultiplexer _connection = null!;
    private IDatabase _database = null!;
    private RedisCache _cache = null!;

    // Fields, not constants, so that the JIT cannot fold the keys.
    private int _id = 42;
    private string _plainKey = null!;
    private string _taggedKey = null!;
    private RedisKey[] _tagRecords = [];
    private RedisKey _rawTaggedKey;
    private RedisKey _rawKey;
    private RedisValue _rawValue;

    [GlobalSetup(Targets = [nameof(GetOrSetAsync), nameof(GetOrSetTaggedAsync), nameof(GetOrSetThenTagRecordsAsync), nameof(RawGetAsync), nameof(RawGetWithTagRecordsAsync)])]
    public void SetupHits()
    {
        Connect();
        _plainKey = $"user:u:{_id}";
        _taggedKey = $"user:t:{_id}";
        // The records the tagged hit reads beside its entry, named as docs/tags.md says: __cached:tag:<tag>.
        _tagRecords = [_cache.BuildKey("__cached:tag:user:42"), _cache.BuildKey("__cached:tag:users")];
        _rawTaggedKey = _cache.BuildKey(_taggedKey);

        // The first call of each misses and stores; every measured call hits.
        GetOrSetAsync().AsTask().GetAwaiter().GetResult();
        GetOrSetTaggedAsync().AsTask().GetAwaiter().GetResult();
        Record(nameof(GetOrSetAsync), () => GetOrSetAsync().AsTask());
        Record(nameof(GetOrSetTaggedAsync), () => GetOrSetTaggedAsync().AsTask());
        Record(nameof(GetOrSetThenTagRecordsAsync), GetOrSetThenTagRecordsAsync);
        Record(nameof(RawGetAsync), RawGetAsync);
        Record(nameof(RawGetWithTagRecordsAsync), RawGetWithTagRecordsAsync);
    }

    [GlobalSetup(Targets = [nameof(RawSetAsync), nameof(InvalidateTagsAsync)])]
    public void SetupInvalidation()
    {
        Connect();
        _rawKey = _cache.BuildKey("raw");
        _rawValue = "1234567890123456789";
        FillAsync().GetAwaiter().GetResult();
        Record(nameof(RawSetAsync), RawSetAsync);
        Record(nameof(InvalidateTagsAsync), () => InvalidateTagsAsync().AsTask());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.ClearAsync(_space).AsTask().GetAwaiter().GetResult();
        _cache.Dispose();
        _connection.Dispose();
    }

    [BenchmarkCategory("Hit"), Benchmark(Baseline = true, Description = "GetOrSetAsync, untagged")]
    public ValueTask<User> GetOrSetAsync()
        => _cache.GetOrSetAsync(_plainKey, _id, static (id, _) => new ValueTask<User>(new User(id, "ada")), s_plain);

    [BenchmarkCategory("Hit"), Benchmark(Description = "GetOrSetAsync, Tags = user:42, users")]
    public ValueTask<User> GetOrSetTaggedAsync()
        => _cache.GetOrSetAsync(_taggedKey, _id, static (id, _) => new ValueTask<User>(new User(id, "ada")), s_tagged);

    /// <summary>What a tagged hit would cost if it read the tag records after the entry: one more round trip.</summary>
    [BenchmarkCategory("Hit"), Benchmark(Description = "reference: GetOrSetAsync untagged, then MGET of the 2 tag records")]
    public async Task<User> GetOrSetThenTagRecordsAsync()
    {
        var user = await GetOrSetAsync().ConfigureAwait(false);
        await _database.StringGetAsync(_tagRecords).ConfigureAwait(false);
        return user;
    }

    /// <summary>The wire alone: one GET with StackExchange.Redis, the entry's bytes unread.</summary>
    [BenchmarkCategory("Wire"), Benchmark(Baseline = true, Description = "StringGetAsync of the tagged entry")]
    public Task<RedisValue> RawGetAsync() => _database.StringGetAsync(_rawTaggedKey);

    /// <summary>The two reads of a tagged hit sent together with StackExchange.Redis: what one round trip for both costs here.</summary>
    [BenchmarkCategory("Wire"), Benchmark(Description = "StringGetAsync of the entry and of the 2 tag records, sent together")]
    public async Task<RedisValue> RawGetWithTagRecordsAsync()
    {
        var records = _database.StringGetAsync(_tagRecords);
        var entry = _database.StringGetAsync(_rawTaggedKey);
        await records.ConfigureAwait(false);
        return await entry.ConfigureAwait(false);
    }

    [BenchmarkCategory("Invalidate"), Benchmark(Baseline = true, Description = "StringSetAsync of one key")]
    public Task<bool> RawSetAsync() => _database.StringSetAsync(_rawKey, _rawValue);

    [BenchmarkCategory("Invalidate"), Benchmark(Description = "InvalidateTagsAsync(bulk), 100,000 entries tagged bulk")]
    public ValueTask InvalidateTagsAsync() => _cache.InvalidateTagsAsync(s_bulkTags);

    private void Connect()
    {
        _connection = BenchRedis.Connect();
        _database = _connection.GetDatabase();
        // The same multiplexer for the cache and the raw commands: the comparison is of what each sends on one socket.
        _cache = new RedisCache { Connection = _connection, Namespace = _space };
    }

    /// <summary>Stores <see cref="BulkEntries"/> entries tagged <c>bulk</c>, <see cref="FillBatch"/> in flight at a time.</summary>
    private async Task FillAsync()
    {
        var user = new User(_id, "ada");
        var batch = new Task<bool>[FillBatch];
        for (var start = 0; start < BulkEntries; start += FillBatch)
        {
            for (var i = 0; i < FillBatch; i++)
            {
                batch[i] = _cache.SetAsync($"bulk:{start + i}", user, s_bulk).AsTask();
            }

            await Task.WhenAll(batch).ConfigureAwait(false);
        }
    }

    /// <summary>Calls the benchmark once and records what the server counted for it as a run note.</summary>
    private static void Record(string method, Func<Task> call)
    {
        using var admin = BenchRedis.Connect(admin: true);
        var before = BenchRedis.CommandCalls(admin);
        call().GetAwaiter().GetResult();
        var after = BenchRedis.CommandCalls(admin);
        RunNotes.Record(RunNotes.Key(RedisCommandsConfig.Kind, nameof(TagRedisBenchmarks), method), BenchRedis.Describe(before, after));
    }
}
