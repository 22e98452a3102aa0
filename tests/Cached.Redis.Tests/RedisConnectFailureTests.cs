using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// A cache whose connection cannot be made says why, while the client still connects in the background: a refused
/// login (a wrong password, a wrong ACL user's password) ends the first command's wait for the connection at once and
/// is named by it and by every command after it; a server that is not there is waited for (it may be starting) and
/// the refusal met meanwhile is named. A real redis-server per test; the waits are long, so that a slow machine cannot
/// make a command that waited the whole of it look like one that did not.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisConnectFailureTests
{
    // Long enough that "did not wait for it" cannot be a slow machine's accident; the timeout longer still, so that the
    // connect wait is not cut to 80% of it.
    private static readonly TimeSpan s_connectWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_wellWithinTheWait = TimeSpan.FromSeconds(5);
    private readonly List<IDisposable> _disposables = [];

    [TearDown]
    public void DisposeAll() => _disposables.DisposeAll();

    private T Track<T>(T disposable)
        where T : IDisposable
        => _disposables.Track(disposable);

    /// <summary>A server that requires <c>secret</c>, with an ACL user <c>app</c> whose password is <c>app-secret</c>.</summary>
    private RedisServer PasswordServer()
    {
        var server = Track(new RedisServer());
        using var admin = ConnectionMultiplexer.Connect($"{server.ConnectionString},allowAdmin=true,abortConnect=false,connectTimeout=2000");
        admin.GetDatabase().Execute("ACL", "SETUSER", "app", "on", ">app-secret", "~*", "+@all");
        admin.GetDatabase().Execute("CONFIG", "SET", "requirepass", "secret");
        return server;
    }

    /// <summary>
    /// A cache whose client's connect is certain to outlast the cache's connect wait: its first attempt reaches the
    /// server through a proxy, which then holds the client's next attempts (the client retries a refused login at
    /// once, within its connect), so only the cache can say what that first attempt met. Without the proxy the client
    /// ends its connect quickly on some tries and only after its connect timeout on others (about one in three here).
    /// </summary>
    private RedisCache ThroughHeldRetries(RedisServer server, string credentials)
    {
        var proxy = Track(new LoopbackProxy(server.Port));
        // The first attempt's two connections (commands and subscriptions) go through.
        proxy.HoldConnectionsAfter(2);
        return Track(new RedisCache
        {
            ConnectionString = $"{proxy.ConnectionString},{credentials},connectTimeout=20000",
            ConnectWait = s_connectWait,
            Timeout = s_timeout,
        });
    }

    [Test]
    public async Task A_wrong_password_fails_the_first_command_at_once_and_every_one_after_it_naming_the_refused_login()
    {
        var server = PasswordServer();
        var cache = ThroughHeldRetries(server, "password=wrong");

        var first = Timed.Call(() => cache.Get<string>("k"));
        var second = await Timed.CallAsync(() => cache.GetAsync<string>("k").AsTask());
        var write = Timed.Call(() => cache.Set("k", "v"));

        Assert.Multiple(() =>
        {
            foreach (var (error, elapsed, what) in new[] { (first.Error, first.Elapsed, "the first command"), (second.Error, second.Elapsed, "the next one, async"), (write.Error, write.Elapsed, "a write") })
            {
                Assert.That(error, Is.InstanceOf<CacheBackendException>(), what);
                Assert.That(error?.Message, Does.Contain("NOAUTH").And.Contain("password"), $"{what}: {error}");
                Assert.That(((CacheBackendException?)error)?.Unreachable, Is.True, $"{what}: commands fail fast and a two-level cache keeps its writes, as in an outage");
                Assert.That(elapsed, Is.LessThan(s_wellWithinTheWait), $"{what}: a refused login is not waited out, as waiting will not change it");
            }
        });
    }

    [Test]
    public void A_wrong_password_of_an_ACL_user_fails_at_once_naming_the_refused_login()
    {
        var server = PasswordServer();
        var right = Track(new RedisCache { ConnectionString = $"{server.ConnectionString},user=app,password=app-secret", Timeout = s_timeout });
        var wrong = ThroughHeldRetries(server, "user=app,password=nope");

        right.Set("k", "v");
        var refused = Timed.Call(() => wrong.Get<string>("k"));

        Assert.Multiple(() =>
        {
            Assert.That(right.Get<string>("k"), Is.EqualTo("v"), "the right password connects through the same code");
            Assert.That(refused.Error, Is.InstanceOf<CacheBackendException>());
            // The server answers the login WRONGPASS and the client's next handshake command NOAUTH: either names it.
            Assert.That(refused.Error?.Message, Does.Contain("WRONGPASS").Or.Contain("NOAUTH"), $"{refused.Error}");
            Assert.That(refused.Elapsed, Is.LessThan(s_wellWithinTheWait));
        });
    }

    [Test]
    public async Task A_password_fixed_on_the_servers_side_is_picked_up_by_the_same_cache()
    {
        var server = PasswordServer();
        var cache = Track(new RedisCache { ConnectionString = $"{server.ConnectionString},password=rotated", ConnectWait = s_connectWait, Timeout = s_timeout });
        var refused = Timed.Call(() => cache.Get<string>("k"));

        // The server's password is rotated to the one the cache was given: the client's retries in the background log in.
        using (var admin = ConnectionMultiplexer.Connect($"{server.ConnectionString},password=secret,allowAdmin=true,abortConnect=false,connectTimeout=2000"))
        {
            admin.GetDatabase().Execute("CONFIG", "SET", "requirepass", "rotated");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Exception? last = null;
        var stored = false;
        while (!stored && DateTime.UtcNow < deadline)
        {
            try
            {
                stored = await cache.SetAsync("k", "v");
            }
            catch (CacheBackendException ex)
            {
                last = ex;
                await Task.Delay(100);
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(refused.Error?.Message, Does.Contain("NOAUTH"), $"{refused.Error}");
            Assert.That(stored, Is.True, $"still refused after 30 s: {last}");
            Assert.That(stored ? cache.Get<string>("k") : null, Is.EqualTo("v"));
        });
    }

    [Test]
    public async Task A_server_that_is_not_there_fails_the_first_command_naming_the_refused_connection()
    {
        int port;
        using (var reserved = new RedisServer())
        {
            port = reserved.Port;
        }

        // The client retries a refused connection within its connect timeout, so the cache's wait of a second ends first:
        // a server that may be starting is waited for, and what the client met meanwhile is named.
        var cache = Track(new RedisCache { ConnectionString = $"127.0.0.1:{port},connectTimeout=20000", ConnectWait = TimeSpan.FromSeconds(1), Timeout = s_timeout });

        var first = await Timed.CallAsync(() => cache.GetAsync<string>("k").AsTask());

        Assert.Multiple(() =>
        {
            Assert.That(first.Error, Is.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.Unreachable)).True);
            Assert.That(first.Error?.Message, Does.Contain("Connection refused"), $"{first.Error}");
        });
    }
}
