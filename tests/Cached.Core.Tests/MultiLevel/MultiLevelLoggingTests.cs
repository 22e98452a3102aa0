using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging;

namespace Cached.Tests.MultiLevel;

/// <summary>What a two-level cache logs when L2 or the backplane fails: each fault once, with its own event id.</summary>
[NonParallelizable]
public sealed class MultiLevelLoggingTests : RecordedLogsFixture
{
    [Test]
    public void A_write_kept_for_an_unreachable_L2_is_logged_and_so_is_its_loss_at_dispose()
    {
        var outage = new Outage { Down = true };
        var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });
        cache.WaitingWrites.FirstRetryDelay = TimeSpan.FromMinutes(1);
        cache.Set("a", 1);
        cache.Set("b", 2);

        cache.Dispose();

        var deferred = Logs.Entries.Where(static e => e.EventId == 25).ToList();
        var abandoned = Logs.Entries.Single(static e => e.EventId == 29);
        Assert.That(deferred, Has.Count.EqualTo(2).And.All.Matches<LogEntry>(static e => e.Level == LogLevel.Warning && e.Exception is CacheBackendException));
        Assert.That(abandoned.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(abandoned.Message, Does.Contain("2 write(s) still waiting"));
    }

    [Test]
    public void A_failed_send_is_logged_as_a_warning()
    {
        var backplane = new FlakyBackplane { FailPublish = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);

        cache.Set("k", "v");

        Assert.That(Logs.Entries.Single(static e => e.EventId == 21).Level, Is.EqualTo(LogLevel.Warning));
    }
}
