using System.Diagnostics;
using Cached.Capabilities;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Faults on a dedicated redis-server per test: a paused server (timeouts), a stopped and restarted one (fail fast,
/// then recovery of the same cache instance), a full one (OOM), and authentication (requirepass, ACL users).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisFaultTests
{
    private readonly List<IDisposable> _disposables = [];

    [TearDown]
    public void DisposeAll()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            try
            {
                disposable.Dispose();
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
            {
                // A server or a connection already gone: nothing left to release.
            }
        }

        _disposables.Clear();
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    private static ConnectionMultiplexer Probe(RedisServer server, string? password = null)
        => ConnectionMultiplexer.Connect($"{server.ConnectionString},allowAdmin=true,name=cached-tests-probe,abortConnect=false,connectTimeout=2000"
            + (password is null ? string.Empty : $",password={password}"));

    private static (T? Result, Exception? Error, TimeSpan Elapsed) Timed<T>(Func<T> action) => Infrastructure.Timed.Call(action);

    private static Task<(T? Result, Exception? Error, TimeSpan Elapsed)> TimedAsync<T>(Func<Task<T>> action) => Infrastructure.Timed.CallAsync(action);

    // ---- timeouts -----------------------------------------------------------------------------------------------

    [Test]
    public async Task A_tagged_write_with_Redis_down_fails_as_unreachable_with_a_CacheBackendException()
    {
        using var server = new RedisServer();
        using var cache = new RedisCache { ConnectionString = server.ConnectionString, Namespace = "tags-down" };
        using var twoLevels = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { ConnectionString = server.ConnectionString, Namespace = "tags-down-2" });
        await cache.SetAsync("warm", 1);
        await twoLevels.SetAsync("warm", 1);
        server.Stop();
        var tagged = new CacheEntryOptions { Tags = ["team"] };

        // The tag records are read beside the write: their fault is the cache's, as the write's own would be.
        var failed = Assert.ThrowsAsync<CacheBackendException>(async () => await cache.SetAsync("k", "v", tagged));
        Assert.That(failed!.Unreachable, Is.True);
        Assert.That(() => cache.Set("k", "v", tagged), Throws.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True);
        Assert.That(async () => await cache.InvalidateTagsAsync(["team"]), Throws.InstanceOf<CacheBackendException>());

        // A two-level cache keeps a plain write for L2, but not a tagged one: the tag records it is stamped with live in
        // L2, so it fails as unreachable, and leaves L1 as it was.
        Assert.That(async () => await twoLevels.SetAsync("k", "v", tagged), Throws.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True);
        Assert.That(() => twoLevels.Set("k", "v", tagged), Throws.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True);
        Assert.That(twoLevels.WaitingWrites.Count, Is.Zero);
        Assert.That(await twoLevels.SetAsync("k", "plain"), Is.True);
        Assert.That(twoLevels.WaitingWrites.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task A_paused_server_makes_Get_and_GetAsync_throw_TimeoutException_within_the_timeout()
    {
        var server = Track(new RedisServer());
        var probe = Track(Probe(server));
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString, Timeout = TimeSpan.FromMilliseconds(300) });
        Connections.WaitUntilConnected(cache);
        cache.Set("k", "v");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v"), "connected before the pause");

        // Longer than every command here can take, so none of them is answered by the end of the pause.
        probe.GetDatabase().Execute("CLIENT", "PAUSE", "10000", "ALL");
        var sync = Timed(() => cache.Get<string>("k"));
        var async = await TimedAsync(async () => await cache.GetAsync<string>("k"));
        TestContext.Out.WriteLine($"Paused server, Timeout 300 ms: Get {sync.Elapsed.TotalMilliseconds:F0} ms ({sync.Error?.GetType().Name}), GetAsync {async.Elapsed.TotalMilliseconds:F0} ms ({async.Error?.GetType().Name})");

        Assert.Multiple(() =>
        {
            Assert.That(sync.Error, Is.InstanceOf<TimeoutException>(), $"Get: {sync.Error}");
            Assert.That(sync.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"Get took {sync.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(sync.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), $"Get waited {sync.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(async.Error, Is.InstanceOf<TimeoutException>(), $"GetAsync: {async.Error}");
            Assert.That(async.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"GetAsync took {async.Elapsed.TotalMilliseconds:F0} ms");
        });

        // Closing a client sends QUIT and waits for the answer, which a paused server withholds: stop it first.
        server.Stop();
    }

    [Test]
    public async Task On_a_supplied_connection_a_read_and_a_write_of_a_paused_server_time_out_by_the_cache_timer_and_are_observed_when_they_end()
    {
        // The connection's own async timeout is the client's default (5 s): only the cache's timer can fail the read in
        // 300 ms, and it does so with one timer for the cache rather than one per read.
        var server = Track(new RedisServer());
        var probe = Track(Probe(server));
        var connection = Track(await ConnectionMultiplexer.ConnectAsync(server.ConnectionString));
        var cache = Track(new RedisCache { Connection = connection, Timeout = TimeSpan.FromMilliseconds(300) });
        await cache.SetAsync("k", "v");
        Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("v"));

        await probe.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "10000", "ALL");
        var read = await TimedAsync(async () => await cache.GetAsync<string>("k"));
        var write = await TimedAsync(async () => await cache.SetAsync("k", "w"));
        var deadlines = cache.DeadlinesInUse;
        Assert.Multiple(() =>
        {
            Assert.That(read.Error, Is.InstanceOf<TimeoutException>().With.Message.Contains("Get"), $"GetAsync: {read.Error}");
            Assert.That(read.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"GetAsync took {read.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(write.Error, Is.InstanceOf<TimeoutException>().With.Message.Contains("Set"), $"SetAsync: {write.Error}");
            Assert.That(write.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"SetAsync took {write.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(deadlines, Is.Not.Null, "the commands were watched by the cache's timer");
            Assert.That(deadlines!.Watched, Is.EqualTo(2), "the abandoned read and write are still awaited");
        });

        // A paused server withholds even CLIENT UNPAUSE: stopping it ends the late commands, with a connection failure.
        server.Stop();
        var started = DateTime.UtcNow;
        while (deadlines!.Watched != 0)
        {
            Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(10)), "the late commands ended and were observed");
            await Task.Delay(10);
        }
    }

    [Test]
    public async Task A_paused_server_makes_Set_SetAsync_and_MultiGetAsync_throw_TimeoutException()
    {
        var server = Track(new RedisServer());
        var probe = Track(Probe(server));
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString, Timeout = TimeSpan.FromMilliseconds(300) });
        Connections.WaitUntilConnected(cache);
        cache.Set("k", "v");

        probe.GetDatabase().Execute("CLIENT", "PAUSE", "10000", "ALL");
        var set = Timed(() => cache.Set("k", "w"));
        var setAsync = await TimedAsync(async () => await cache.SetAsync("k", "x"));
        var multiGet = await TimedAsync(async () => await cache.MultiGetAsync<string>(["k", "j"]));

        Assert.Multiple(() =>
        {
            Assert.That(set.Error, Is.InstanceOf<TimeoutException>(), $"Set: {set.Error}");
            Assert.That(set.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"Set took {set.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(setAsync.Error, Is.InstanceOf<TimeoutException>(), $"SetAsync: {setAsync.Error}");
            Assert.That(setAsync.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"SetAsync took {setAsync.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(multiGet.Error, Is.InstanceOf<TimeoutException>(), $"MultiGetAsync: {multiGet.Error}");
            Assert.That(multiGet.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), $"MultiGetAsync took {multiGet.Elapsed.TotalMilliseconds:F0} ms");
        });

        server.Stop();
    }

    // ---- server down, then back ------------------------------------------------------------------------------

    [Test]
    public async Task A_stopped_server_makes_commands_fail_fast_with_CacheBackendException()
    {
        var server = Track(new RedisServer());
        // The default timeout (5 s): failing within 2.5 s shows that commands do not wait for it (with room for a stall of
        // a loaded CI machine; they fail in milliseconds).
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString });
        cache.Set("k", "v");

        server.Stop();
        var set = Timed(() => cache.Set("k", "w"));
        var get = Timed(() => cache.Get<string>("k"));
        var getAsync = await TimedAsync(async () => await cache.GetAsync<string>("k"));
        var existsAsync = await TimedAsync(async () => await cache.ExistsAsync("k"));
        TestContext.Out.WriteLine($"Server down: Set {set.Elapsed.TotalMilliseconds:F1} ms, Get {get.Elapsed.TotalMilliseconds:F1} ms, GetAsync {getAsync.Elapsed.TotalMilliseconds:F1} ms, ExistsAsync {existsAsync.Elapsed.TotalMilliseconds:F1} ms");

        Assert.Multiple(() =>
        {
            foreach (var (name, outcome) in new[] { ("Set", (set.Error, set.Elapsed)), ("Get", (get.Error, get.Elapsed)), ("GetAsync", (getAsync.Error, getAsync.Elapsed)), ("ExistsAsync", (existsAsync.Error, existsAsync.Elapsed)) })
            {
                Assert.That(outcome.Error, Is.InstanceOf<CacheBackendException>(), $"{name}: {outcome.Error}");
                Assert.That(outcome.Error?.InnerException, Is.InstanceOf<RedisException>(), $"{name} wraps the client's exception: {outcome.Error?.InnerException}");
                Assert.That(outcome.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2.5)), $"{name} failed after {outcome.Elapsed.TotalMilliseconds:F0} ms");
            }
        });
    }

    [Test]
    public async Task A_cache_created_while_the_server_is_down_fails_fast_on_its_first_command()
    {
        // The multiplexer of a cache is created by its first command. With the server down, that first command
        // waits for the connection at most ConnectWait (bounded by Timeout) and fails with CacheBackendException;
        // later commands fail at once. Four fresh configurations (two sync-first, two async-first) so that an
        // intermittent stall shows up.
        var server = Track(new RedisServer());
        server.Stop();
        var outcomes = new List<(string Name, Exception? Error, TimeSpan Elapsed)>();
        for (var i = 0; i < 4; i++)
        {
            var cache = Track(new RedisCache { ConnectionString = $"{server.ConnectionString},name=never-connected-{i}", Timeout = TimeSpan.FromSeconds(1) });
            if (i % 2 == 0)
            {
                var (_, error, elapsed) = Timed(() => cache.Get<string>("k"));
                outcomes.Add(($"Get on fresh cache {i}", error, elapsed));
            }
            else
            {
                var (_, error, elapsed) = await TimedAsync(async () => await cache.GetAsync<string>("k"));
                outcomes.Add(($"GetAsync on fresh cache {i}", error, elapsed));
            }

            var (_, again, againElapsed) = Timed(() => cache.Get<string>("k"));
            outcomes.Add(($"second Get on cache {i}", again, againElapsed));
        }

        var report = string.Join("; ", outcomes.Select(o => $"{o.Name}: {o.Elapsed.TotalMilliseconds:F0} ms, {o.Error?.GetType().Name}"));
        Assert.Multiple(() =>
        {
            foreach (var (name, error, elapsed) in outcomes)
            {
                Assert.That(error, Is.InstanceOf<CacheBackendException>(), $"{name}: {error?.GetType().Name}: {error?.Message} [{report}]");
                var bound = name.StartsWith("second", StringComparison.Ordinal) ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromMilliseconds(1500);
                Assert.That(elapsed, Is.LessThan(bound), $"{name} failed after {elapsed.TotalMilliseconds:F0} ms [{report}]");
            }
        });
    }

    [Test]
    public async Task The_same_cache_instance_works_again_after_the_server_restarts()
    {
        var server = Track(new RedisServer());
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString });
        cache.Set("k", "before");

        server.Stop();
        Assert.Catch<CacheBackendException>(() => cache.Get<string>("k"), "down");
        server.Start();

        var watch = Stopwatch.StartNew();
        Exception? last = null;
        var recovered = false;
        while (watch.Elapsed < TimeSpan.FromSeconds(8))
        {
            try
            {
                cache.Set("k", "after");
                recovered = true;
                break;
            }
            catch (CacheException ex)
            {
                last = ex;
                Thread.Sleep(50);
            }
            catch (TimeoutException ex)
            {
                last = ex;
            }
        }

        var took = watch.Elapsed;
        Assert.That(recovered, Is.True, $"not back after {took.TotalMilliseconds:F0} ms; last error: {last}");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(5)), $"recovery took {took.TotalMilliseconds:F0} ms");
            Assert.That(cache.Get<string>("k"), Is.EqualTo("after"), $"recovered after {took.TotalMilliseconds:F0} ms");
            Assert.That(await cache.GetAsync<string>("k"), Is.EqualTo("after"));
        });
        TestContext.Out.WriteLine($"Recovery after restart took {took.TotalMilliseconds:F0} ms");
    }

    // ---- a full server ------------------------------------------------------------------------------------------

    [Test]
    public async Task A_full_server_makes_Set_throw_CacheBackendException_about_memory_and_leaves_the_key()
    {
        // Redis 7.0 uses about 940 kB right after start, so with 1mb even the first write is refused; 2mb leaves
        // room for the key whose value must survive a refused write.
        var server = Track(new RedisServer("--maxmemory", "2mb", "--maxmemory-policy", "noeviction"));
        var probe = Track(Probe(server));
        var cache = Track(new RedisCache { ConnectionString = server.ConnectionString, Namespace = "oom" });
        cache.Set("victim", "old");
        var fills = (IFencedFillCache)cache;
        var tickets = await fills.OpenFillsAsync(["filled", "filled too"]);

        var filler = new string('x', 10_000);
        CacheBackendException? refused = null;
        var written = 0;
        while (written < 2_000)
        {
            try
            {
                cache.Set($"fill{written}", filler);
                written++;
            }
            catch (CacheBackendException ex)
            {
                refused = ex;
                break;
            }
        }

        Assert.That(refused, Is.Not.Null, $"the server took {written} values of 10 kB without refusing one");
        var refusedKey = $"fill{written}";

        // Freed client buffers can bring the server back just under its limit; pin it over the limit so that the
        // next writes are refused for sure.
        probe.GetDatabase().Execute("CONFIG", "SET", "maxmemory", "1mb");
        var set = Timed(() => cache.Set("victim", "new"));
        var setAsync = await TimedAsync(async () => await cache.SetAsync("victim", "newer"));
        var multiSet = Timed(() => cache.MultiSet([KeyValuePair.Create("victim", "multi"), KeyValuePair.Create("fresh", "multi")]));
        // With a TTL the batch is a transaction, which the server aborts as a whole: the cause must still be named.
        var multiSetTtl = Timed(() => cache.MultiSet([KeyValuePair.Create("victim", "multi"), KeyValuePair.Create("fresh", "multi")], TimeSpan.FromMinutes(1)));
        var multiSetTtlAsync = await TimedAsync(async () => await cache.MultiSetAsync([KeyValuePair.Create("victim", "multi"), KeyValuePair.Create("fresh", "multi")], TimeSpan.FromMinutes(1)));
        // A batch of fenced fills (a [MultiCached] method's store) sends one command per slot and sums the replies.
        var fillManyAsync = await TimedAsync(async () => await fills.TryFillManyAsync(tickets.Select(ticket => KeyValuePair.Create(ticket, "filled")), TimeSpan.FromMinutes(1)));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Message, Does.Contain("memory").IgnoreCase, $"after {written} values of 10 kB");
            Assert.That(refused.InnerException, Is.InstanceOf<RedisServerException>());
            Assert.That(cache.Exists(refusedKey), Is.False, "the refused write stored nothing");
            Assert.That(set.Error, Is.InstanceOf<CacheBackendException>(), $"Set: {set.Error}");
            Assert.That(set.Error?.Message, Does.Contain("memory").IgnoreCase);
            Assert.That(setAsync.Error, Is.InstanceOf<CacheBackendException>(), $"SetAsync: {setAsync.Error}");
            Assert.That(multiSet.Error, Is.InstanceOf<CacheBackendException>(), $"MultiSet: {multiSet.Error}");
            Assert.That(multiSetTtl.Error, Is.InstanceOf<CacheBackendException>().With.Message.Contains("memory").IgnoreCase, $"MultiSet with a TTL: {multiSetTtl.Error}");
            Assert.That(multiSetTtlAsync.Error, Is.InstanceOf<CacheBackendException>().With.Message.Contains("memory").IgnoreCase, $"MultiSetAsync with a TTL: {multiSetTtlAsync.Error}");
            Assert.That(fillManyAsync.Error, Is.InstanceOf<CacheBackendException>().With.Message.Contains("memory").IgnoreCase, $"TryFillManyAsync: {fillManyAsync.Error}");
            Assert.That(cache.Exists("filled"), Is.False);
            Assert.That(cache.Get<string>("victim"), Is.EqualTo("old"), "refused writes leave the key as it was");
            Assert.That(cache.Exists("fresh"), Is.False);
            Assert.That(cache.Delete("fill0"), Is.EqualTo(1), "reads and deletes still work on a full server");
        });
    }

    // ---- authentication ---------------------------------------------------------------------------------------

    /// <summary>
    /// A server that requires a password. RedisServer's readiness check sends an unauthenticated PING, which a
    /// server started with <c>--requirepass</c> answers with NOAUTH, so the password is set once it runs.
    /// </summary>
    private RedisServer PasswordServer()
    {
        var server = Track(new RedisServer());
        using var probe = Probe(server);
        probe.GetDatabase().Execute("CONFIG", "SET", "requirepass", "secret");
        return server;
    }

    [Test]
    public void A_server_with_a_password_works_with_Password_and_fails_without()
    {
        var server = PasswordServer();
        var good = Track(new RedisCache { Endpoint = "127.0.0.1", Port = server.Port, Password = "secret", Timeout = TimeSpan.FromSeconds(1) });
        var bad = Track(new RedisCache { Endpoint = "127.0.0.1", Port = server.Port, Timeout = TimeSpan.FromSeconds(1) });
        var wrong = Track(new RedisCache { Endpoint = "127.0.0.1", Port = server.Port, Password = "wrong", Timeout = TimeSpan.FromSeconds(1) });

        good.Set("k", "v");
        var noPassword = Timed(() => bad.Get<string>("k"));
        var wrongPassword = Timed(() => wrong.Get<string>("k"));

        Assert.Multiple(() =>
        {
            Assert.That(good.Get<string>("k"), Is.EqualTo("v"));
            Assert.That(noPassword.Error, Is.InstanceOf<CacheBackendException>(), $"no password: {noPassword.Error}");
            Assert.That(noPassword.Error?.InnerException, Is.InstanceOf<RedisException>());
            Assert.That(noPassword.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), $"no password failed after {noPassword.Elapsed.TotalMilliseconds:F0} ms");
            Assert.That(wrongPassword.Error, Is.InstanceOf<CacheBackendException>(), $"wrong password: {wrongPassword.Error}");
        });
    }

    [Test]
    public void A_server_with_a_password_works_with_the_password_in_the_URL()
    {
        var server = PasswordServer();
        var cache = Track(Cache.FromUrl($"redis://:secret@127.0.0.1:{server.Port}/0?namespace=url"));

        cache.Set("k", 7);

        Assert.That(cache.Get<int>("k"), Is.EqualTo(7));
    }

    [Test]
    public void An_ACL_user_works_through_the_connection_string()
    {
        var server = PasswordServer();
        var admin = Track(new RedisCache { Endpoint = "127.0.0.1", Port = server.Port, Password = "secret", Timeout = TimeSpan.FromSeconds(2) });
        Assert.That(admin.Raw("ACL", "SETUSER", "app", "on", ">apppass", "~*", "+@all"), Is.EqualTo("OK"));

        var app = Track(new RedisCache
        {
            ConnectionString = $"127.0.0.1:{server.Port},user=app,password=apppass",
            Namespace = "app",
            Timeout = TimeSpan.FromSeconds(2),
        });
        var wrong = Track(new RedisCache
        {
            ConnectionString = $"127.0.0.1:{server.Port},user=app,password=nope",
            Timeout = TimeSpan.FromSeconds(1),
        });

        var set = Timed(() => app.Set("k", "v"));
        var whoami = Timed(() => app.Raw("ACL", "WHOAMI"));

        Assert.Multiple(() =>
        {
            Assert.That(set.Error, Is.Null, $"Set as user app: {set.Error}");
            Assert.That(set.Error is null ? app.Get<string>("k") : null, Is.EqualTo("v"));
            Assert.That(whoami.Result, Is.EqualTo("app"), $"ACL WHOAMI: {whoami.Error}");
            Assert.That(admin.Get<string>("k", @namespace: "app"), Is.EqualTo("v"));
            Assert.Catch<CacheBackendException>(() => wrong.Get<string>("k"));
        });
    }

    [Test]
    public void An_ACL_user_works_through_User_and_Password()
    {
        var server = PasswordServer();
        var admin = Track(new RedisCache { Endpoint = "127.0.0.1", Port = server.Port, Password = "secret", Timeout = TimeSpan.FromSeconds(2) });
        admin.Raw("ACL", "SETUSER", "app", "on", ">apppass", "~app:*", "+@all");
        var app = Track(new RedisCache { Endpoint = "127.0.0.1", Port = server.Port, User = "app", Password = "apppass", Namespace = "app", Timeout = TimeSpan.FromSeconds(2) });

        app.Set("k", 1);

        Assert.Multiple(() =>
        {
            Assert.That(app.Increment("k"), Is.EqualTo(2));
            Assert.That(app.Raw("ACL", "WHOAMI"), Is.EqualTo("app"));
            Assert.Catch<CacheBackendException>(() => app.Set("k", 1, @namespace: "other"), "the user's key pattern is app:*");
        });
    }

    [TestCase("ERR This instance has Lua scripting support disabled", true)]
    [TestCase("ERR unknown command 'EVAL', with args beginning with: ", true)]
    [TestCase("NOPERM User app has no permissions to run the 'eval' command", true)]
    [TestCase("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", false)]
    [TestCase("LOADING Redis is loading the dataset in memory", false)]
    [TestCase("TRYAGAIN Multiple keys request during rehashing of slot", false)]
    public void Only_a_server_that_runs_no_scripts_is_told_to_enable_them(string answer, bool refuses)
    {
        // A passing error of the first write's probe goes through the pipeline's translation like any other.
        Assert.That(RedisCache.RefusesScripts(new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, answer)), Is.EqualTo(refuses));
    }
}
