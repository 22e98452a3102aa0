using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using StackExchange.Redis;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>
/// Redis-only behaviour of <see cref="RedisCache"/> on a real redis-server: aiocache's key and value formats (data
/// shared with a Python service), round trips counted by the server's own <c>INFO commandstats</c>, SCAN-based
/// namespace clearing, connection sharing, the URL and named-cache factories.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisCacheTests
{
    private ConnectionMultiplexer _admin = null!;
    private readonly List<IDisposable> _disposables = [];

    private IServer AdminServer => _admin.GetServer(_admin.GetEndPoints()[0]);

    private IDatabase Raw(int db = 0) => _admin.GetDatabase(db);

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-tests-admin");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void FlushBefore() => AdminServer.FlushAllDatabases();

    [TearDown]
    public void FlushAndDispose()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }

        _disposables.Clear();
        if (SharedRedis.Server.IsRunning)
        {
            AdminServer.FlushAllDatabases();
        }
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    private RedisCache NewCache(string? @namespace = "main", ISerializer? serializer = null, int? database = null, TimeSpan? ttl = null)
        => Track(new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString,
            Namespace = @namespace,
            Serializer = serializer ?? new JsonSerializer(),
            Database = database,
            Ttl = ttl,
        });

    // ---- command statistics -------------------------------------------------------------------------------

    // Through the test's admin connection: a cache has no admin commands unless its connection string opts in.
    private void ResetStats() => Raw().Execute("CONFIG", "RESETSTAT");

    /// <summary>Calls per command since the last reset, from the server's INFO commandstats (cmdstat_mget:calls=1,...).</summary>
    private Dictionary<string, long> CommandStats()
    {
        var info = (string)Raw().Execute("INFO", "commandstats")!;
        var stats = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = line["cmdstat_".Length..colon];
            var calls = line[(colon + 1)..].Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal))["calls=".Length..];
            stats[name] = long.Parse(calls, CultureInfo.InvariantCulture);
        }

        return stats;
    }

    private static long Calls(Dictionary<string, long> stats, string command) => stats.GetValueOrDefault(command);

    private static string Describe(Dictionary<string, long> stats) => string.Join(", ", stats.Select(p => $"{p.Key}={p.Value}"));

    // ---- keys are aiocache's ------------------------------------------------------------------------------

    [Test]
    public void A_namespaced_key_is_stored_as_namespace_colon_key()
    {
        var cache = NewCache("main");
        cache.Set("key", "value");

        Assert.Multiple(() =>
        {
            Assert.That(cache.BuildKey("key"), Is.EqualTo("main:key"));
            Assert.That(Raw().KeyExists("main:key"), Is.True);
            Assert.That((string?)Raw().StringGet("main:key"), Is.EqualTo("\"value\""));
            Assert.That(Raw().KeyExists("key"), Is.False);
        });
    }

    [Test]
    public void An_empty_namespace_stores_the_bare_key()
    {
        var cache = NewCache("");
        cache.Set("key", "value");

        Assert.Multiple(() =>
        {
            Assert.That(cache.BuildKey("key"), Is.EqualTo("key"));
            Assert.That((string?)Raw().StringGet("key"), Is.EqualTo("\"value\""));
            Assert.That(AdminServer.Keys(0, "*").Select(k => (string)k!), Is.EquivalentTo(new[] { "key" }));
        });
    }

    [Test]
    public void A_namespace_given_to_a_command_replaces_the_cache_namespace_in_the_key()
    {
        var cache = NewCache("main");
        cache.Set("key", 1, @namespace: "other");

        Assert.Multiple(() =>
        {
            Assert.That(cache.BuildKey("key", "other"), Is.EqualTo("other:key"));
            Assert.That((string?)Raw().StringGet("other:key"), Is.EqualTo("1"));
            Assert.That(Raw().KeyExists("main:key"), Is.False);
        });
    }

    [Test]
    public void A_namespace_with_a_colon_is_composed_as_aiocache_does_with_PlainNamespaces()
    {
        // aiocache's RedisBackend._build_key is f"{namespace}:{key}": namespace "app:v1" gives "app:v1:key".
        // A Python service sharing the Redis reads and writes exactly that key. By default Cached escapes the colon
        // so that namespaces stay exact; PlainNamespaces writes aiocache's form.
        Assert.That(NewCache("app:v1").BuildKey("key"), Is.EqualTo("app\\:v1:key"), "escaped by default");
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "app:v1", PlainNamespaces = true };
        Raw().StringSet("app:v1:key", "\"from python\"");

        Assert.Multiple(() =>
        {
            Assert.That(cache.BuildKey("key"), Is.EqualTo("app:v1:key"));
            Assert.That(cache.Get<string>("key"), Is.EqualTo("from python"));
        });
    }

    // ---- values shared with Python ------------------------------------------------------------------------

    private sealed record PyPoint(int a, List<int> b);

    [Test]
    public void Values_written_by_aiocache_JsonSerializer_are_read()
    {
        // Exactly what aiocache's JsonSerializer (json.dumps) writes for "value", 5, {"a": 1, "b": [1, 2]} and None.
        Raw().StringSet("main:key", "\"value\"");
        Raw().StringSet("main:n", "5");
        Raw().StringSet("main:d", "{\"a\": 1, \"b\": [1, 2]}");
        Raw().StringSet("main:none", "null");
        var cache = NewCache("main");

        var dict = cache.Get<Dictionary<string, JsonElement>>("d");
        var point = cache.Get<PyPoint>("d");
        var foundNone = cache.TryGet<string>("none", out var none);
        var foundMissing = cache.TryGet<string>("missing", out _);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<string>("key"), Is.EqualTo("value"));
            Assert.That(cache.Get<int>("n"), Is.EqualTo(5));
            Assert.That(dict, Is.Not.Null);
            Assert.That(dict!["a"].GetInt32(), Is.EqualTo(1));
            Assert.That(dict["b"].EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(point, Is.Not.Null);
            Assert.That(point!.a, Is.EqualTo(1));
            Assert.That(point.b, Is.EqualTo(new[] { 1, 2 }));
            Assert.That(foundNone, Is.True, "Python's None (\"null\") is a stored value, not a miss");
            Assert.That(none, Is.Null);
            Assert.That(foundMissing, Is.False);
        });
    }

    [Test]
    public async Task Values_written_by_aiocache_are_read_by_the_async_commands_too()
    {
        Raw().StringSet("main:key", "\"value\"");
        Raw().StringSet("main:n", "5");
        Raw().StringSet("main:none", "null");
        var cache = NewCache("main");

        var none = await cache.TryGetAsync<string>("none");
        var many = await cache.MultiGetAsync<JsonElement>(["key", "n", "missing"]);

        Assert.Multiple(() =>
        {
            Assert.That(none.Found, Is.True);
            Assert.That(none.Value, Is.Null);
            Assert.That(many[0].GetString(), Is.EqualTo("value"));
            Assert.That(many[1].GetInt32(), Is.EqualTo(5));
            Assert.That(many[2].ValueKind, Is.EqualTo(JsonValueKind.Undefined));
        });
    }

    [Test]
    public void Values_we_write_are_the_JSON_text_Python_reads()
    {
        var cache = NewCache("main");
        cache.Set("key", "value");
        cache.Set("n", 5);
        cache.Set("none", (string?)null);
        cache.Set("list", new[] { 1, 2 });
        cache.Set("point", new PyPoint(1, [1, 2]));

        Assert.Multiple(() =>
        {
            Assert.That((string?)Raw().StringGet("main:key"), Is.EqualTo("\"value\""));
            Assert.That((string?)Raw().StringGet("main:n"), Is.EqualTo("5"));
            Assert.That((string?)Raw().StringGet("main:none"), Is.EqualTo("null"));
            Assert.That((string?)Raw().StringGet("main:list"), Is.EqualTo("[1,2]"));
            Assert.That((string?)Raw().StringGet("main:point"), Is.EqualTo("{\"a\":1,\"b\":[1,2]}"));
        });
    }

    [Test]
    public void StringSerializer_writes_the_text_Python_str_writes()
    {
        var cache = NewCache("main", new StringSerializer());
        cache.Set("f", 1.5);
        cache.Set("b", true);
        cache.Set("i", 1);
        cache.Set("s", "text");

        Assert.Multiple(() =>
        {
            Assert.That((string?)Raw().StringGet("main:f"), Is.EqualTo("1.5"));
            Assert.That((string?)Raw().StringGet("main:b"), Is.EqualTo("True"));
            Assert.That((string?)Raw().StringGet("main:i"), Is.EqualTo("1"));
            Assert.That((string?)Raw().StringGet("main:s"), Is.EqualTo("text"));
            Assert.That(cache.Get<double>("f"), Is.EqualTo(1.5));
            Assert.That(cache.Get<bool>("b"), Is.True);
        });
    }

    [Test]
    public void Increment_on_a_number_Python_wrote_continues_from_it()
    {
        Raw().StringSet("main:n", "5");
        var cache = NewCache("main");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Increment("n"), Is.EqualTo(6));
            Assert.That((string?)Raw().StringGet("main:n"), Is.EqualTo("6"));
            Assert.That(cache.Get<int>("n"), Is.EqualTo(6));
        });
    }

    // ---- serializers ----------------------------------------------------------------------------------------

    [Test]
    public void The_default_serializer_is_JsonSerializer()
    {
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "main" };
        cache.Set("key", "value");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Serializer, Is.InstanceOf<JsonSerializer>());
            Assert.That((string?)Raw().StringGet("main:key"), Is.EqualTo("\"value\""));
        });
    }

    [Test]
    public void NullSerializer_stores_strings_and_bytes_raw()
    {
        var cache = NewCache("main", NullSerializer.Instance);
        cache.Set("s", "plain text");
        cache.Set("b", new byte[] { 0, 1, 2, 255 });

        Assert.Multiple(() =>
        {
            Assert.That((string?)Raw().StringGet("main:s"), Is.EqualTo("plain text"));
            Assert.That((byte[]?)Raw().StringGet("main:b"), Is.EqualTo(new byte[] { 0, 1, 2, 255 }));
            Assert.That(cache.Get<string>("s"), Is.EqualTo("plain text"));
            Assert.That(cache.Get<byte[]>("b"), Is.EqualTo(new byte[] { 0, 1, 2, 255 }));
        });
    }

    [Test]
    public void NullSerializer_refuses_other_types_and_writes_nothing()
    {
        var cache = NewCache("main", NullSerializer.Instance);

        Assert.Multiple(() =>
        {
            Assert.Throws<CacheSerializationException>(() => cache.Set("n", 5));
            Assert.Throws<CacheSerializationException>(() => cache.Set("p", new PyPoint(1, [])));
            Assert.ThrowsAsync<CacheSerializationException>(async () => await cache.SetAsync("n", 5));
            Assert.That(Raw().KeyExists("main:n"), Is.False);
            Assert.That(Raw().KeyExists("main:p"), Is.False);
        });
    }

    // ---- round trips -----------------------------------------------------------------------------------------

    [Test]
    public void MultiGet_of_100_keys_is_one_MGET()
    {
        var cache = NewCache("main");
        var keys = Enumerable.Range(0, 100).Select(i => $"k{i}").ToArray();
        cache.MultiSet(keys.Where((_, i) => i % 2 == 0).Select(k => KeyValuePair.Create(k, k)));
        ResetStats();

        var values = cache.MultiGet<string>(keys);
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(values, Has.Count.EqualTo(100));
            Assert.That(values[0], Is.EqualTo("k0"));
            Assert.That(values[1], Is.Null);
            Assert.That(values[98], Is.EqualTo("k98"));
            Assert.That(Calls(stats, "mget"), Is.EqualTo(1), Describe(stats));
            Assert.That(stats.ContainsKey("get"), Is.False, Describe(stats));
        });
    }

    [Test]
    public async Task MultiGetAsync_of_100_keys_is_one_MGET()
    {
        var cache = NewCache("main");
        var keys = Enumerable.Range(0, 100).Select(i => $"k{i}").ToArray();
        ResetStats();

        var values = await cache.MultiGetAsync<string>(keys);
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(values, Has.Count.EqualTo(100));
            Assert.That(Calls(stats, "mget"), Is.EqualTo(1), Describe(stats));
            Assert.That(stats.ContainsKey("get"), Is.False, Describe(stats));
        });
    }

    [Test]
    public void MultiSet_without_ttl_is_one_MSET()
    {
        var cache = NewCache("main");
        ResetStats();

        cache.MultiSet(Enumerable.Range(0, 100).Select(i => KeyValuePair.Create($"k{i}", i)));
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(Calls(stats, "mset"), Is.EqualTo(1), Describe(stats));
            Assert.That(stats.ContainsKey("set"), Is.False, Describe(stats));
            Assert.That(stats.ContainsKey("multi"), Is.False, Describe(stats));
            Assert.That((string?)Raw().StringGet("main:k42"), Is.EqualTo("42"));
            Assert.That(Raw().KeyTimeToLive("main:k42"), Is.Null);
        });
    }

    [Test]
    public void MultiSet_with_ttl_is_one_script_and_every_key_gets_the_ttl()
    {
        var cache = NewCache("main");
        var keys = Enumerable.Range(0, 50).Select(i => $"k{i}").ToArray();
        ResetStats();

        cache.MultiSet(keys.Select(k => KeyValuePair.Create(k, k)), ttl: TimeSpan.FromSeconds(60));
        var stats = CommandStats();
        var ttls = keys.Select(k => (long)Raw().Execute("PTTL", "main:" + k)).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(Calls(stats, "multi") + Calls(stats, "exec"), Is.Zero, Describe(stats));
            Assert.That(Calls(stats, "set"), Is.EqualTo(50), Describe(stats) + ": one SET PX each, inside the script");
            Assert.That(ttls, Has.All.GreaterThan(0).And.All.LessThanOrEqualTo(60_000));
            Assert.That(cache.MultiGet<string>(keys), Is.EqualTo(keys));
        });
    }

    [Test]
    public async Task MultiSetAsync_with_ttl_is_one_script_and_every_key_gets_the_ttl()
    {
        var cache = NewCache("main");
        var keys = Enumerable.Range(0, 50).Select(i => $"k{i}").ToArray();
        ResetStats();

        await cache.MultiSetAsync(keys.Select(k => KeyValuePair.Create(k, k)), ttl: TimeSpan.FromSeconds(60));
        var stats = CommandStats();
        var ttls = keys.Select(k => (long)Raw().Execute("PTTL", "main:" + k)).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(Calls(stats, "multi") + Calls(stats, "exec"), Is.Zero, Describe(stats));
            Assert.That(Calls(stats, "set"), Is.EqualTo(50), Describe(stats) + ": one SET PX each, inside the script");
            Assert.That(ttls, Has.All.GreaterThan(0));
        });
    }

    [Test]
    public void The_cache_default_ttl_applies_to_MultiSet()
    {
        var cache = NewCache("main", ttl: TimeSpan.FromSeconds(30));
        cache.MultiSet([KeyValuePair.Create("a", 1), KeyValuePair.Create("b", 2)]);

        Assert.Multiple(() =>
        {
            Assert.That((long)Raw().Execute("PTTL", "main:a"), Is.InRange(1, 30_000));
            Assert.That((long)Raw().Execute("PTTL", "main:b"), Is.InRange(1, 30_000));
        });
    }

    // ---- Clear -----------------------------------------------------------------------------------------------

    [Test]
    public void Clear_of_a_namespace_uses_SCAN_and_UNLINK_never_KEYS()
    {
        var cache = NewCache("users");
        cache.MultiSet(Enumerable.Range(0, 10).Select(i => KeyValuePair.Create($"{i}", i)));
        ResetStats();

        cache.Clear("users");
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(Calls(stats, "scan"), Is.GreaterThan(0), Describe(stats));
            Assert.That(Calls(stats, "unlink"), Is.GreaterThan(0), Describe(stats));
            Assert.That(stats.ContainsKey("keys"), Is.False, Describe(stats));
            Assert.That(stats.ContainsKey("flushdb"), Is.False, Describe(stats));
            Assert.That(AdminServer.Keys(0, "users:*").Count(), Is.Zero);
        });
    }

    [Test]
    public async Task ClearAsync_of_a_namespace_uses_SCAN_and_UNLINK_never_KEYS()
    {
        var cache = NewCache("users");
        cache.MultiSet(Enumerable.Range(0, 10).Select(i => KeyValuePair.Create($"{i}", i)));
        ResetStats();

        await cache.ClearAsync("users");
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(Calls(stats, "scan"), Is.GreaterThan(0), Describe(stats));
            Assert.That(stats.ContainsKey("keys"), Is.False, Describe(stats));
            Assert.That(AdminServer.Keys(0, "users:*").Count(), Is.Zero);
        });
    }

    [Test]
    public void Clear_of_a_namespace_leaves_a_namespace_that_shares_its_prefix()
    {
        var cache = NewCache("");
        cache.Set("1", "u", @namespace: "user");
        cache.Set("1", "us", @namespace: "users");
        cache.Set("usersX", "bare");

        cache.Clear("users");

        Assert.Multiple(() =>
        {
            Assert.That(Raw().KeyExists("users:1"), Is.False);
            Assert.That(Raw().KeyExists("user:1"), Is.True, "namespace 'user' is not 'users'");
            Assert.That(Raw().KeyExists("usersX"), Is.True, "a key without the separator is outside the namespace");
        });
    }

    [Test]
    public void Clear_without_argument_clears_only_the_cache_namespace()
    {
        var cache = NewCache("users");
        cache.Set("1", "in");
        Raw().StringSet("user:1", "\"other\"");
        Raw().StringSet("bare", "\"other\"");

        cache.Clear();

        Assert.Multiple(() =>
        {
            Assert.That(Raw().KeyExists("users:1"), Is.False);
            Assert.That(Raw().KeyExists("user:1"), Is.True);
            Assert.That(Raw().KeyExists("bare"), Is.True);
        });
    }

    [Test]
    public void Clear_removes_1200_keys_across_several_SCAN_pages()
    {
        var cache = NewCache("big");
        cache.MultiSet(Enumerable.Range(0, 1200).Select(i => KeyValuePair.Create($"{i}", i)));
        Raw().StringSet("other:1", "1");
        Assert.That(AdminServer.Keys(0, "big:*").Count(), Is.EqualTo(1200));
        ResetStats();

        cache.Clear("big");
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(AdminServer.Keys(0, "big:*").Count(), Is.Zero);
            Assert.That(Raw().KeyExists("other:1"), Is.True);
            Assert.That(Calls(stats, "scan"), Is.GreaterThan(1), "several SCAN pages: " + Describe(stats));
            Assert.That(stats.ContainsKey("keys"), Is.False, Describe(stats));
        });
    }

    [Test]
    public async Task ClearAsync_removes_1200_keys_across_several_SCAN_pages()
    {
        var cache = NewCache("big");
        await cache.MultiSetAsync(Enumerable.Range(0, 1200).Select(i => KeyValuePair.Create($"{i}", i)));
        ResetStats();

        await cache.ClearAsync("big");
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(AdminServer.Keys(0, "big:*").Count(), Is.Zero);
            Assert.That(Calls(stats, "scan"), Is.GreaterThan(1), Describe(stats));
        });
    }

    [Test]
    public async Task Clear_of_a_namespace_without_keys_sends_no_UNLINK()
    {
        var cache = NewCache("empty");
        Raw().StringSet("other:1", "1");
        ResetStats();

        var cleared = cache.Clear();
        var clearedAsync = await cache.ClearAsync();
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(cleared, Is.True);
            Assert.That(clearedAsync, Is.True);
            Assert.That(stats.ContainsKey("unlink"), Is.False, Describe(stats));
            Assert.That(stats.ContainsKey("del"), Is.False, Describe(stats));
            Assert.That(Raw().KeyExists("other:1"), Is.True);
        });
    }

    [Test]
    public async Task ClearAsync_of_exactly_one_SCAN_page_of_keys_removes_them_all()
    {
        // 500 keys fill the UNLINK batch exactly: the batch left after the SCAN is empty and must not be sent.
        var cache = NewCache("page");
        await cache.MultiSetAsync(Enumerable.Range(0, 500).Select(i => KeyValuePair.Create($"{i}", i)));

        var cleared = await cache.ClearAsync();

        Assert.Multiple(() =>
        {
            Assert.That(cleared, Is.True);
            Assert.That(AdminServer.Keys(0, "page:*").Count(), Is.Zero);
        });
    }

    [TestCase("a*", "ab:x")]
    [TestCase("a?", "ab:x")]
    [TestCase("[ab]", "a:x")]
    [TestCase("a\\", "a\\b:x")]
    public void Clear_escapes_glob_characters_in_the_namespace(string @namespace, string bystander)
    {
        var cache = NewCache(@namespace);
        cache.Set("x", 1);
        Raw().StringSet(bystander, "1");
        Assert.That(cache.Exists("x"), Is.True);

        cache.Clear(@namespace);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("x"), Is.False, "the namespace's own key is removed");
            Assert.That(AdminServer.Keys(0, "*").Select(k => (string)k!), Is.EquivalentTo(new[] { bystander }));
            Assert.That(Raw().KeyExists(bystander), Is.True, $"'{bystander}' is not in namespace '{@namespace}'");
        });
    }

    [Test]
    public void Clear_with_no_namespace_anywhere_and_no_admin_mode_scans_and_unlinks_only_its_own_database()
    {
        var db0 = NewCache(null);
        var db1 = NewCache(null, database: 1);
        db0.Set("k", "zero");
        db1.Set("k", "one");
        ResetStats();

        db0.Clear();
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(Raw(0).KeyExists("k"), Is.False);
            Assert.That(Raw(1).KeyExists("k"), Is.True, "database 1 is another cache's store");
            Assert.That(Calls(stats, "scan"), Is.GreaterThanOrEqualTo(1), Describe(stats));
            Assert.That(Calls(stats, "unlink"), Is.EqualTo(1), Describe(stats));
            Assert.That(stats.ContainsKey("flushdb"), Is.False, Describe(stats));
            Assert.That(stats.ContainsKey("flushall"), Is.False, Describe(stats));
        });
    }

    [Test]
    public void Clear_of_a_namespace_on_a_cache_with_a_key_builder_is_refused_and_removes_nothing()
    {
        var cache = Track(new RedisCache
        {
            ConnectionString = SharedRedis.Server.ConnectionString,
            Namespace = "built",
            Serializer = new JsonSerializer(),
            KeyBuilder = static (key, ns) => $"custom/{ns}/{key}",
        });
        cache.Set("k", 1);

        var error = Assert.Throws<NotSupportedException>(() => cache.Clear());
        Assert.That(error!.Message, Does.Contain("KeyBuilder"));
        Assert.ThrowsAsync<NotSupportedException>(async () => await cache.ClearAsync("other"));
        Assert.That(Raw().KeyExists("custom/built/k"), Is.True, "nothing was half cleared");
        Assert.That(cache.Clear(string.Empty), Is.True, "a clear with no namespace at all empties the database");
        Assert.That(Raw().KeyExists("custom/built/k"), Is.False);
    }

    [Test]
    public void Raw_admin_commands_are_refused_unless_the_connection_string_opts_in()
    {
        var cache = NewCache(null);
        cache.Set("k", "kept");

        var refused = Assert.Throws<CacheBackendException>(() => cache.Raw("FLUSHALL"));
        Assert.That(refused!.Message, Does.Contain("admin"));
        Assert.That(Raw().KeyExists("k"), Is.True, "FLUSHALL from an ordinary cache wiped nothing");

        var admin = Track(new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",allowAdmin=true", Namespace = null });
        Assert.That(admin.Raw("FLUSHALL"), Is.EqualTo("OK"), "admin mode is an explicit opt-in");
        Assert.That(Raw().KeyExists("k"), Is.False);
    }

    [Test]
    public void Clear_with_no_namespace_anywhere_in_admin_mode_flushes_only_its_own_database()
    {
        var db0 = Track(new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",allowAdmin=true", Namespace = null });
        var db1 = NewCache(null, database: 1);
        db0.Set("k", "zero");
        db1.Set("k", "one");
        ResetStats();

        db0.Clear();
        var stats = CommandStats();

        Assert.Multiple(() =>
        {
            Assert.That(Raw(0).KeyExists("k"), Is.False);
            Assert.That(Raw(1).KeyExists("k"), Is.True, "database 1 is another cache's store");
            Assert.That(db1.Get<string>("k"), Is.EqualTo("one"));
            Assert.That(Calls(stats, "flushdb"), Is.EqualTo(1), Describe(stats));
            Assert.That(stats.ContainsKey("flushall"), Is.False, Describe(stats));
        });
    }

    [Test]
    public async Task ClearAsync_with_no_namespace_flushes_only_its_own_database()
    {
        var db0 = NewCache(null);
        var db1 = NewCache(null, database: 1);
        await db0.SetAsync("k", "zero");
        await db1.SetAsync("k", "one");

        await db1.ClearAsync();

        Assert.Multiple(() =>
        {
            Assert.That(Raw(1).KeyExists("k"), Is.False);
            Assert.That(Raw(0).KeyExists("k"), Is.True);
        });
    }

    // ---- Expire -----------------------------------------------------------------------------------------------

    [Test]
    public void Expire_null_on_a_key_without_ttl_answers_that_it_exists()
    {
        var cache = NewCache("main");
        cache.Set("k", 1);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Expire("k", null), Is.True);
            Assert.That(cache.Expire("missing", null), Is.False);
            Assert.That(Raw().KeyExists("main:missing"), Is.False);
        });
    }

    [Test]
    public async Task ExpireAsync_null_on_a_key_without_ttl_answers_that_it_exists()
    {
        var cache = NewCache("main");
        await cache.SetAsync("k", 1);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await cache.ExpireAsync("k", null), Is.True);
            Assert.That(await cache.ExpireAsync("missing", null), Is.False);
        });
    }

    [Test]
    public void Expire_with_a_ttl_sets_the_PTTL_and_null_removes_it()
    {
        var cache = NewCache("main");
        cache.Set("k", 1);

        var set = cache.Expire("k", TimeSpan.FromSeconds(10));
        var pttl = (long)Raw().Execute("PTTL", "main:k");
        var persisted = cache.Expire("k", null);
        var after = (long)Raw().Execute("PTTL", "main:k");

        Assert.Multiple(() =>
        {
            Assert.That(set, Is.True);
            Assert.That(pttl, Is.InRange(1, 10_000));
            Assert.That(persisted, Is.True);
            Assert.That(after, Is.EqualTo(-1), "PTTL -1: the key exists without expiry");
            Assert.That(cache.Expire("missing", TimeSpan.FromSeconds(10)), Is.False);
        });
    }

    [Test]
    public void Set_with_a_ttl_sets_the_PTTL_and_Set_without_clears_it()
    {
        var cache = NewCache("main");
        cache.Set("k", 1, ttl: TimeSpan.FromMilliseconds(1500));
        var pttl = (long)Raw().Execute("PTTL", "main:k");
        cache.Set("k", 2);

        Assert.Multiple(() =>
        {
            Assert.That(pttl, Is.InRange(1, 1500));
            Assert.That((long)Raw().Execute("PTTL", "main:k"), Is.EqualTo(-1));
        });
    }

    [Test]
    public async Task A_ClearAsync_past_its_Timeout_sends_no_more_pages_after_its_caller_was_told()
    {
        // 60,000 keys: 120 pages of SCAN and UNLINK, far more than 50 ms of work. The caller gets TimeoutException at
        // 50 ms; the clear used to go on deleting page after page, behind whatever the caller wrote next.
        const int Keys = 60_000;
        var raw = Raw();
        var batch = raw.CreateBatch();
        var writes = Enumerable.Range(0, Keys / 1_000)
            .Select(page => batch.StringSetAsync(Enumerable.Range(page * 1_000, 1_000)
                .Select(static i => KeyValuePair.Create((RedisKey)$"bulk:k{i}", (RedisValue)"v")).ToArray()))
            .ToArray();
        batch.Execute();
        await Task.WhenAll(writes);
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Timeout = TimeSpan.FromMilliseconds(50) };
        await cache.ExistsAsync("warm-up"); // connected before the clock starts

        Assert.ThrowsAsync<TimeoutException>(async () => await cache.ClearAsync("bulk"));
        var left = KeysIn("bulk:*");
        await Task.Delay(1_000);

        Assert.Multiple(() =>
        {
            Assert.That(left, Is.GreaterThan(0), "the clear was cut short by its timeout");
            Assert.That(KeysIn("bulk:*"), Is.EqualTo(left).Within(500), "no page after the timeout (one in flight at most)");
        });
        using var untimed = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Timeout = null };
        untimed.Clear("bulk");

        long KeysIn(string pattern) => AdminServer.Keys(pattern: pattern, pageSize: 5_000).LongCount();
    }

    // ---- Increment ---------------------------------------------------------------------------------------------

    [Test]
    public void Increment_on_a_JSON_string_throws_CacheValueNotIntegerException()
    {
        var cache = NewCache("main");
        cache.Set("s", "value");

        var ex = Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("s"));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.InnerException, Is.InstanceOf<RedisException>());
            Assert.That((string?)Raw().StringGet("main:s"), Is.EqualTo("\"value\""));
            Assert.ThrowsAsync<CacheValueNotIntegerException>(async () => await cache.IncrementAsync("s"));
        });
    }

    [Test]
    public void Increment_of_an_integer_written_with_entry_options_is_refused_naming_them([Values] bool tags)
    {
        // Its stamp comes before the value in the bytes: no counter, and the refusal said "does not hold an integer" of a
        // key every read answers 5 for.
        var cache = NewCache("main");
        var options = tags
            ? new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["counters"] }
            : new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), FailSafe = TimeSpan.FromMinutes(5) };
        cache.Set("hits", 5L, options);

        var sync = Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("hits"));
        var async = Assert.ThrowsAsync<CacheValueNotIntegerException>(async () => await cache.IncrementAsync("hits"));
        Assert.Multiple(() =>
        {
            Assert.That(sync!.Message, Does.Contain("written with entry options"));
            Assert.That(async!.Message, Does.Contain("written with entry options"));
            Assert.That(sync.Key, Is.EqualTo("main:hits"));
            Assert.That(cache.Get<long>("hits"), Is.EqualTo(5L), "left as it was");
        });
    }

    [Test]
    public void Increment_past_long_MaxValue_throws_OverflowException_and_keeps_the_value()
    {
        var cache = NewCache("main");
        cache.Set("n", long.MaxValue);

        Assert.Multiple(() =>
        {
            Assert.Throws<OverflowException>(() => cache.Increment("n"));
            Assert.ThrowsAsync<OverflowException>(async () => await cache.IncrementAsync("n", 5));
            Assert.That(cache.Get<long>("n"), Is.EqualTo(long.MaxValue));
            Assert.That((string?)Raw().StringGet("main:n"), Is.EqualTo(long.MaxValue.ToString(CultureInfo.InvariantCulture)));
        });
    }

    [Test]
    public void Increment_of_a_missing_key_starts_at_the_delta_and_stores_an_integer()
    {
        var cache = NewCache("main");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Increment("n", 3), Is.EqualTo(3));
            Assert.That(cache.Increment("n", -5), Is.EqualTo(-2));
            Assert.That((string?)Raw().StringGet("main:n"), Is.EqualTo("-2"));
        });
    }

    // ---- Add ---------------------------------------------------------------------------------------------------

    [Test]
    public void Add_is_SET_NX_and_leaves_an_existing_value()
    {
        var cache = NewCache("main");
        Raw().StringSet("main:k", "\"python\"");

        Assert.Multiple(() =>
        {
            Assert.Throws<KeyExistsException>(() => cache.Add("k", "dotnet"));
            Assert.That(cache.Get<string>("k"), Is.EqualTo("python"));
            Assert.That(cache.Add("new", "v", ttl: TimeSpan.FromSeconds(5)), Is.True);
            Assert.That((long)Raw().Execute("PTTL", "main:new"), Is.InRange(1, 5000));
        });
    }

    // ---- Raw -----------------------------------------------------------------------------------------------------

    [Test]
    public void Raw_runs_the_command_as_given_without_namespace()
    {
        var cache = NewCache("main");

        var set = cache.Raw("SET", "k", "v");
        var get = cache.Raw("GET", "k");
        var keys = cache.Raw("MGET", "k");

        Assert.Multiple(() =>
        {
            Assert.That(set, Is.EqualTo("OK"));
            Assert.That(get, Is.EqualTo("v"));
            Assert.That(keys, Is.InstanceOf<System.Collections.IEnumerable>());
            Assert.That(((System.Collections.IEnumerable)keys!).Cast<object>(), Is.EqualTo(new object[] { "v" }));
            Assert.That((string?)Raw().StringGet("k"), Is.EqualTo("v"));
            Assert.That(Raw().KeyExists("main:k"), Is.False);
        });
    }

    [Test]
    public async Task RawAsync_runs_the_command_as_given_without_namespace()
    {
        var cache = NewCache("main");

        await cache.RawAsync("SET", ["k", "v"]);

        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await cache.RawAsync("GET", ["k"]), Is.EqualTo("v"));
            Assert.That(await cache.RawAsync("INCRBY", ["n", 2]), Is.EqualTo(2L));
            Assert.That(await cache.RawAsync("GET", ["missing"]), Is.Null);
        });
    }

    // ---- timeout -----------------------------------------------------------------------------------------------------

    [Test]
    public void Timeout_becomes_the_client_sync_and_async_timeouts_and_a_connect_attempt_ends_within_the_first_wait()
    {
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Timeout = TimeSpan.FromMilliseconds(300) };
        var options = cache.Options();

        Assert.Multiple(() =>
        {
            Assert.That(options.SyncTimeout, Is.EqualTo(300));
            Assert.That(options.AsyncTimeout, Is.EqualTo(300));
            // The first command waits 80% of the timeout (240 ms); one connect attempt ends within 75% of that.
            Assert.That(options.ConnectTimeout, Is.EqualTo(180));
            Assert.That(options.AbortOnConnectFail, Is.False, "a cache created while the server is down still gets a multiplexer");
            Assert.That(options.BacklogPolicy, Is.SameAs(BacklogPolicy.FailFast));
        });
    }

    [Test]
    public void A_connect_timeout_in_the_connection_string_is_kept()
    {
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",connectTimeout=4321", Timeout = TimeSpan.FromMilliseconds(300) };

        Assert.That(cache.Options().ConnectTimeout, Is.EqualTo(4321));
    }

    // ---- factories -------------------------------------------------------------------------------------------------

    [Test]
    public void FromUrl_creates_a_RedisCache_on_the_database_and_namespace_it_names()
    {
        var port = SharedRedis.Server.Port;
        var cache = Track(Cache.FromUrl($"redis://127.0.0.1:{port}/2?namespace=main"));

        Assert.That(cache, Is.InstanceOf<RedisCache>());
        var redis = (RedisCache)cache;
        cache.Set("key", "value");

        Assert.Multiple(() =>
        {
            Assert.That(redis.Database, Is.EqualTo(2));
            Assert.That(redis.Namespace, Is.EqualTo("main"));
            Assert.That(redis.Port, Is.EqualTo(port));
            Assert.That((string?)Raw(2).StringGet("main:key"), Is.EqualTo("\"value\""));
            Assert.That(Raw(0).KeyExists("main:key"), Is.False);
            Assert.That(cache.Get<string>("key"), Is.EqualTo("value"));
        });
    }

    [Test]
    public void A_named_cache_configured_with_RedisCache_settings_works()
    {
        ICache? cache = null;
        try
        {
            var config = new CacheConfig { Cache = "Cached.Redis.RedisCache" };
            config["Endpoint"] = "127.0.0.1";
            config["Port"] = SharedRedis.Server.Port.ToString(CultureInfo.InvariantCulture);
            config["Timeout"] = "2";
            config["Namespace"] = "named";
            Caches.Add("redis", config);

            cache = Caches.Get("redis");
            cache.Set("key", 42);

            Assert.Multiple(() =>
            {
                Assert.That(cache, Is.InstanceOf<RedisCache>());
                Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
                Assert.That(cache.Serializer, Is.InstanceOf<JsonSerializer>());
                Assert.That((string?)Raw().StringGet("named:key"), Is.EqualTo("42"));
                Assert.That(cache.Get<int>("key"), Is.EqualTo(42));
                Assert.That(Caches.Get("redis"), Is.SameAs(cache));
            });
        }
        finally
        {
            cache?.Dispose();
            ResetCaches();
        }
    }

    private static void ResetCaches()
        => typeof(Caches).GetMethod("Reset", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, null);

    // ---- multiplexer sharing --------------------------------------------------------------------------------------

    private static int CacheConnections(IServer server)
        => server.ClientList().Count(c => c.Name != "cached-tests-probe");

    [Test]
    public void Caches_with_the_same_configuration_share_one_multiplexer()
    {
        using var server = new RedisServer();
        using var probe = ConnectionMultiplexer.Connect($"{server.ConnectionString},allowAdmin=true,name=cached-tests-probe");
        var admin = probe.GetServer(probe.GetEndPoints()[0]);

        var first = new RedisCache { ConnectionString = server.ConnectionString, Namespace = "a" };
        var second = new RedisCache { ConnectionString = server.ConnectionString, Namespace = "b" };
        try
        {
            first.Set("k", 1);
            var afterFirst = CacheConnections(admin);
            second.Set("k", 2);
            var afterSecond = CacheConnections(admin);

            first.Dispose();
            var secondStillWorks = second.Get<int>("k");
            var afterDispose = CacheConnections(admin);
            second.Dispose();
            var deadline = DateTime.UtcNow.AddSeconds(2);
            while (CacheConnections(admin) > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(20);
            }

            Assert.Multiple(() =>
            {
                Assert.That(afterFirst, Is.GreaterThan(0));
                Assert.That(afterSecond, Is.EqualTo(afterFirst), "a second cache with the same configuration opens no connection");
                Assert.That(secondStillWorks, Is.EqualTo(2), "disposing one cache keeps the shared multiplexer for the other");
                Assert.That(afterDispose, Is.EqualTo(afterFirst));
                Assert.That(CacheConnections(admin), Is.Zero, "the last cache disposes the shared multiplexer");
            });
        }
        finally
        {
            first.Dispose();
            second.Dispose();
        }
    }

    [Test]
    public void The_pool_hands_out_one_multiplexer_per_configuration()
    {
        using var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        using var a = MultiplexerPool.Acquire(cache.Options());
        using var b = MultiplexerPool.Acquire(cache.Options());

        Assert.That(a.Get(TimeSpan.FromSeconds(5)), Is.SameAs(b.Get(TimeSpan.FromSeconds(5))));
    }

    [Test]
    public void A_given_multiplexer_is_used_and_not_disposed_with_the_cache()
    {
        using var server = new RedisServer();
        using var mux = ConnectionMultiplexer.Connect(server.ConnectionString);
        using var probe = ConnectionMultiplexer.Connect($"{server.ConnectionString},allowAdmin=true,name=cached-tests-probe");
        var admin = probe.GetServer(probe.GetEndPoints()[0]);
        var connectionsBefore = CacheConnections(admin);
        var operationsBefore = mux.OperationCount;

        var cache = new RedisCache { Connection = mux, Namespace = "given" };
        cache.Set("k", "v");
        var value = cache.Get<string>("k");
        var operationsAfter = mux.OperationCount;
        var connectionsAfter = CacheConnections(admin);
        cache.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo("v"));
            Assert.That(operationsAfter, Is.GreaterThanOrEqualTo(operationsBefore + 2), "the commands ran on the given multiplexer");
            Assert.That(connectionsAfter, Is.EqualTo(connectionsBefore), "the cache opened no connection of its own");
            Assert.That(mux.IsConnected, Is.True, "disposing the cache leaves the given multiplexer open");
            Assert.That((string?)mux.GetDatabase().StringGet("given:k"), Is.EqualTo("\"v\""));
        });
    }

    [Test]
    public void A_disposed_cache_refuses_commands()
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString };
        cache.Set("k", 1);
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.Set("k", 2));
    }
    [TestCase(false)]
    [TestCase(true)]
    public void A_get_costs_the_calling_thread_little_more_than_the_raw_client_doing_the_same(bool connectionString)
    {
        // Regression: every command built (and, from a connection string, parsed) the client's options again only to
        // find the database number, several times the raw client's own allocation per command.
        using var mux = ConnectionMultiplexer.Connect(SharedRedis.Server.ConnectionString);
        var cache = Track(connectionString
            ? new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",defaultDatabase=0" }
            : new RedisCache { Connection = mux });
        cache.Set("user", "ada");
        var db = mux.GetDatabase();

        long Allocated(Action command)
        {
            var fewest = long.MaxValue;
            for (var round = 0; round < 5; round++)
            {
                for (var i = 0; i < 50; i++)
                {
                    command();
                }

                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < 50; i++)
                {
                    command();
                }

                fewest = Math.Min(fewest, (GC.GetAllocatedBytesForCurrentThread() - before) / 50);
            }

            return fewest;
        }

        var raw = Allocated(() => System.Text.Json.JsonSerializer.Deserialize<string>((byte[])db.StringGet("user")!));
        var ours = Allocated(() => cache.Get<string>("user"));

        TestContext.Out.WriteLine($"bytes per Get: raw {raw}, RedisCache {ours}");
        Assert.That(ours, Is.LessThanOrEqualTo(raw + 512), $"raw {raw} B");
    }
}
