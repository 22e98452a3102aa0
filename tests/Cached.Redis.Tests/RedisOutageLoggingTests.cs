using Cached.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Redis.Tests;

/// <summary>
/// Redis going down under generated methods, as a newcomer meets it (issue 20): one warning when the outage starts,
/// none per call meanwhile (22 calls used to log 44 warnings with stack traces), no write attempted after a read that
/// found the server gone, and one line when it answers again, with the count of calls that ran uncached.
/// </summary>
[NonParallelizable]
public sealed class RedisOutageLoggingTests
{
    private readonly RecordingLogs _logs = new();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        CachedLogging.LoggerFactory = _logs;
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }

    [Test]
    public async Task An_outage_is_one_warning_and_one_line_when_it_ends()
    {
        using var server = new RedisServer();
        using var cache = new RedisCache { ConnectionString = server.ConnectionString, Namespace = "outage" };
        Caches.AddInstance(InventoryService.Alias, cache);
        var service = new InventoryService();
        Assert.That(service.Get(0), Is.EqualTo(InventoryService.Expected(0)));
        Assert.That(await service.GetAsync(0), Is.EqualTo(InventoryService.Expected(0)));
        var before = service.BodyCalls;

        server.Stop();
        for (var i = 1; i <= 11; i++)
        {
            Assert.That(service.Get(i), Is.EqualTo(InventoryService.Expected(i)));
            Assert.That(await service.GetAsync(i), Is.EqualTo(InventoryService.Expected(i)));
        }

        Assert.That(service.BodyCalls - before, Is.EqualTo(22), "every call ran its body");
        Assert.That(_logs.Ids, Is.EqualTo(new[] { 10 }), string.Join("\n", _logs.Messages));
        Assert.That(_logs.Messages.Single(), Does.Contain($"Cache '{InventoryService.Alias}' cannot be reached"));

        server.Start();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!_logs.Ids.Contains(11))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the end of the outage was never logged: " + string.Join("\n", _logs.Messages));
            await service.GetAsync(100);
            await Task.Delay(50);
        }

        Assert.That(_logs.Ids.Count(static id => id == 10), Is.EqualTo(1));
        Assert.That(_logs.Messages.Last(), Does.Contain("answers again after").And.Contain("cache reads failed"));
        var calls = service.BodyCalls;
        Assert.That(await service.GetAsync(101), Is.EqualTo(InventoryService.Expected(101)));
        Assert.That(await service.GetAsync(101), Is.EqualTo(InventoryService.Expected(101)));
        Assert.That(service.BodyCalls - calls, Is.EqualTo(1), "cached again");
    }
}
