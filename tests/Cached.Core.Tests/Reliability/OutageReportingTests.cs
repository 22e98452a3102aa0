using Cached.Distributed;
using Cached.Tests.Ecosystem;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests.Reliability;

/// <summary>
/// Fail-open without flooding the log (issue 20): a cache that cannot be reached is one outage, logged when it starts
/// and when it ends with the count of calls that ran uncached; no write is attempted meanwhile; and with no logger
/// configured, the first fault of a cache still reaches standard error, once.
/// </summary>
public sealed class OutageReportingTests
{
    private SwitchableStore _store = null!;
    private DistributedCacheBackend _cache = null!;
    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void Create()
    {
        _store = new SwitchableStore();
        _cache = new DistributedCacheBackend(_store);
        ((Cached.Capabilities.IAliasedCache)_cache).AssignAlias("redis");
        _logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = _logs;
    }

    [TearDown]
    public void Dispose()
    {
        _store.Down = false;
        _cache.Get<int>("end any outage");
        _cache.GetOrSet("end any outage", _ => 0);
        _cache.Dispose();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        CachedLogging.FirstFaultToStandardError = true;
    }

    [Test]
    public async Task An_outage_is_logged_once_when_it_starts_and_once_when_it_ends([Values] bool async)
    {
        _store.Down = true;
        for (var i = 0; i < 22; i++)
        {
            var value = async ? await _cache.GetOrSetAsync("user:" + i, _ => ValueTask.FromResult(i)) : _cache.GetOrSet("user:" + i, _ => i);
            Assert.That(value, Is.EqualTo(i), "every call is served by its body");
        }

        Assert.That(_logs.Entries.Select(static e => (e.EventId, e.Level)), Is.EqualTo(new[] { (10, LogLevel.Warning) }), "one warning for the whole outage");
        Assert.That(_logs.Entries[0].Message, Does.Contain("Cache 'redis' cannot be reached"));
        Assert.That(_logs.Entries[0].Exception, Is.InstanceOf<CacheBackendException>());
        Assert.That(_store.Writes, Is.Zero, "a call whose read met the outage does not try to write");

        _store.Down = false;
        var back = async ? await _cache.GetOrSetAsync("user:back", _ => ValueTask.FromResult(99)) : _cache.GetOrSet("user:back", _ => 99);

        Assert.That(back, Is.EqualTo(99));
        Assert.That(_logs.Entries, Has.Count.EqualTo(2));
        Assert.That(_logs.Entries[1].EventId, Is.EqualTo(11));
        Assert.That(_logs.Entries[1].Message, Does.Contain("Cache 'redis' answers again after").And.Contain("22 cache reads failed"));
        Assert.That(_cache.Get<int>("user:back"), Is.EqualTo(99), "stored again once the cache answers");
    }

    [Test]
    public async Task A_second_outage_is_logged_as_a_new_one()
    {
        _store.Down = true;
        await _cache.GetOrSetAsync("a", _ => ValueTask.FromResult(1));
        _store.Down = false;
        await _cache.GetOrSetAsync("a", _ => ValueTask.FromResult(1));
        _store.Down = true;
        await _cache.GetOrSetAsync("a", _ => ValueTask.FromResult(1));

        Assert.That(_logs.Entries.Select(static e => e.EventId), Is.EqualTo(new[] { 10, 11, 10 }), string.Join("\n", _logs.Entries.Select(static e => e.Message)));
    }

    [Test]
    public async Task Concurrent_callers_meeting_one_outage_log_it_once()
    {
        _store.Down = true;
        var callers = Enumerable.Range(0, 16).Select(i => Task.Run(async () => await _cache.GetOrSetAsync("k" + i, _ => ValueTask.FromResult(i)))).ToArray();

        Assert.That(await Task.WhenAll(callers), Is.EqualTo(Enumerable.Range(0, 16).ToArray()));
        Assert.That(_logs.Entries.Count(static e => e.EventId == 10), Is.EqualTo(1));
        Assert.That(_logs.Entries.Count(static e => e.EventId is 1 or 2), Is.Zero);
    }

