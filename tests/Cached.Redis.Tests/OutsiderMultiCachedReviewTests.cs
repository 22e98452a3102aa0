using System.Collections.Concurrent;
using System.Diagnostics;

namespace Cached.Redis.Tests;

/// <summary>The generated [MultiCached] methods of <see cref="OutsiderMultiCachedReviewTests"/>, on the alias <see cref="Alias"/>.</summary>
public static partial class OutsiderMultiUsers
{
    public const string Alias = "outsider-multi-review";
    public const string Space = "omr";

    public static ConcurrentQueue<string> Requests { get; } = new();

    public static int Version { get; set; } = 1;

    private static string Folded(string name) => name.ToLowerInvariant();

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 600, Namespace = Space)]
    public static partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

    private static Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids, CancellationToken ct)
    {
        Requests.Enqueue("many:" + ids.Count);
        return Task.FromResult(ids.ToDictionary(static id => id, static id => "u" + id));
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 600, Namespace = Space + "-sync")]
    public static partial Dictionary<int, string> Many(int[] ids);

    private static Dictionary<int, string> ManyCore(int[] ids)
    {
        Requests.Enqueue("sync:" + ids.Length);
        return ids.ToDictionary(static id => id, static id => "s" + id);
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 600, Namespace = Space + "-null")]
    public static partial Task<IReadOnlyDictionary<int, string?>> MaybeAsync(HashSet<int> ids);

    private static Task<IReadOnlyDictionary<int, string?>> MaybeAsyncCore(HashSet<int> ids)
    {
        Requests.Enqueue("maybe:" + string.Join(";", ids.Order()));
        return Task.FromResult<IReadOnlyDictionary<int, string?>>(ids.ToDictionary(static id => id, static id => id % 2 == 0 ? null : "m" + id));
    }

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 600, Namespace = Space + "-names")]
    public static partial Dictionary<string, string> Named(List<string> names);

    private static Dictionary<string, string> NamedCore(List<string> names)
    {
        Requests.Enqueue("named:" + string.Join(";", names.Select(static n => "'" + n + "'")));
        return names.ToDictionary(static n => n, static n => "n" + n);
    }

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 600, Namespace = Space + "-folded", KeyBuilder = nameof(Folded))]
    public static partial Task<Dictionary<string, string>> FoldedAsync(string[] names);

    private static Task<Dictionary<string, string>> FoldedAsyncCore(string[] names)
    {
        Requests.Enqueue("folded:" + string.Join(";", names));
        var version = Version;
        return Task.FromResult(names.ToDictionary(static n => n, n => n + version));
    }

    [InvalidateCache(nameof(FoldedAsync))]
    public static partial Task ForgetFoldedAsync(string names);

    private static Task ForgetFoldedAsyncCore(string names) => Task.CompletedTask;
}

