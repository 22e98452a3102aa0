using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using StackExchange.Redis;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>
/// An outside review of README.md and docs/*.md on a real redis-server: each test checks one sentence of the docs,
/// quoted in its comment, where no neighbouring test checks it directly.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderDocsReviewTests
{
    private ConnectionMultiplexer _admin = null!;
    private readonly List<IDisposable> _disposables = [];

    private IDatabase Db => _admin.GetDatabase();

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-docs-review-admin");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void FlushBefore() => _admin.GetServer(_admin.GetEndPoints()[0]).FlushAllDatabases();

    [TearDown]
    public void DisposeCaches()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }

        _disposables.Clear();
        Cache.Disabled = false;
    }

    private RedisCache NewCache(string? @namespace = "main", ISerializer? serializer = null, TimeSpan? ttl = null)
    {
        var cache = new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString,
            Namespace = @namespace,
            Serializer = serializer ?? new JsonSerializer(),
            Ttl = ttl,
        };
        _disposables.Add(cache);
        return cache;
    }

    // docs/redis.md: "`Clear("")` still empties the database"; docs/caches.md: "`""` means no namespace" and "`Clear()`
    // ... on a cache with no namespace it removes everything in the store." Here on a cache that has a namespace.
    [Test]
    public void Clear_with_an_empty_namespace_on_a_namespaced_cache_empties_the_database()
    {
        var cache = NewCache("users");
        cache.Set("a", 1);
        cache.Set("b", 2, @namespace: "drafts");
        Db.StringSet("outside", "x");

        Assert.That(cache.Clear(""), Is.True);
        Assert.That(Db.KeyExists("users:a") || Db.KeyExists("drafts:b") || Db.KeyExists("outside"), Is.False);
    }

    // docs/redis.md: "a key written without a namespace whose text starts with `user:` is, on Redis, the same key as one
    // of namespace `user`: `Clear("user")` removes it".
    [Test]
    public void Clear_of_a_namespace_removes_an_unnamespaced_key_that_starts_with_its_name()
    {
        var cache = NewCache(null);
        cache.Set("user:1", "plain");

        cache.Clear("user");

        Assert.That(cache.Exists("user:1"), Is.False);
    }

    // docs/caches.md: "`ttl`: ... `TimeSpan.Zero` or `Timeout.InfiniteTimeSpan` means no expiry"; docs/redis.md:
    // "`Expire` | `PEXPIRE`, or for no expiry a script that runs `PERSIST` and answers whether the key exists".
    [Test]
    public void Expire_with_InfiniteTimeSpan_persists_the_key_and_answers_whether_it_exists()
    {
        var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromSeconds(100));

        Assert.That(cache.Expire("k", Timeout.InfiniteTimeSpan), Is.True);
        Assert.That(Db.KeyTimeToLive("main:k"), Is.Null, "PERSIST removed the expiry");
        Assert.That(cache.Expire("missing", Timeout.InfiniteTimeSpan), Is.False);
    }

    // docs/reliability.md: "huge TTL (`TimeSpan.MaxValue`, a century) | kept; never overflows into an expiry in the past".
    // On Add and MultiSet.
    [Test]
    public void Add_and_MultiSet_with_TimeSpan_MaxValue_keep_the_key()
    {
        var cache = NewCache();

        Assert.That(cache.Add("added", "v", TimeSpan.MaxValue), Is.True);
        Assert.That(cache.MultiSet(new Dictionary<string, string> { ["multi"] = "v", ["multi2"] = "v" }, TimeSpan.MaxValue), Is.True);

        foreach (var key in new[] { "added", "multi", "multi2" })
        {
            Assert.That(cache.Get<string>(key), Is.EqualTo("v"), key);
            var left = Db.KeyTimeToLive("main:" + key);
            Assert.That(left is null || left > TimeSpan.FromDays(365 * 50), Is.True, $"{key}: {left}");
        }
    }

    // docs/caches.md: "`Expire(key, ttl)` | `true` if the key exists"; docs/reliability.md: "huge TTL (`TimeSpan.MaxValue`,
    // a century) | kept". On a key that exists with no expiry, sync and async; the memory backend answers true.
    [Test]
    public async Task Expire_with_TimeSpan_MaxValue_on_an_existing_key_answers_true()
    {
        var cache = NewCache();
        cache.Set("plain", "v");
        cache.Set("timed", "v", TimeSpan.FromSeconds(100));

        var answers = new Dictionary<string, bool>
        {
            ["sync, no expiry"] = cache.Expire("plain", TimeSpan.MaxValue),
            ["async, no expiry"] = await cache.ExpireAsync("plain", TimeSpan.MaxValue),
            ["sync, with expiry"] = cache.Expire("timed", TimeSpan.MaxValue),
        };

        Assert.That(cache.Get<string>("plain"), Is.EqualTo("v"));
        Assert.That(answers.Where(a => !a.Value).Select(a => a.Key), Is.Empty, "Expire answered false for an existing key");
    }

    // docs/caches.md: "`TimeSpan.Zero` or `Timeout.InfiniteTimeSpan` means no expiry (even over a cache `Ttl`)".
    [Test]
    public void Add_and_MultiSet_with_zero_or_infinite_ttl_write_no_expiry_over_a_cache_ttl()
    {
        var cache = NewCache(ttl: TimeSpan.FromSeconds(100));
        cache.Add("a0", 1, TimeSpan.Zero);
        cache.Add("ai", 1, Timeout.InfiniteTimeSpan);
        cache.MultiSet(new Dictionary<string, int> { ["m0"] = 1, ["m0b"] = 2 }, TimeSpan.Zero);
        cache.MultiSet(new Dictionary<string, int> { ["mi"] = 1, ["mib"] = 2 }, Timeout.InfiniteTimeSpan);
        cache.Add("default", 1);

        Assert.Multiple(() =>
        {
            foreach (var key in new[] { "a0", "ai", "m0", "m0b", "mi", "mib" })
            {
                Assert.That(Db.KeyTimeToLive("main:" + key), Is.Null, key);
            }

            Assert.That(Db.KeyTimeToLive("main:default"), Is.Not.Null, "no ttl means the cache's Ttl");
        });
    }

    // docs/caches.md: "Every backend rounds a TTL up to a whole millisecond (Redis's resolution)". 1.2 ms is 2 ms, not
    // 1 ms: the arguments the server received are read from its SLOWLOG (every command logged).
    [Test]
    public void A_ttl_just_over_a_millisecond_reaches_the_server_rounded_up_not_down()
    {
        var cache = NewCache();
        cache.Set("k", "v", TimeSpan.FromDays(1));
        Db.Execute("CONFIG", "SET", "slowlog-log-slower-than", "0");
        Db.Execute("SLOWLOG", "RESET");
        try
        {
            cache.Set("s", "v", TimeSpan.FromTicks(12_000));
            cache.Expire("k", TimeSpan.FromTicks(12_000));
            cache.Add("a", "v", TimeSpan.FromTicks(12_000));
        }
        finally
        {
            Db.Execute("CONFIG", "SET", "slowlog-log-slower-than", "10000");
        }

        var entries = (RedisResult[])Db.Execute("SLOWLOG", "GET", "100")!;
        var commands = entries
            .Select(e => string.Join(' ', ((RedisResult[])((RedisResult[])e!)[3]!).Select(a => (string?)a)))
            .Where(c => !c.StartsWith("EVAL", StringComparison.OrdinalIgnoreCase) && !c.StartsWith("SLOWLOG", StringComparison.OrdinalIgnoreCase))
            .Where(c => !c.Contains(":__cached:fence", StringComparison.Ordinal)) // the fence scripts' own calls
            .ToList();
        var ttls = commands.Where(c => c.Contains("main:s") || c.Contains("main:k") || c.Contains("main:a")).ToList();
        Assert.That(ttls, Is.Not.Empty, string.Join(" | ", commands));
        Assert.That(ttls.Any(c => c.EndsWith(" 1") || c.Contains(" PX 1 ") || c.Contains(" px 1")), Is.False, string.Join(" | ", ttls));
        Assert.That(ttls.All(c => c.Contains(" 2")), Is.True, string.Join(" | ", ttls));
    }

    // docs/caches.md: "`Expire(key, ttl)` | `true` if the key exists"; "`Exists(key)` | `bool` | True for a stored `null`."
    [Test]
    public void Expire_and_Exists_on_a_stored_null()
    {
        var cache = NewCache();
        cache.Set<string?>("k", null);

        Assert.That(cache.Exists("k"), Is.True);
        Assert.That(cache.Expire("k", TimeSpan.FromSeconds(100)), Is.True);
        Assert.That(cache.Delete("k"), Is.EqualTo(1));
    }

    // docs/caches.md: "`CacheValueNotIntegerException` for a value that is not an integer"; the stored JSON `null` is not
    // one. docs/reliability.md: "the stored value unchanged".
    [Test]
    public void Increment_on_a_stored_null_throws_CacheValueNotIntegerException_and_keeps_the_null()
    {
        var cache = NewCache();
        cache.Set<string?>("k", null);

        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("k"));
        Assert.That(cache.TryGet<string>("k", out var value), Is.True);
        Assert.That(value, Is.Null);
    }

    // docs/caches.md: "a fraction is refused, not truncated"; docs/redis.md: "`Increment` | `INCRBY`
    // (`CacheValueNotIntegerException` for a value that is not an integer, ...)". A JSON 1.5 written by Set.
    [Test]
    public void Increment_on_a_stored_fraction_throws_CacheValueNotIntegerException_and_keeps_it()
    {
        var cache = NewCache();
        cache.Set("k", 1.5);

        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("k"));
        Assert.That(cache.Get<double>("k"), Is.EqualTo(1.5));
    }

    // docs/caches.md: "`MultiTryGet<T>(keys)` | a `CacheResult<T>` per key | `Found` tells a miss from a stored `null`,
    // key by key." and MultiGet's "Duplicates kept".
    [Test]
    public async Task MultiTryGet_tells_a_stored_null_from_a_miss_key_by_key_in_order_with_duplicates()
    {
        var cache = NewCache();
        cache.Set<string?>("null", null);
        cache.Set("value", "v");

        string[] keys = ["value", "missing", "null", "value"];
        foreach (var results in new[] { cache.MultiTryGet<string>(keys), await cache.MultiTryGetAsync<string>(keys) })
        {
            Assert.That(results.Select(r => r.Found), Is.EqualTo(new[] { true, false, true, true }));
            Assert.That(results.Select(r => r.Value), Is.EqualTo(new[] { "v", null, null, "v" }));
        }
    }

    // docs/redis.md: "`Raw` | the command as given; replies come back as strings, numbers and lists"; docs/caches.md:
    // "`Raw(command, args...)` | the store's answer | No namespace, serializer or key building."
    [Test]
    public async Task Raw_replies_come_back_as_strings_numbers_and_lists()
    {
        var cache = NewCache();

        Assert.That(cache.Raw("SET", "plain", "v"), Is.EqualTo("OK"));
        Assert.That(cache.Raw("GET", "plain"), Is.EqualTo("v"));
        Assert.That(cache.Raw("INCRBY", "n", 5), Is.EqualTo(5L));
        Assert.That(await cache.RawAsync("RPUSH", ["l", "a", "b"]), Is.EqualTo(2L));
        var list = cache.Raw("LRANGE", "l", 0, -1);
        Assert.That(list, Is.InstanceOf<System.Collections.IEnumerable>().And.Not.InstanceOf<string>());
        Assert.That(((System.Collections.IEnumerable)list!).Cast<object?>().Select(o => o?.ToString()), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(cache.Raw("GET", "nothing"), Is.Null);
        Assert.That(Db.KeyExists("plain"), Is.True, "no namespace");
    }

    // docs/redis.md: "`StringSerializer` writes `str()`-like text (...; `null` as `None` ...), and a counter written by
    // either side is incremented by the other (`INCRBY`)". docs/caches.md: "which the text serializers read back with
    // `Get<long>`."
    [Test]
    public void Under_StringSerializer_a_counter_reads_back_as_long_and_null_is_None()
    {
        var cache = NewCache(serializer: new StringSerializer());
        cache.Increment("visits", 41);
        Db.StringIncrement("main:visits");
        cache.Set<string?>("nothing", null);

        Assert.That(cache.Get<long>("visits"), Is.EqualTo(42));
        Assert.That((string?)Db.StringGet("main:nothing"), Is.EqualTo("None"));
        Assert.That(cache.TryGet<string>("nothing", out var value), Is.True);
        Assert.That(value, Is.Null);
        Assert.Throws<CacheSerializationException>(() => cache.Set("nothing", "None"));
        Assert.That((string?)Db.StringGet("main:nothing"), Is.EqualTo("None"), "nothing written");
    }

    // docs/caches.md: "A token that is already cancelled comes back in the task ...: the call returns a cancelled task
    // and does nothing". RawAsync and ClearAsync, the commands without a key, on Redis.
    [Test]
    public async Task RawAsync_and_ClearAsync_with_a_cancelled_token_return_a_cancelled_task_and_do_nothing()
    {
        var cache = NewCache();
        cache.Set("k", 1);
        var cancelled = new CancellationToken(canceled: true);

        var raw = cache.RawAsync("DEL", ["main:k"], cancelled);
        var clear = cache.ClearAsync(cancellationToken: cancelled);
        Assert.That(raw.IsCanceled, Is.True);
        Assert.That(clear.IsCanceled, Is.True);
        Assert.CatchAsync<OperationCanceledException>(async () => await raw);
        Assert.CatchAsync<OperationCanceledException>(async () => await clear);
        await Task.Delay(50);
        Assert.That(cache.Get<int>("k"), Is.EqualTo(1));
    }

    // docs/configuration.md: "After that a holder gets what a disposed cache gives: ... a `RedisCache` throws
    // `ObjectDisposedException`". A RedisCache disposed by its owner, sync and async.
    [Test]
    public void A_disposed_RedisCache_throws_ObjectDisposedException_sync_and_async()
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "main" };
        cache.Set("k", 1);
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.Get<int>("k"));
        Assert.ThrowsAsync<ObjectDisposedException>(async () => await cache.GetAsync<int>("k"));
        Assert.Throws<ObjectDisposedException>(() => cache.Set("k", 2));
    }

    // ---- The memory backend and Redis side by side ----
    // docs/usage.md: "Every snippet runs on `SimpleMemoryCache`; `RedisCache` ([redis.md](redis.md)) behaves the same."
    // docs/caches.md: "The counter is stored as its decimal text (Redis `INCRBY`'s form)".

    private static string Outcome(Func<object?> run)
    {
        try
        {
            return "value " + run();
        }
        catch (Exception ex)
        {
            return ex.GetType().Name;
        }
    }

    /// <summary>Increment on payloads written as they are (JSON text, or what Python or redis-cli could write).</summary>
    [Test]
    public void Increment_on_the_same_stored_bytes_answers_alike_on_memory_and_on_Redis()
    {
        using var memory = new SimpleMemoryCache { Namespace = "main", Serializer = new JsonSerializer() };
        var redis = NewCache();
        string[] payloads = ["5", "-0", "05", "+5", " 5", "5 ", "5.0", "\"5\"", "1e3", "true", "null", "9223372036854775807"];

        var differences = new List<string>();
        for (var i = 0; i < payloads.Length; i++)
        {
            var key = "p" + i;
            var bytes = System.Text.Encoding.UTF8.GetBytes(payloads[i]);
            memory.Set(key, bytes, serializer: NullSerializer.Instance);
            Db.StringSet("main:" + key, bytes);
            var onMemory = Outcome(() => memory.Increment(key));
            var onRedis = Outcome(() => redis.Increment(key));
            if (onMemory != onRedis)
            {
                differences.Add($"'{payloads[i]}': memory {onMemory}, redis {onRedis}");
            }
        }

        Assert.That(differences, Is.Empty);
    }

    // docs/caches.md: "`Increment(key, delta = 1)` | the new value | A missing key starts at 0."
    [Test]
    public void Increment_by_zero_on_a_missing_key_answers_alike_on_memory_and_on_Redis()
    {
        using var memory = new SimpleMemoryCache { Namespace = "main", Serializer = new JsonSerializer() };
        var redis = NewCache();

        Assert.That(memory.Increment("zero", 0), Is.EqualTo(0));
        Assert.That(redis.Increment("zero", 0), Is.EqualTo(0));
        Assert.That(memory.Exists("zero"), Is.EqualTo(redis.Exists("zero")), "whether Increment(key, 0) creates the key");
    }

    // docs/caches.md: "`Add(key, value, ttl?)` | `true` | `KeyExistsException` when the key holds a value; the stored
    // value is left alone." A stored null is a value.
    [Test]
    public void Add_over_a_stored_null_throws_KeyExistsException_and_keeps_the_null()
    {
        var cache = NewCache();
        cache.Set<string?>("k", null);

        Assert.Throws<KeyExistsException>(() => cache.Add("k", "new"));
        Assert.ThrowsAsync<KeyExistsException>(async () => await cache.AddAsync("k", "new"));
        Assert.That((string?)Db.StringGet("main:k"), Is.EqualTo("null"));
    }

    // docs/configuration.md: "Settings are text, matched to the cache's settable properties case-insensitively ...
    // pycached's snake_case works (`max_entries`, `connect_wait`), and so do its `db` (for `Database`) and `host` (for
    // `Endpoint`)." Checked end to end: the cache made from them writes to that server's database.
    [Test]
    public void Pycached_host_db_and_connect_wait_settings_configure_a_working_RedisCache()
    {
        Caches.Reset();
        try
        {
            Caches.SetConfig(new Dictionary<string, CacheConfig>
            {
                ["default"] = new() { Cache = "Cached.SimpleMemoryCache" },
                ["py"] = new()
                {
                    Cache = "Cached.Redis.RedisCache",
                    ["host"] = "127.0.0.1",
                    ["port"] = SharedRedis.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["db"] = "2",
                    ["connect_wait"] = "1.5",
                    ["namespace"] = "py",
                },
            });

            var cache = (RedisCache)Caches.Create("py");
            _disposables.Add(cache);
            Assert.That(cache.Endpoint, Is.EqualTo("127.0.0.1"));
            Assert.That(cache.Database, Is.EqualTo(2));
            Assert.That(cache.ConnectWait, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
            cache.Set("k", 1);
            Assert.That(_admin.GetDatabase(2).KeyExists("py:k"), Is.True);
        }
        finally
        {
            Caches.Reset();
        }
    }

    // docs/reliability.md: "huge TTL (`TimeSpan.MaxValue`, a century) | kept" and docs/caches.md: "`Set` ... Replaces the
    // value and restarts its expiry". Set over a key that had a short expiry, sync and async.
    [Test]
    public async Task Set_with_TimeSpan_MaxValue_over_a_short_expiry_keeps_the_key_for_good()
    {
        var cache = NewCache();
        cache.Set("s", "old", TimeSpan.FromSeconds(5));
        cache.Set("a", "old", TimeSpan.FromSeconds(5));

        Assert.That(cache.Set("s", "v", TimeSpan.MaxValue), Is.True);
        Assert.That(await cache.SetAsync("a", "v", TimeSpan.MaxValue), Is.True);

        foreach (var key in new[] { "s", "a" })
        {
            var left = Db.KeyTimeToLive("main:" + key);
            Assert.That(left is null || left > TimeSpan.FromDays(365 * 50), Is.True, $"{key}: {left}");
        }
    }
}
