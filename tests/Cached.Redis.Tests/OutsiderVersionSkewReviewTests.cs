using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside review of a rolling deploy: two versions of one application (<see cref="SkewV1"/> and
/// <see cref="SkewV2"/>, each on its own cache and connections) share one redis-server and the same keys, and version 2
/// changed what it caches. What must hold, as aiocache's <c>cached</c> does it: an entry one version cannot read is
/// logged and is a miss, and the body's fresh value replaces it, so no key stays unreadable (forever, without a TTL)
/// with every call running the body; and no version reads the other's entry as a wrong value. Held before this review:
/// shape changes (sync, Task, ValueTask, no TTL, lease, <c>[MultiCached]</c>, <c>GetOrSet</c>, two levels), a null
/// read by a non-nullable version, fail-safe on in one version only. Failed: a method that gained <c>Tags</c> answered
/// the old version's untagged entries, which its tags' invalidation could not reach.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed partial class OutsiderVersionSkewReviewTests
{
    private readonly List<IAsyncDisposable> _disposables = [];
    private ConnectionMultiplexer _admin = null!;
    private RecordingLogs _logs = null!;
    private string _space = null!;

    private IDatabase Raw => _admin.GetDatabase(0);

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect(SharedRedis.Server.ConnectionString + ",name=cached-tests-version-skew");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        SkewSource.Reset();
        _space = "skew" + Guid.NewGuid().ToString("N")[..8];
        _logs = new RecordingLogs();
        CachedLogging.LoggerFactory = _logs;
    }

    [TearDown]
    public async Task TearDown()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
        await _disposables.DisposeAllAsync();
    }

    /// <summary>One version's cache: its own connection to the shared server, the shared namespace.</summary>
    private RedisCache Version(string alias, TimeProvider? time = null, ISerializer? serializer = null)
    {
        var cache = new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + alias,
            Namespace = _space,
            TimeProvider = time ?? TimeProvider.System,
            Serializer = serializer ?? new JsonSerializer(),
        };
        _disposables.Add(cache);
        Caches.AddInstance(alias, cache);
        return cache;
    }

    /// <summary>One version's node of a two-level cache: its own L1, L2 connection and backplane.</summary>
    private MultiLevelCache Node(string alias)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + alias + "-l2", Namespace = _space },
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=" + alias + "-backplane"));
        _disposables.Add(node);
        Caches.AddInstance(alias, node);
        return node;
    }

    private string Stored(string key) => (string?)Raw.StringGet(_space + ":" + key) ?? "<none>";

    // ---------------------------------------------------------------------------------------------------------------
    // 1. The result's shape changed (int -> string, record -> class): each version heals the other's entry
    // ---------------------------------------------------------------------------------------------------------------

    public enum Shape
    {
        Task,
        ValueTask,
        Sync,
    }

    private static async Task<SkewProductV1> V1Call(Shape shape, int id) => shape switch
    {
        Shape.Task => await new SkewV1().ShapeAsync(id),
        Shape.ValueTask => await new SkewV1().ShapeValueAsync(id),
        _ => new SkewV1().Shape(id),
    };

    private static async Task<SkewProductV2> V2Call(Shape shape, int id) => shape switch
    {
        Shape.Task => await new SkewV2().ShapeAsync(id),
        Shape.ValueTask => await new SkewV2().ShapeValueAsync(id),
        _ => new SkewV2().Shape(id),
    };

    private static string MethodOf(Shape shape) => shape switch
    {
        Shape.Task => nameof(SkewV1.ShapeAsync),
        Shape.ValueTask => nameof(SkewV1.ShapeValueAsync),
        _ => nameof(SkewV1.Shape),
    };

    [Test]
    public async Task V2_reads_an_entry_v1_wrote_in_the_old_shape_as_a_logged_miss_and_its_value_replaces_it([Values] Shape shape)
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        var method = MethodOf(shape);
        Assert.That((await V1Call(shape, 1)).Price, Is.EqualTo(1));

        var read = await V2Call(shape, 1);
        Assert.That(read.Price, Is.EqualTo("$1"), "v1's number is not read as v2's text");
        Assert.That(SkewSource.Calls("v2:" + method), Is.EqualTo(1));
        Assert.That(_logs.Exceptions.OfType<CacheSerializationException>(), Is.Not.Empty, "the unreadable entry is logged");
        Assert.That(_logs.Messages, Has.Some.Contains(KeyOf(shape, 1)), "the log names the key");

        Assert.That((await V2Call(shape, 1)).Price, Is.EqualTo("$1"));
        Assert.That(SkewSource.Calls("v2:" + method), Is.EqualTo(1), "v2's value replaced the unreadable entry: the next call is a hit");
        Assert.That(Raw.KeyTimeToLive(_space + ":" + KeyOf(shape, 1)), Is.GreaterThan(TimeSpan.FromSeconds(50)), "the replacement keeps the method's TTL");
    }

    [Test]
    public async Task V1_still_running_reads_an_entry_v2_wrote_as_a_logged_miss_and_its_value_replaces_it([Values] Shape shape)
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        var method = MethodOf(shape);
        Assert.That((await V2Call(shape, 2)).Price, Is.EqualTo("$2"));

        Assert.That((await V1Call(shape, 2)).Price, Is.EqualTo(2));
        Assert.That((await V1Call(shape, 2)).Price, Is.EqualTo(2));
        Assert.That(SkewSource.Calls("v1:" + method), Is.EqualTo(1), "v1's value replaced v2's entry");
    }

    private static string KeyOf(Shape shape, int id) => shape switch
    {
        Shape.Task => "shape:" + id,
        Shape.ValueTask => "shape-vt:" + id,
        _ => "shape-sync:" + id,
    };

    [Test]
    public async Task An_unreadable_entry_without_a_TTL_is_replaced_rather_than_kept_forever()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().ForeverAsync(3);
        Assert.That(Raw.KeyTimeToLive(_space + ":forever:3"), Is.Null, "v1 stored it without expiry");

        for (var i = 0; i < 3; i++)
        {
            Assert.That((await new SkewV2().ForeverAsync(3)).Price, Is.EqualTo("$3"));
        }

        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.ForeverAsync)), Is.EqualTo(1), "one miss, then hits");
        Assert.That(Stored("forever:3"), Does.Contain("\"$3\""));
    }

    [Test]
    public async Task A_leased_method_replaces_an_unreadable_entry_and_leaves_no_lock_behind()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().LeasedAsync(4);

        Assert.That((await new SkewV2().LeasedAsync(4)).Price, Is.EqualTo("$4"));
        Assert.That((await new SkewV2().LeasedAsync(4)).Price, Is.EqualTo("$4"));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.LeasedAsync)), Is.EqualTo(1));
        Assert.That(Raw.KeyExists(_space + ":leased:4-lock"), Is.False);
    }

    [Test]
    public async Task A_nullable_int_s_stored_null_is_not_read_as_zero_by_a_version_returning_int()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        Assert.That(await new SkewV1().CountAsync(5), Is.Null);

        Assert.That(await new SkewV2().CountAsync(5), Is.EqualTo(50), "v1's null is v2's miss, not default(int)");
        Assert.That(await new SkewV2().CountAsync(5), Is.EqualTo(50));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.CountAsync)), Is.EqualTo(1), "v2's value replaced the null");
    }

    [Test]
    public async Task A_list_that_became_an_array_reads_the_other_version_s_entry_as_a_hit()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().ListAsync(6);

        Assert.That(await new SkewV2().ListAsync(6), Is.EqualTo(new[] { 6, 7 }));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.ListAsync)), Is.Zero, "the same JSON: a hit");
    }

    [Test]
    public async Task A_required_property_added_in_v2_makes_v1_s_entries_misses_that_heal()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().AddedAsync(7);

        Assert.That((await new SkewV2().AddedAsync(7)).Stock, Is.EqualTo(7), "not the 0 of a missing property");
        Assert.That((await new SkewV2().AddedAsync(7)).Stock, Is.EqualTo(7));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.AddedAsync)), Is.EqualTo(1));
    }

    [Test]
    public async Task MultiCached_replaces_the_other_version_s_entries_and_then_hits()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().ManyAsync([1, 2]);

        var read = await new SkewV2().ManyAsync([1, 2, 3]);
        Assert.That(read.Values.Select(p => p.Price), Is.EqualTo(new[] { "$1", "$2", "$3" }));
        await new SkewV2().ManyAsync([1, 2, 3]);
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.ManyAsync)), Is.EqualTo(1), "the batch's values replaced v1's entries");
    }

    [Test]
    public async Task MultiCached_with_fail_safe_in_v2_only_replaces_v1_s_entries_and_v1_replaces_its_stamped_ones()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().ManyAsync([1, 2]);

        Assert.That(new SkewV2().ManySafe([1, 2, 3]).Values.Select(p => p.Price), Is.EqualTo(new[] { "$1", "$2", "$3" }));
        new SkewV2().ManySafe([1, 2, 3]);
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.ManySafe)), Is.EqualTo(1), "v2's stamped values replaced v1's entries");

        Assert.That((await new SkewV1().ManyAsync([1, 2])).Values.Select(p => p.Price), Is.EqualTo(new[] { 1, 2 }));
        await new SkewV1().ManyAsync([1, 2]);
        Assert.That(SkewSource.Calls("v1:" + nameof(SkewV1.ManyAsync)), Is.EqualTo(2), "v1's plain values replaced v2's stamped entries");
    }

    [Test]
    public async Task GetOrSet_replaces_an_entry_of_another_shape([Values] bool async)
    {
        var v1 = Version(SkewV1.Alias);
        var v2 = Version(SkewV2.Alias);
        v1.Set("g", new SkewProductV1("p", 8));
        var calls = 0;
        SkewProductV2 Factory()
        {
            calls++;
            return new SkewProductV2 { Price = "$8" };
        }

        for (var i = 0; i < 2; i++)
        {
            var read = async ? await v2.GetOrSetAsync("g", _ => new ValueTask<SkewProductV2>(Factory())) : v2.GetOrSet("g", _ => Factory());
            Assert.That(read.Price, Is.EqualTo("$8"));
        }

        Assert.That(calls, Is.EqualTo(1));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // 3. Fail-safe on in v2, off in v1, on the same keys and the same type
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task V1_without_fail_safe_reads_v2_s_stamped_entry_as_its_value_not_as_garbage([Values] bool text)
    {
        Version(SkewV1.Alias, serializer: text ? new StringSerializer() : null);
        Version(SkewV2.Alias, serializer: text ? new StringSerializer() : null);
        if (text)
        {
            Assert.That(await new SkewSameV2().TextAsync(1), Is.EqualTo("v2:1"));
            Assert.That(await new SkewSameV1().TextAsync(1), Is.EqualTo("v2:1"), "the stamp is not part of the text");
            Assert.That(SkewSource.Calls("v1:" + nameof(SkewSameV1.TextAsync)), Is.Zero);
            return;
        }

        Assert.That((await new SkewSameV2().MixedAsync(1)).Name, Is.EqualTo("v2"));
        Assert.That((await new SkewSameV1().MixedAsync(1)).Name, Is.EqualTo("v2"), "a hit on v2's value");
        Assert.That(SkewSource.Calls("v1:" + nameof(SkewSameV1.MixedAsync)), Is.Zero);
    }

    [Test]
    public async Task V2_with_fail_safe_reads_v1_s_plain_entry_as_a_hit()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewSameV1().MixedAsync(2);

        Assert.That((await new SkewSameV2().MixedAsync(2)).Name, Is.EqualTo("v1"));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewSameV2.MixedAsync)), Is.Zero);
    }

    [Test]
    public async Task V1_without_fail_safe_does_not_serve_v2_s_entry_once_it_is_stale()
    {
        var later = new FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(61));
        Version(SkewV1.Alias, later);
        Version(SkewV2.Alias);
        await new SkewSameV2().MixedAsync(3);
        Assert.That(Raw.KeyTimeToLive(_space + ":mixed:3"), Is.GreaterThan(TimeSpan.FromSeconds(600)), "kept for fail-safe");

        Assert.That((await new SkewSameV1().MixedAsync(3)).Name, Is.EqualTo("v1"), "past v2's Ttl the entry is only a last value");
        Assert.That((await new SkewSameV1().MixedAsync(3)).Name, Is.EqualTo("v1"));
        Assert.That(SkewSource.Calls("v1:" + nameof(SkewSameV1.MixedAsync)), Is.EqualTo(1), "v1's value replaced the stale entry");
    }

    [Test]
    public async Task V2_with_fail_safe_replaces_v1_s_entry_of_another_shape_and_v1_replaces_v2_s_stamped_one()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().SafeAsync(4);

        Assert.That((await new SkewV2().SafeAsync(4)).Price, Is.EqualTo("$4"));
        Assert.That((await new SkewV2().SafeAsync(4)).Price, Is.EqualTo("$4"));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.SafeAsync)), Is.EqualTo(1), "v2's stamped value replaced v1's entry");

        Assert.That((await new SkewV1().SafeAsync(4)).Price, Is.EqualTo(4));
        Assert.That((await new SkewV1().SafeAsync(4)).Price, Is.EqualTo(4));
        Assert.That(SkewSource.Calls("v1:" + nameof(SkewV1.SafeAsync)), Is.EqualTo(2), "v1's plain value replaced v2's stamped entry");
    }
}
