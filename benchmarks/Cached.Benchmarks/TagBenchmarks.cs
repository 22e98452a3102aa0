using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Cached.Benchmarks.Model;

namespace Cached.Benchmarks;

/// <summary>
/// Issue 17's figures on <see cref="SimpleMemoryCache"/>: a hit of an entry with two tags (one from the argument, one
/// fixed) against the same hit untagged, through generated <c>[Cached]</c> methods (sync and <c>ValueTask</c>) and
/// through <c>GetOrSet</c> (target: at most 1.3x, 0 B); and <c>InvalidateTags</c> of one tag that 100,000 entries carry.
/// </summary>
/// <remarks>
/// <para>Keys of the same length on both sides, built the same way; <c>GetOrSet</c>'s keys and options are made once,
/// outside the measured call, so that its Allocated column shows what the cache allocates and nothing else.</para>
/// <para>An invalidation marks the tag's version object, which every entry carrying it holds, and drops it: the first
/// call marks the version 100,000 entries hold, and a call on a tag with no version has nothing to mark. So each
/// measured call first re-arms the tag with one tagged <c>Set</c> (measured alone beside it, the category's baseline),
/// then invalidates it; the same pair on an empty cache shows that the entry count plays no part.</para>
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
// Hit paths a few nanoseconds apart: as for ResilienceBenchmarks, one process's code layout moves a figure by ±10% on
// 2 cores, so each benchmark runs in three processes and the figures are their mean.
[ProcessCount(3)]
[WarmupCount(3)]
[IterationCount(10)]
public partial class TagBenchmarks
{
    internal const string Alias = "bench-tags";

    /// <summary>How many entries carry the tag that <see cref="InvalidateTags"/> invalidates.</summary>
    public const int BulkEntries = 100_000;

    private const string BulkTag = "bulk";

    private static readonly string[] s_bulkTags = [BulkTag];
    private static readonly CacheEntryOptions s_plain = new() { Ttl = TimeSpan.FromMinutes(10) };
    private static readonly CacheEntryOptions s_tagged = new() { Ttl = TimeSpan.FromMinutes(10), Tags = ["user:42", "users"] };
    private static readonly CacheEntryOptions s_bulk = new() { Ttl = TimeSpan.FromHours(1), Tags = s_bulkTags };

    private readonly SimpleMemoryCache _cache = new();
    private SimpleMemoryCache _bulk = null!;
    private SimpleMemoryCache _empty = null!;
    private User _user = null!;

    // Fields, not constants, so that the JIT cannot fold the keys.
    private int _id = 42;
    private string _plainKey = null!;
    private string _taggedKey = null!;
    private string _markerKey = null!;

    [GlobalSetup(Targets = [nameof(PlainHit), nameof(TaggedHit), nameof(PlainHitAsync), nameof(TaggedHitAsync), nameof(GetOrSet), nameof(GetOrSetTagged)])]
    public void SetupHits()
    {
        Caches.AddInstance(Alias, _cache);
        _plainKey = $"getorset:u:{_id}";
        _taggedKey = $"getorset:t:{_id}";

        // The first call of each misses and stores; every measured call hits.
        PlainHit();
        TaggedHit();
        PlainHitAsync().AsTask().GetAwaiter().GetResult();
        TaggedHitAsync().AsTask().GetAwaiter().GetResult();
        GetOrSet();
        GetOrSetTagged();
    }

    [GlobalSetup(Targets = [nameof(SetTagged), nameof(InvalidateTags), nameof(InvalidateTagsEmpty)])]
    public void SetupInvalidation()
    {
        _user = new User(_id, "ada");
        _markerKey = "marker";
        _bulk = new SimpleMemoryCache();
        _empty = new SimpleMemoryCache();
        for (var i = 0; i < BulkEntries; i++)
        {
            _bulk.Set($"bulk:{i}", _user, s_bulk);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _bulk?.Dispose();
        _empty?.Dispose();
    }

    [BenchmarkCategory("[Cached]"), Benchmark(Baseline = true, Description = "[Cached] int, TTL, untagged")]
    public User PlainHit() => GetUser(_id);

    [BenchmarkCategory("[Cached]"), Benchmark(Description = "[Cached] int, TTL, Tags = user:{id}, users")]
    public User TaggedHit() => GetTaggedUser(_id);

    [BenchmarkCategory("[Cached] ValueTask"), Benchmark(Baseline = true, Description = "[Cached] int, TTL, ValueTask, untagged")]
    public ValueTask<User> PlainHitAsync() => GetUserAsync(_id);

    [BenchmarkCategory("[Cached] ValueTask"), Benchmark(Description = "[Cached] int, TTL, ValueTask, Tags = user:{id}, users")]
    public ValueTask<User> TaggedHitAsync() => GetTaggedUserAsync(_id);

    [BenchmarkCategory("GetOrSet"), Benchmark(Baseline = true, Description = "GetOrSet, state overload, untagged")]
    public User GetOrSet() => _cache.GetOrSet(_plainKey, _id, static (id, _) => new User(id, "ada"), s_plain);

    [BenchmarkCategory("GetOrSet"), Benchmark(Description = "GetOrSet, state overload, Tags = user:42, users")]
    public User GetOrSetTagged() => _cache.GetOrSet(_taggedKey, _id, static (id, _) => new User(id, "ada"), s_tagged);

    [BenchmarkCategory("InvalidateTags"), Benchmark(Baseline = true, Description = "Set of one entry tagged bulk (re-arms the tag)")]
    public bool SetTagged() => _bulk.Set(_markerKey, _user, s_bulk);

    [BenchmarkCategory("InvalidateTags"), Benchmark(Description = "the Set, then InvalidateTags(bulk), 100,000 entries tagged bulk")]
    public bool InvalidateTags()
    {
        var stored = _bulk.Set(_markerKey, _user, s_bulk);
        _bulk.InvalidateTags(s_bulkTags);
        return stored;
    }

    [BenchmarkCategory("InvalidateTags"), Benchmark(Description = "the Set, then InvalidateTags(bulk), on an empty cache")]
    public bool InvalidateTagsEmpty()
    {
        var stored = _empty.Set(_markerKey, _user, s_bulk);
        _empty.InvalidateTags(s_bulkTags);
        return stored;
    }

    [Cached(Alias = Alias, Key = "u:{id}", Ttl = 600)]
    private partial User GetUser(int id);

    private User GetUserCore(int id) => new(id, "ada");

    [Cached(Alias = Alias, Key = "t:{id}", Ttl = 600, Tags = new[] { "user:{id}", "users" })]
    private partial User GetTaggedUser(int id);

    private User GetTaggedUserCore(int id) => new(id, "ada");

    [Cached(Alias = Alias, Key = "ua:{id}", Ttl = 600)]
    private partial ValueTask<User> GetUserAsync(int id);

    private ValueTask<User> GetUserAsyncCore(int id) => new(new User(id, "ada"));

    [Cached(Alias = Alias, Key = "ta:{id}", Ttl = 600, Tags = new[] { "user:{id}", "users" })]
    private partial ValueTask<User> GetTaggedUserAsync(int id);

    private ValueTask<User> GetTaggedUserAsyncCore(int id) => new(new User(id, "ada"));
}
