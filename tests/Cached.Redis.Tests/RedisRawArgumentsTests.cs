using System.Numerics;
using StackExchange.Redis;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>
/// <see cref="ICache.Raw"/>'s arguments on Redis: a null, or a type StackExchange.Redis cannot encode, is refused with an
/// <see cref="ArgumentException"/> naming <c>args</c> before anything is sent. Sent, it broke the multiplexer every cache
/// of the configuration shares, so another cache failed with "Redis is unreachable" until the client reconnected.
/// </summary>
public sealed class RedisRawArgumentsTests
{
    private readonly List<RedisCache> _caches = [];

    // A connection of this fixture's own (another name, so another multiplexer): a break of it cannot fail other fixtures.
    private static string ConnectionString => $"{SharedRedis.Server.ConnectionString},name=cached-tests-raw-arguments";

    public static IEnumerable<TestCaseData> Unsendable()
    {
        yield return new TestCaseData((object?)null).SetArgDisplayNames("null");
        yield return new TestCaseData(RedisValue.Null).SetArgDisplayNames("RedisValue.Null");
        yield return new TestCaseData(new object()).SetArgDisplayNames("object");
        yield return new TestCaseData(1.5m).SetArgDisplayNames("decimal");
        yield return new TestCaseData(Guid.NewGuid()).SetArgDisplayNames("Guid");
        yield return new TestCaseData(DateTime.UtcNow).SetArgDisplayNames("DateTime");
        yield return new TestCaseData(new BigInteger(7)).SetArgDisplayNames("BigInteger");
        yield return new TestCaseData((nint)7).SetArgDisplayNames("nint");
    }

    [TearDown]
    public void DisposeCaches()
    {
        foreach (var cache in _caches)
        {
            cache.Dispose();
        }

        _caches.Clear();
    }

    private RedisCache NewCache(IReadOnlyList<Plugins.ICachePlugin>? plugins = null) => Track(new RedisCache
    {
        ConnectionString = ConnectionString,
        Plugins = plugins ?? [],
        Namespace = "rawargs:" + Guid.NewGuid().ToString("N"),
        Serializer = new JsonSerializer(),
    });

    private RedisCache Track(RedisCache cache)
    {
        _caches.Add(cache);
        return cache;
    }

    [TestCaseSource(nameof(Unsendable))]
    public void Raw_refuses_an_unsendable_argument_and_another_cache_of_the_configuration_still_answers(object? argument)
    {
        var caller = NewCache();
        var other = NewCache();
        other.Set("shared", 1);

        var refused = Assert.Throws<ArgumentException>(() => caller.Raw("SET", caller.BuildKey("raw"), argument));

        Assert.That(refused!.ParamName, Is.EqualTo("args"));
        Assert.That(refused.Message, Does.Contain("index 1").And.Contain("'SET'").And.Contain(argument?.GetType().Name ?? "null"));
        Assert.That(other.Get<int>("shared"), Is.EqualTo(1), "the shared connection is intact");
        Assert.That(caller.Raw("EXISTS", caller.BuildKey("raw")), Is.EqualTo(0L), "nothing was written");
    }

    [TestCaseSource(nameof(Unsendable))]
    public async Task RawAsync_refuses_an_unsendable_argument_and_another_cache_of_the_configuration_still_answers(object? argument)
    {
        var caller = NewCache();
        var other = NewCache();
        await other.SetAsync("shared", 1);

        var refused = Assert.ThrowsAsync<ArgumentException>(async () => await caller.RawAsync("SET", [caller.BuildKey("raw"), argument]));

        Assert.That(refused!.ParamName, Is.EqualTo("args"));
        Assert.That(refused.Message, Does.Contain("index 1"));
        Assert.That(await other.GetAsync<int>("shared"), Is.EqualTo(1), "the shared connection is intact");
        Assert.That(await caller.RawAsync("EXISTS", [caller.BuildKey("raw")]), Is.EqualTo(0L), "nothing was written");
    }

    // docs/caches.md: a bad argument fails the task with its ArgumentException whatever the token, never with a cancellation.
    [Test]
    public void RawAsync_with_a_cancelled_token_still_fails_a_bad_argument_with_its_ArgumentException()
    {
        var cache = NewCache();
        var cancelled = new CancellationToken(canceled: true);

        var task = cache.RawAsync("GET", [null], cancelled);

        Assert.That(task.IsFaulted, Is.True);
        var refused = Assert.ThrowsAsync<ArgumentException>(async () => await task);
        Assert.That(refused!.ParamName, Is.EqualTo("args"));
    }

    // Refused before the pipeline: no pre or post hook, so nothing counts it as a command, let alone a failed one.
    [Test]
    public async Task A_refused_argument_reaches_no_plugin()
    {
        var hooks = new HookCounter();
        var cache = NewCache([hooks]);

        Assert.Throws<ArgumentException>(() => cache.Raw("GET", new object()));
        Assert.ThrowsAsync<ArgumentException>(async () => await cache.RawAsync("GET", [null]));

        Assert.That(hooks.Pre(Plugins.CacheCommand.Raw), Is.Zero);
        Assert.That(await cache.RawAsync("PING"), Is.EqualTo("PONG"));
        Assert.That(hooks.Pre(Plugins.CacheCommand.Raw), Is.EqualTo(1), "a good call still goes through the plugins");
    }

    // The small integers and char have one exact form the client takes: a long and a one-character string.
    [Test]
    public async Task Small_integers_and_a_char_are_sent_widened()
    {
        var cache = NewCache();
        var key = cache.BuildKey("n");

        Assert.That(cache.Raw("INCRBY", key, (sbyte)-1), Is.EqualTo(-1L));
        Assert.That(cache.Raw("INCRBY", key, (byte)200), Is.EqualTo(199L));
        Assert.That(await cache.RawAsync("INCRBY", [key, (short)-300]), Is.EqualTo(-101L));
        Assert.That(await cache.RawAsync("INCRBY", [key, ushort.MaxValue]), Is.EqualTo(65434L));
        Assert.That(cache.Raw("SET", cache.BuildKey("c"), 'é'), Is.EqualTo("OK"));
        Assert.That(cache.Raw("GET", cache.BuildKey("c")), Is.EqualTo("é"));
    }
}