/// <summary>
/// An outsider's check of <c>[MultiCached]</c> on a real redis-server (the shared loopback one): large batches, null
/// values, odd keys and a key builder that folds two keys into one entry. Each test cites what it checks.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderMultiCachedReviewTests
{
    private RedisCache _cache = null!;

    [SetUp]
    public void PointTheAliasAtRedis()
    {
        Caches.Reset();
        _cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        Caches.AddInstance(OutsiderMultiUsers.Alias, _cache);
        OutsiderMultiUsers.Requests.Clear();
        OutsiderMultiUsers.Version = 1;
    }

    [TearDown]
    public void CleanUp()
    {
        foreach (var space in new[] { "omr", "omr-sync", "omr-null", "omr-names", "omr-folded" })
        {
            _cache.Clear(space);
        }

        Caches.Reset();
        _cache.Dispose();
    }

    private static string Requests() => string.Join(" ", OutsiderMultiUsers.Requests);

    [Test]
    public async Task A_batch_of_ten_thousand_keys_is_computed_once_and_then_answered_from_Redis_async()
    {
        // docs/decorators.md [MultiCached]: "One MultiGet for the keys ...; the body is called only with the missing keys
        // ..., and not at all when every key hits; its entries are stored with one MultiSet".
        var ids = Enumerable.Range(0, 10_000).ToArray();
        var clock = Stopwatch.StartNew();

        var cold = await OutsiderMultiUsers.ManyAsync(ids);
        var warm = await OutsiderMultiUsers.ManyAsync(ids);
        var mixed = await OutsiderMultiUsers.ManyAsync(Enumerable.Range(5_000, 10_000).ToArray());

        clock.Stop();
        Assert.Multiple(() =>
        {
            Assert.That((cold.Count, warm.Count, mixed.Count, warm[9_999], mixed[14_999]), Is.EqualTo((10_000, 10_000, 10_000, "u9999", "u14999")));
            Assert.That(Requests(), Is.EqualTo("many:10000 many:5000"));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)));
        });
    }

    [Test]
    public void A_batch_of_ten_thousand_keys_is_computed_once_and_then_answered_from_Redis_sync()
    {
        var ids = Enumerable.Range(0, 10_000).ToArray();

        var cold = OutsiderMultiUsers.Many(ids);
        var warm = OutsiderMultiUsers.Many(ids);

        Assert.That((cold.Count, warm.Count, warm[1234]), Is.EqualTo((10_000, 10_000, "s1234")));
        Assert.That(Requests(), Is.EqualTo("sync:10000"));
    }

    [Test]
    public async Task Null_values_are_stored_in_Redis_and_read_back_as_hits()
    {
        // docs/decorators.md [Cached]: "A null result is cached like any other (aiocache cannot do this)"; docs/reliability.md:
        // a null value is cacheable, a stored null is found.
        await OutsiderMultiUsers.MaybeAsync([1, 2]);
        var warm = await OutsiderMultiUsers.MaybeAsync([1, 2]);

        Assert.That(warm.OrderBy(static p => p.Key).Select(static p => p.Key + "=" + (p.Value ?? "<null>")), Is.EqualTo(new[] { "1=m1", "2=<null>" }));
        Assert.That(Requests(), Is.EqualTo("maybe:1;2"));
    }

    [Test]
    public void An_empty_string_key_does_not_keep_the_other_keys_of_the_batch_out_of_Redis()
    {
        // docs/decorators.md [MultiCached]: a key's cache key "is its invariant text (a string as it is)"; docs/reliability.md:
        // an empty key in MultiGet/MultiSet refuses "the whole batch". Expectation: one empty key costs its own entry, not
        // every other key's.
        OutsiderMultiUsers.Named(["a", "", "b"]);
        OutsiderMultiUsers.Named(["a", "", "b"]);

        Assert.Multiple(() =>
        {
            Assert.That(_cache.Exists("a", "omr-names") && _cache.Exists("b", "omr-names"), Is.True, "a and b are in Redis; requests: " + Requests());
            Assert.That(Requests(), Is.EqualTo("named:'a';'';'b' named:''"));
        });
    }

    [Test]
    public async Task Two_keys_a_KeyBuilder_folds_into_one_entry_can_be_invalidated_and_filled_again_on_Redis()
    {
        // docs/decorators.md [MultiCached]: "KeyBuilder ... maps a key to its cache key"; [InvalidateCache]: "Each key's
        // entry is deleted under the key the target's own calls use". After the colliding batch, an invalidation and a new
        // batch must store the new value (the batch opened two fills for one cache key).
        var one = await OutsiderMultiUsers.FoldedAsync(["a", "A"]);
        OutsiderMultiUsers.Version = 2;
        await OutsiderMultiUsers.ForgetFoldedAsync("a");
        var two = await OutsiderMultiUsers.FoldedAsync(["a"]);
        var three = await OutsiderMultiUsers.FoldedAsync(["a"]);

        Assert.That((one["a"], one["A"], two["a"], three["a"]), Is.EqualTo(("a1", "A1", "a2", "a2")));
        Assert.That(Requests(), Is.EqualTo("folded:a;A folded:a"));
    }
}
