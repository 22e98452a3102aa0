using System.Diagnostics;
using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's review of a production-shaped Redis, as managed services run it: TLS with a private authority, a
/// password or an ACL user, users refused the dangerous commands (FLUSHDB, KEYS, CONFIG, INFO...) or scripting or keys
/// outside their prefix, and a server with FLUSHDB, KEYS and CONFIG renamed away. One TLS server and one plain server
/// serve the fixture, each on a free loopback port; the certificates are made for the run and removed with it.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderManagedRedisReviewTests
{
    public const string Alias = "managed-review";

    private const string AdminSecret = "admin-secret";

    private TlsFiles _files = null!;
    private RedisServer _tls = null!;
    private RedisServer _renamed = null!;
    private RedisCache _admin = null!;
    private readonly Stack<IDisposable> _disposables = new();

    [OneTimeSetUp]
    public void StartServers()
    {
        _files = new TlsFiles();
        _tls = RedisServer.WithTls(_files.CertificateFile, _files.KeyFile,
            "--user", "default", "on", ">" + AdminSecret, "~*", "&*", "+@all",
            // A managed-service user: its own key prefix, every channel, no dangerous command (FLUSHDB, KEYS, CONFIG, INFO...).
            "--user", "app", "on", ">app-secret", "~app:*", "&*", "+@all", "-@dangerous",
            "--user", "noscript", "on", ">noscript-secret", "~app:*", "&*", "+@all", "-@scripting",
            // Every key, but no FLUSHDB: a user that opted into admin mode for something else.
            "--user", "noflush", "on", ">noflush-secret", "~*", "&*", "+@all", "-flushdb", "-flushall", "-keys", "-config",
            // Channels limited as its keys are: the backplane's channel must then live under the prefix too.
            "--user", "narrow", "on", ">narrow-secret", "~app:*", "resetchannels", "&app:*", "+@all", "-@dangerous");
        _renamed = new RedisServer("--rename-command", "FLUSHDB", string.Empty, "--rename-command", "FLUSHALL", string.Empty,
            "--rename-command", "KEYS", string.Empty, "--rename-command", "CONFIG", string.Empty);
        _admin = new RedisCache { ConnectionString = Tls("default", AdminSecret, ",allowAdmin=true"), TrustIssuer = _files.CaFile, Timeout = TimeSpan.FromSeconds(5) };
    }

    [OneTimeTearDown]
    public void StopServers()
    {
        _admin.Dispose();
        _tls.Dispose();
        _renamed.Dispose();
        _files.Dispose();
    }

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _admin.Raw("FLUSHALL");
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        while (_disposables.TryPop(out var disposable))
        {
            disposable.Dispose();
        }
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Push(disposable);
        return disposable;
    }

    private string Tls(string user, string password, string extra = "")
        => $"{_tls.ConnectionString},ssl=true,sslHost=127.0.0.1,user={user},password={password}{extra}";

    private RedisCache As(string user, string password, string? @namespace = "app", string extra = "")
        => Track(new RedisCache { ConnectionString = Tls(user, password, extra), TrustIssuer = _files.CaFile, Namespace = @namespace, Timeout = TimeSpan.FromSeconds(3) });

    private string[] AllKeys() => ((IEnumerable<object?>)_admin.Raw("KEYS", "*")!).Select(static k => (string)k!).ToArray();

    private static (T? Result, Exception? Error, TimeSpan Elapsed) Timed<T>(Func<T> call) => Infrastructure.Timed.Call(call);

    // ---- TLS and an ACL user kept to its prefix --------------------------------------------------------------------

    [Test]
    public async Task Every_command_works_over_TLS_as_a_user_kept_to_its_prefix_without_dangerous_commands()
    {
        var app = As("app", "app-secret");

        await EveryCommand(app);

        var keys = AllKeys();
        Assert.That(keys, Is.Not.Empty);
        Assert.That(keys, Has.All.StartsWith("app:"), "every key the library made (fences, tag records, locks) is in the user's namespace");

        Assert.That(await app.ClearAsync(), Is.True);
        Assert.That(AllKeys(), Is.Empty, "Clear of the namespace, by SCAN and UNLINK, as a user without KEYS or FLUSHDB");
    }

    /// <summary>Every kind of command, sync and async, each checked: plain, batch, counter, expiry, scripts, locks, tags.</summary>
    private static async Task EveryCommand(RedisCache app)
    {
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(app.Set("s", "v"), Is.True);
            Assert.That(await app.GetAsync<string>("s"), Is.EqualTo("v"));
            Assert.That(app.Add("a", "first"), Is.True);
            Assert.That(() => app.Add("a", "again"), Throws.InstanceOf<KeyExistsException>(), "Add on an existing key");
            Assert.That(await app.MultiSetAsync([new KeyValuePair<string, int>("m1", 1), new("m2", 2)], TimeSpan.FromMinutes(1)), Is.True);
            Assert.That(app.MultiGet<int>(["m1", "m2"]), Is.EqualTo(new[] { 1, 2 }));
            Assert.That(app.Increment("n", 5), Is.EqualTo(5));
            Assert.That(await app.ExpireAsync("n", null), Is.True, "PERSIST through its script");
            Assert.That(app.Expire("n", TimeSpan.FromMinutes(1)), Is.True);
            Assert.That(await app.ExistsAsync("n"), Is.True);
            Assert.That(app.Delete("n"), Is.EqualTo(1));

            using (var optimistic = new OptimisticLock(app, "s"))
            {
                Assert.That(optimistic.Cas("w"), Is.True, "compare-and-set script");
            }

            using (var held = new RedLock(app, "s", TimeSpan.FromSeconds(5)))
            {
                Assert.That(held.IsAcquired, Is.True);
                // The second waits one lease of its own (200 ms) and goes on without the lock.
                using var second = new RedLock(app, "s", TimeSpan.FromMilliseconds(200));
                Assert.That(second.IsAcquired, Is.False, "the lock excludes a second holder");
            }

            var tagged = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["users"] };
            Assert.That(await app.GetOrSetAsync("u", _ => ValueTask.FromResult("one"), tagged), Is.EqualTo("one"));
            Assert.That(app.GetOrSet("u", _ => "two", tagged), Is.EqualTo("one"), "a hit");
            await app.InvalidateTagsAsync(["users"]);
            Assert.That(app.GetOrSet("u", _ => "three", tagged), Is.EqualTo("three"), "the tag invalidated it");
        });
    }

    /// <summary>
    /// The commands docs/redis.md lists under "What the server must allow" once connected, for a cache in a namespace
    /// with its generated methods, tags, locks, Clear of its namespace and two levels with a backplane. Redis counts the
    /// commands a script runs too, and checks them against the user's ACL as it checks the script.
    /// </summary>
    private static readonly string[] s_documentedCommands =
    [
        "get", "mget", "set", "setnx", "setex", "mset", "exists", "incrby", "del", "unlink", "expire", "pexpire",
        "persist", "pttl", "hincrby", "hdel", "hexists", "hlen", "scan", "eval", "evalsha", "script|load", "publish",
        "ping", "echo",
    ];

    [Test]
    public async Task The_commands_a_cache_sends_are_those_the_docs_list_for_an_ACL()
    {
        var a = NodeAs("app", "app-secret");
        var b = NodeAs("app", "app-secret");
        await WaitSubscribed(a, b);
        var app = (RedisCache)a.L2;
        Caches.AddInstance(Alias, app);
        _admin.Raw("CONFIG", "RESETSTAT");

        await EveryCommand(app);
        await a.SetAsync("two-level", 1);
        await b.GetAsync<int>("two-level");
        var service = new ManagedReviewService();
        Assert.That((service.Get(1), await service.GetAsync(1)), Is.EqualTo(("v1", "v1")));
        await app.InvalidateTagsAsync(["managed"]);
        Assert.That(await app.ClearAsync(), Is.True);
        app.Clear();

        var sent = Sent(_admin.Raw("INFO", "commandstats") as string ?? string.Empty)
            .Where(static name => name is not "config|resetstat" and not "info")
            .ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(sent, Is.SubsetOf(s_documentedCommands), string.Join(" ", sent));
            Assert.That(sent, Is.SupersetOf(new[] { "get", "set", "eval", "scan", "unlink", "publish" }), "the workload ran");
        });
    }

    /// <summary>The commands <c>INFO commandstats</c> counts calls of.</summary>
    private static IEnumerable<string> Sent(string stats)
    {
        foreach (var line in stats.Split('\n'))
        {
            if (line.StartsWith("cmdstat_", StringComparison.Ordinal) && !line.Contains(":calls=0,", StringComparison.Ordinal))
            {
                yield return line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
            }
        }
    }

    [Test]
    public void A_key_outside_the_users_prefix_fails_with_a_backend_exception_naming_NOPERM()
    {
        var app = As("app", "app-secret");
        app.Set("warm", 1);

        var write = Timed(() => app.Set("k", 1, @namespace: "other"));
        var read = Timed(() => app.Get<int>("k", @namespace: "other"));

        Assert.Multiple(() =>
        {
            Assert.That(write.Error, Is.InstanceOf<CacheBackendException>().With.Message.Contains("NOPERM"), $"{write.Error}");
            Assert.That(read.Error, Is.InstanceOf<CacheBackendException>().With.Message.Contains("NOPERM"), $"{read.Error}");
            Assert.That(((CacheBackendException)write.Error!).Unreachable, Is.False, "a refusal is no outage");
        });
    }

    [Test]
    public void A_wrong_password_over_TLS_fails_clearly_within_the_connect_wait()
    {
        var wrong = As("app", "not-the-secret");

        var first = Timed(() => wrong.Get<string>("k"));
        var second = Timed(() => wrong.Get<string>("k"));

        Assert.Multiple(() =>
        {
            // The server answers the login WRONGPASS and the client's next handshake command NOAUTH: either names it.
            Assert.That(first.Error, Is.InstanceOf<CacheBackendException>(), $"{first.Error}");
            Assert.That(first.Error?.Message, Does.Contain("WRONGPASS").Or.Contain("NOAUTH"), $"{first.Error}");
            Assert.That(second.Error?.Message, Does.Contain("WRONGPASS").Or.Contain("NOAUTH"), $"{second.Error}");
            Assert.That(first.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "at most the connect wait (2 s), not Timeout times retries");
            Assert.That(second.Error, Is.InstanceOf<CacheBackendException>());
            Assert.That(second.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "the next command fails at once, not after its Timeout (3 s)");
        });
    }

    [Test]
    public void An_untrusted_certificate_fails_clearly_within_the_connect_wait()
    {
        var untrusted = Track(new RedisCache { ConnectionString = Tls("app", "app-secret"), Namespace = "app", Timeout = TimeSpan.FromSeconds(3) });

        var first = Timed(() => untrusted.Get<string>("k"));
        var second = Timed(() => untrusted.Set("k", "v"));

        Assert.Multiple(() =>
        {
            // The client's reason ("remote certificate is invalid") is named by every command, while the client connects and
            // after (RedisConnectFailureTests shows the same for a refused login).
            Assert.That(first.Error, Is.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True, $"{first.Error}");
            Assert.That(first.Error?.Message, Does.Contain("certificate"), $"{first.Error}");
            Assert.That(second.Error?.Message, Does.Contain("certificate"), $"{second.Error}");
            Assert.That(first.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)));
            Assert.That(second.Error, Is.InstanceOf<CacheBackendException>(), $"{second.Error}");
            Assert.That(second.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "at once, not after its Timeout (3 s)");
        });
    }

    // ---- scripting refused ----------------------------------------------------------------------------------------

    [Test]
    public void A_user_without_scripting_reads_and_is_told_before_any_write_that_the_ACL_refuses_EVAL()
    {
        _admin.Set("k", "old", @namespace: "app");
        var noscript = As("noscript", "noscript-secret");

        var write = Timed(() => noscript.Set("k", "new"));
        var again = Timed(() => noscript.Delete("k"));

        Assert.Multiple(() =>
        {
            Assert.That(noscript.Get<string>("k"), Is.EqualTo("old"), "reads need no script");
            Assert.That(write.Error, Is.InstanceOf<CacheBackendException>().With.Message.Contains("eval").IgnoreCase, $"{write.Error}");
            Assert.That(write.Error?.Message, Does.Contain("NOPERM"));
            Assert.That(write.Error?.Message, Does.Contain("@scripting"), "the fix an ACL needs is named, not only Garnet's --lua");
            Assert.That(again.Error, Is.InstanceOf<CacheBackendException>());
            Assert.That(_admin.Get<string>("k", @namespace: "app"), Is.EqualTo("old"), "nothing was written or deleted");
        });
    }

    [Test]
    public async Task A_generated_method_fails_open_on_a_user_without_scripting_and_logs_its_refused_writes_as_warnings()
    {
        var logs = new RecordingLogs();
        CachedLogging.LoggerFactory = logs;
        Caches.AddInstance(Alias, As("noscript", "noscript-secret"));
        var service = new ManagedReviewService();

        var values = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            values.Add(service.Get(1));
            values.Add(await service.GetAsync(2));
        }

        Assert.Multiple(() =>
        {
            Assert.That(values, Is.EqualTo(new[] { "v1", "v2", "v1", "v2", "v1", "v2" }), "the body's value every time");
            Assert.That(service.Calls, Is.EqualTo(6), "nothing could be stored");
            Assert.That(logs.Exceptions.OfType<CacheBackendException>().Select(static e => e.Message), Has.All.Contains("eval").IgnoreCase);
            // Measured: two per call, the fill's open (a script) and its store, each at Warning; none at Error.
            Assert.That(logs.Ids.Count(static id => id == 2), Is.InRange(6, 12), "each call's refused writes are logged, at most twice");
            Assert.That(logs.Ids.Intersect([6, 12]), Is.Empty, "the Error events of generated methods (uncacheable, unknown alias)");
        });
    }

    // ---- generated methods and two levels over TLS ---------------------------------------------------------------

    [Test]
    public async Task Generated_methods_with_a_lease_and_tags_work_over_TLS_as_the_prefixed_user()
    {
        var app = As("app", "app-secret");
        Caches.AddInstance(Alias, app);
        var service = new ManagedReviewService();

        var first = await service.GetAsync(7);
        var sync = service.Get(7);
        await app.InvalidateTagsAsync(["managed"]);
        var after = await service.GetAsync(7);

        Assert.Multiple(() =>
        {
            Assert.That((first, sync, after), Is.EqualTo(("v7", "v7", "v7")));
            Assert.That(service.Calls, Is.EqualTo(3), "one call per miss: two misses (GetAsync, Get has its own key) and one after the tag");
            Assert.That(AllKeys(), Has.All.StartsWith("app:"));
        });
    }

    [Test]
    public async Task Two_levels_over_TLS_drop_each_others_copies_through_the_backplane()
    {
        var a = NodeAs("app", "app-secret");
        var b = NodeAs("app", "app-secret");

        await AssertPropagates(a, b);
    }

    /// <summary>A write on <paramref name="a"/> drops <paramref name="b"/>'s L1 copy: the backplane carries it.</summary>
    private static async Task AssertPropagates(MultiLevelCache a, MultiLevelCache b)
    {
        await WaitSubscribed(a, b);
        // The first value goes straight to L2: a's own message, late, would drop b's copy (by design).
        await a.L2.SetAsync("k", 1);
        Assert.That(await b.GetAsync<int>("k"), Is.EqualTo(1));
        Assert.That(b.IsInL1("k"), Is.True, "b holds a copy");
        await a.SetAsync("k", 2);

        Assert.That(() => b.IsInL1("k"), Is.False.After(5000, 10), "a's write reached b");
        Assert.That(await b.GetAsync<int>("k"), Is.EqualTo(2));
    }

    private MultiLevelCache NodeAs(string user, string password, string? channel = null)
    {
        var l2 = As(user, password);
        var backplane = l2.CreateBackplane();
        return Track(channel is null
            ? new MultiLevelCache(new SimpleMemoryCache(), l2, backplane)
            : new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { Channel = channel });
    }

    private static async Task WaitSubscribed(params MultiLevelCache[] nodes)
    {
        // A node takes L1 entries once its channel is subscribed: until then a read leaves L1 empty.
        var waited = Stopwatch.StartNew();
        foreach (var node in nodes)
        {
            while (waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await node.L2.SetAsync("probe", 0);
                await node.GetAsync<int>("probe");
                if (node.IsInL1("probe"))
                {
                    break;
                }

                await Task.Delay(20);
            }
        }
    }

    [Test]
    public async Task A_user_whose_channels_are_its_key_prefix_is_told_the_default_channel_is_refused_and_works_with_its_own()
    {
        var logs = new RecordingLogs();
        CachedLogging.LoggerFactory = logs;
        var refused = NodeAs("narrow", "narrow-secret");
        await refused.L2.SetAsync("k", 1);

        var read = await refused.GetAsync<int>("k");
        var again = await refused.GetAsync<int>("k");

        Assert.Multiple(() =>
        {
            Assert.That((read, again), Is.EqualTo((1, 1)), "reads go to L2");
            Assert.That(refused.IsInL1("k"), Is.False, "L1 takes nothing a message could not reach");
            Assert.That(logs.Ids.Count(static id => id == 20), Is.EqualTo(1), "one warning per 5 s retry, not one per call");
            Assert.That(logs.Messages, Has.Some.Contains("cached:app"), "the refused channel is named");
            Assert.That(logs.Exceptions.Select(static e => e.ToString()), Has.Some.Contains("NOPERM"), "and the cause");
        });

        // Named inside the user's channel pattern (&app:*), the backplane works.
        var a = NodeAs("narrow", "narrow-secret", channel: "app:backplane");
        var b = NodeAs("narrow", "narrow-secret", channel: "app:backplane");

        await AssertPropagates(a, b);
    }

    // ---- Clear where FLUSHDB is refused or renamed ---------------------------------------------------------------

    [Test]
    public async Task Clear_in_admin_mode_empties_the_database_when_the_user_may_not_run_FLUSHDB()
    {
        await AssertClearsWithoutFlush(() => As("noflush", "noflush-secret", @namespace: null, extra: ",allowAdmin=true"), AllKeys);
    }

    [Test]
    public async Task Clear_in_admin_mode_empties_the_database_on_a_server_with_FLUSHDB_renamed_away()
    {
        var probe = Track(new RedisCache { ConnectionString = _renamed.ConnectionString, Timeout = TimeSpan.FromSeconds(3) });
        await AssertClearsWithoutFlush(
            () => Track(new RedisCache { ConnectionString = _renamed.ConnectionString + ",allowAdmin=true", Timeout = TimeSpan.FromSeconds(3) }),
            () => new[] { "a", "b", "c" }.Where(k => probe.Exists(k, "x")).ToArray());
    }

    /// <summary>
    /// A cache in admin mode whose server refuses FLUSHDB empties its database all the same, sync and async (each on a
    /// cache of its own, which has not yet seen the refusal), and a second clear of the same cache too.
    /// </summary>
    private static async Task AssertClearsWithoutFlush(Func<RedisCache> newCache, Func<string[]> keysLeft)
    {
        var sync = newCache();
        var async = newCache();
        foreach (var (cache, clear) in new (RedisCache, Func<RedisCache, Task<bool>>)[]
        {
            (sync, static c => Task.FromResult(c.Clear())),
            (async, static c => c.ClearAsync().AsTask()),
            (sync, static c => Task.FromResult(c.Clear())),
        })
        {
            cache.Set("a", 1, @namespace: "x");
            await cache.SetAsync("b", 2, @namespace: "x");

            var cleared = await Infrastructure.Timed.CallAsync(() => clear(cache));

            Assert.Multiple(() =>
            {
                Assert.That(cleared.Error, Is.Null, $"{cleared.Error}");
                Assert.That(keysLeft(), Is.Empty);
            });
        }
    }

    [Test]
    public void Every_command_works_on_a_server_with_KEYS_FLUSHDB_and_CONFIG_renamed_away()
    {
        var cache = Track(new RedisCache { ConnectionString = _renamed.ConnectionString, Namespace = "r", Timeout = TimeSpan.FromSeconds(3) });

        Assert.Multiple(() =>
        {
            Assert.That(cache.Set("k", "v"), Is.True);
            Assert.That(cache.GetOrSet("f", _ => "filled"), Is.EqualTo("filled"));
            Assert.That(cache.Get<string>("f"), Is.EqualTo("filled"));
            Assert.That(cache.Clear(), Is.True);
            Assert.That(cache.Exists("k") || cache.Exists("f"), Is.False);
        });
    }

    // ---- a named configuration from appsettings-style configuration ------------------------------------------------

    [Test]
    public async Task A_named_configuration_expresses_TLS_with_a_private_authority_and_an_ACL_user()
    {
        Caches.SetConfig(Section($$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" },
                          "{{Alias}}": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{Tls("app", "app-secret")}}",
                                         "TrustIssuer": "{{Escape(_files.CaFile)}}", "Namespace": "app" } } }
            """));

        var cache = Caches.Get(Alias);
        await cache.SetAsync("k", "v");

        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task A_named_two_level_configuration_over_TLS_has_a_backplane_that_connects()
    {
        var json = $$"""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache" },
                          "{{Alias}}": { "Cache": "Cached.MultiLevelCache",
                                         "L1": { "Cache": "Cached.SimpleMemoryCache" },
                                         "L2": { "Cache": "Cached.Redis.RedisCache", "ConnectionString": "{{Tls("app", "app-secret")}}",
                                                 "TrustIssuer": "{{Escape(_files.CaFile)}}", "Namespace": "app" },
                                         "Backplane": { "Class": "Cached.Redis.RedisBackplane" } } } }
            """;
        Caches.SetConfig(Section(json));
        var a = (MultiLevelCache)Caches.Get(Alias);
        var b = (MultiLevelCache)Caches.Create(Alias);
        Track(b);

        await AssertPropagates(a, b);
    }

    private static string Escape(string path) => path.Replace("\\", "\\\\", StringComparison.Ordinal);

    private static IConfigurationSection Section(string json)
        => new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build().GetSection("Cached");
}

/// <summary>Generated methods on the review's alias: a lease (the lock script) and a tag (tag records).</summary>
public partial class ManagedReviewService
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    [Cached(Alias = OutsiderManagedRedisReviewTests.Alias, Key = "item:{id}", Ttl = 60, Lease = 5, Tags = ["managed"])]
    public partial string Get(int id);

    private string GetCore(int id)
    {
        Interlocked.Increment(ref _calls);
        return "v" + id;
    }

    [Cached(Alias = OutsiderManagedRedisReviewTests.Alias, Key = "item-async:{id}", Ttl = 60, Lease = 5, Tags = ["managed"])]
    public partial Task<string> GetAsync(int id);

    private Task<string> GetAsyncCore(int id)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult("v" + id);
    }
}
