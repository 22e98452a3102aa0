using Cached.Redis;
using Cached.Serializers;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Redis keys are UTF-8: a key or a namespace that UTF-8 cannot hold (a lone surrogate) is refused rather than stored
/// under the replacement character, where different keys would share one entry.
/// </summary>
public sealed class RedisKeyEncodingTests
{
    private RedisCache NewCache() => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString,
        Namespace = "keys:" + Guid.NewGuid().ToString("N"),
        Serializer = new JsonSerializer(),
    };

    [Test]
    public async Task A_key_with_a_lone_surrogate_is_refused_instead_of_sharing_an_entry_with_other_keys()
    {
        // Regression (review of the cache surface): "s\ud800", "s\udbff" and "s\ufffd" all became the Redis key
        // "s\ufffd": three Sets wrote one entry, and each Get read the last value (3, 3, 3 where memory read 1, 2, 3).
        using var cache = NewCache();
        cache.Set("s\ufffd", 3);

        var sync = Assert.Throws<ArgumentException>(() => cache.Set("s\ud800", 1));
        var async = Assert.ThrowsAsync<ArgumentException>(async () => await cache.SetAsync("s\udbff", 2));
        Assert.That(sync!.ParamName, Is.EqualTo("key"));
        Assert.That(sync.Message, Does.Contain("UTF-8"));
        Assert.That(async!.ParamName, Is.EqualTo("key"));
        Assert.Throws<ArgumentException>(() => cache.Get<int>("s\ud800"));
        Assert.Throws<ArgumentException>(() => cache.Delete("\udc00s"));
        var batch = Assert.Throws<ArgumentException>(() => cache.MultiGet<int>(["ok", "s\ud800"]));
        Assert.That(batch!.ParamName, Is.EqualTo("keys"), "the batch's parameter, not its item's");
        Assert.That(batch.Message, Does.StartWith("The key at index 1 "));
        var pairs = Assert.ThrowsAsync<ArgumentException>(async () => await cache.MultiSetAsync([KeyValuePair.Create("ok", 1), KeyValuePair.Create("\udc00s", 2)]));
        Assert.That(pairs!.ParamName, Is.EqualTo("pairs"));
        Assert.That(pairs.Message, Does.StartWith("The key of the pair at index 1 "));
        Assert.That(cache.Exists("ok"), Is.False, "nothing of the refused batch is written");
        Assert.That(cache.Get<int>("s\ufffd"), Is.EqualTo(3), "the key a refused one would have overwritten is untouched");

        // A surrogate pair is a character like any other.
        cache.Set("s\ud83d\ude00", 4);
        Assert.That(cache.Get<int>("s\ud83d\ude00"), Is.EqualTo(4));
    }

    [Test]
    public void A_key_or_namespace_with_a_lone_surrogate_is_refused_whatever_the_token()
    {
        // docs/caches.md: a bad argument fails the task with its ArgumentException whatever the token; these were
        // cancelled tasks, the check running where the key is built, after the token's.
        using var cache = NewCache();
        var cancelled = new CancellationToken(canceled: true);
        var key = Assert.ThrowsAsync<ArgumentException>(async () => await cache.SetAsync("s\ud800", 1, cancellationToken: cancelled));
        var ns = Assert.ThrowsAsync<ArgumentException>(async () => await cache.GetAsync<int>("k", @namespace: "ns\udfff", cancellationToken: cancelled));
        var clear = Assert.ThrowsAsync<ArgumentException>(async () => await cache.ClearAsync("ns\ud800", cancelled));
        Assert.That(key!.ParamName, Is.EqualTo("key"));
        Assert.That(ns!.ParamName, Is.EqualTo("namespace"));
        Assert.That(clear!.ParamName, Is.EqualTo("namespace"));
    }

    [Test]
    public void A_namespace_with_a_lone_surrogate_is_refused()
    {
        using var cache = NewCache();
        var refused = Assert.Throws<ArgumentException>(() => cache.Set("k", 1, @namespace: "ns\ud800"));
        Assert.That(refused!.ParamName, Is.EqualTo("namespace"));
        Assert.Throws<ArgumentException>(() => new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "ns\udfff" }.Get<int>("k"));
    }

    [Test]
    public async Task Clear_of_a_namespace_with_a_lone_surrogate_is_refused_instead_of_clearing_another()
    {
        // Found by a review: Clear("ns\ud800") scanned for the U+FFFD namespace and answered true.
        using var cache = NewCache();
        Assert.That(Assert.Throws<ArgumentException>(() => cache.Clear("ns\ud800"))!.ParamName, Is.EqualTo("namespace"));
        Assert.That(Assert.ThrowsAsync<ArgumentException>(async () => await cache.ClearAsync("ns\udfff"))!.ParamName, Is.EqualTo("namespace"));
    }

    [Test]
    public void A_key_builder_that_returns_a_lone_surrogate_fails_the_command_as_a_cache_fault()
    {
        // A builder that truncates keys can split a surrogate pair: the builder's fault, not the caller's argument.
        using var cache = new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString,
            KeyBuilder = static (key, _) => key[..^1],
        };
        Assert.Throws<CacheException>(() => cache.Set("s\ud83d\ude00", 1));
        cache.Set("ab", 2);
        Assert.That(cache.Get<int>("ab"), Is.EqualTo(2));
    }

    [Test]
    public void A_memory_cache_keeps_such_keys_apart_as_before()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("s\ud800", 1);
        cache.Set("s\udbff", 2);
        Assert.That(cache.Get<int>("s\ud800"), Is.EqualTo(1));
        Assert.That(cache.Get<int>("s\udbff"), Is.EqualTo(2));
    }

    [Test]
    public async Task A_cached_method_whose_key_has_a_lone_surrogate_runs_its_body_uncached_instead_of_reading_another_keys_entry()
    {
        using var cache = NewCache();
        var calls = 0;
        string Body(string id) => id + ":" + Interlocked.Increment(ref calls);

        Assert.That(await cache.GetOrSetAsync("s\ufffd", _ => ValueTask.FromResult(Body("fffd"))), Is.EqualTo("fffd:1"));
        var lone = await cache.GetOrSetAsync("s\ud800", _ => ValueTask.FromResult(Body("d800")));
        Assert.That(lone, Is.EqualTo("d800:2"), "not the entry of s\\ufffd");
        Assert.That(await cache.GetAsync<string>("s\ufffd"), Is.EqualTo("fffd:1"));
    }

    [Test]
    public async Task In_a_multi_cached_batch_only_the_key_with_a_lone_surrogate_runs_uncached([Values] bool async)
    {
        // Regression (outside check): Redis refused the batch's read and write for that one key, so every key of the
        // batch ran its body on every call.
        using var cache = NewCache();
        var method = new Cached.Runtime.MultiCachedMethod<string, string>(new Cached.Runtime.CachedMethodOptions { Method = "Tests.Names.Get", CacheFactory = () => cache, Ttl = 10 });
        var asked = new List<string>();
        Dictionary<string, string> Load(List<string> keys)
        {
            asked.Add(string.Join(";", keys.Select(static key => key.Length > 1 ? "lone" : key)));
            return keys.ToDictionary(static key => key, static key => "v" + key);
        }

        for (var call = 0; call < 2; call++)
        {
            var result = async
                ? await method.InvokeAsync(new[] { "a", "s\ud800", "b" }, 0, static (_, key) => key, (_, missing, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(Load(missing)), null, CancellationToken.None)
                : method.Invoke(new[] { "a", "s\ud800", "b" }, 0, static (_, key) => key, (_, missing) => Load(missing));
            Assert.That(result, Has.Count.EqualTo(3));
        }

        Assert.That(asked, Is.EqualTo(new[] { "a;lone;b", "lone" }));
        Assert.That(await cache.GetAsync<string>("a"), Is.EqualTo("va"));
    }
}