    [Test]
    public async Task Without_a_logger_the_first_fault_of_a_cache_reaches_standard_error_once()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            _store.Down = true;
            await _cache.GetOrSetAsync("a", _ => ValueTask.FromResult(1));
            await _cache.GetOrSetAsync("b", _ => ValueTask.FromResult(2));
        }
        finally
        {
            Console.SetError(original);
        }

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("Cached: cache 'redis' failed, and each cached call it fails runs uncached: CacheBackendException").And.Contain("CachedLogging.LoggerFactory"));
    }

    [Test]
    public void Without_a_logger_a_result_type_the_serializer_refuses_reaches_standard_error_once_per_method()
    {
        // A record on StringSerializer: the method never caches, which must not look like a cache that works.
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        using var cache = new SimpleMemoryCache { Serializer = new Cached.Serializers.StringSerializer() };
        var method = new Cached.Runtime.CachedMethod<Spot>(new Cached.Runtime.CachedMethodOptions { Method = "Shop.Maps.Spot", CacheFactory = () => cache });
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.That(method.Invoke("k", i, static i => new Spot(i)), Is.EqualTo(new Spot(i)));
            }
        }
        finally
        {
            Console.SetError(original);
        }

        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("Cached: Shop.Maps.Spot runs uncached:").And.Contain(typeof(Spot).FullName).And.Contain("CachedLogging.LoggerFactory"));
    }

    private sealed record Spot(int X);

    [Test]
    public async Task A_method_s_own_cache_is_named_by_its_type_and_method_on_standard_error()
    {
        // [Cached(Cache = typeof(RedisCache))] against a server that is not there, before any logging is set up.
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        var store = new SwitchableStore { Down = true };
        var method = new Cached.Runtime.CachedMethod<int>(new Cached.Runtime.CachedMethodOptions
        {
            Method = "Shop.Reports.Daily",
            CacheFactory = () => new DistributedCacheBackend(store),
        });
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.That(await method.InvokeAsync("k", 0, static (_, _) => ValueTask.FromResult(7), null, CancellationToken.None), Is.EqualTo(7));
        }
        finally
        {
            Console.SetError(original);
            store.Down = false;
            method.Invoke("k", 0, static _ => 7);
        }

        Assert.That(error.ToString(), Does.StartWith("Cached: cache 'DistributedCacheBackend of Shop.Reports.Daily' failed, and each cached call it fails runs uncached"));
    }

    [Test]
    public void A_fail_safe_batch_method_ends_the_outage_it_met_once_the_cache_answers()
    {
        // Regression: the stamped batch read never reported an answer, so its outage, and its skipped writes, never ended.
        var method = new Cached.Runtime.MultiCachedMethod<int, string>(new Cached.Runtime.CachedMethodOptions
        {
            Method = "Shop.Users.GetMany",
            FailSafe = 60,
            CacheFactory = () => _cache,
        });
        var calls = 0;
        Dictionary<int, string> Load(IEnumerable<int> ids) => method.Invoke(ids, 0, static (_, id) => "user:" + id, (_, missing) =>
        {
            calls++;
            return missing.ToDictionary(static id => id, static id => "name" + id);
        });

        _store.Down = true;
        Load([1, 2]);
        _store.Down = false;
        Load([1, 2]);
        Load([1, 2]);

        Assert.That(_logs.Entries.Select(static e => e.EventId), Is.EqualTo(new[] { 10, 11 }));
        Assert.That(calls, Is.EqualTo(2), "stored again after the outage, then a hit");
    }

    [Test]
    public async Task During_an_outage_no_lease_and_no_write_is_attempted_only_the_read([Values] bool async)
    {
        var seen = new Commands();
        var outage = new Cached.Tests.MultiLevel.Outage();
        using var cache = new SimpleMemoryCache { Plugins = [seen, outage] };
        var leased = new CacheEntryOptions { Lease = TimeSpan.FromSeconds(1) };
        outage.Down = true;

        for (var i = 0; i < 3; i++)
        {
            var value = async ? await cache.GetOrSetAsync("k", _ => ValueTask.FromResult(i), leased) : cache.GetOrSet("k", _ => i, leased);
            Assert.That(value, Is.EqualTo(i));
        }

        Assert.That(seen.All, Is.EqualTo(Enumerable.Repeat(Cached.Plugins.CacheCommand.Get, 3)), "a read per call, nothing else");
        outage.Down = false;
        cache.GetOrSet("k", _ => 9, leased);
        Assert.That(cache.Get<int>("k"), Is.EqualTo(9), "leased and stored again once it answers");
    }

    private sealed class Commands : Cached.Plugins.CachePlugin
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<Cached.Plugins.CacheCommand> _all = new();

        public Cached.Plugins.CacheCommand[] All => [.. _all];

        public override void Pre(Cached.Plugins.CacheCommandContext context) => _all.Enqueue(context.Command);
    }

    [Test]
    public async Task Standard_error_stays_silent_when_asked_or_when_a_logger_is_configured()
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            _store.Down = true;
            await _cache.GetOrSetAsync("a", _ => ValueTask.FromResult(1));   // a logger is configured
            using var other = new DistributedCacheBackend(new SwitchableStore { Down = true });
            CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
            CachedLogging.FirstFaultToStandardError = false;
            await other.GetOrSetAsync("a", _ => ValueTask.FromResult(1));
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.That(error.ToString(), Is.Empty);
    }
}
