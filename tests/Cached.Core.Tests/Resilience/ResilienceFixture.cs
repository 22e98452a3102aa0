using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>A fresh memory cache on a fake clock per test, its logs recorded, and a wait for what background work does.</summary>
public abstract class ResilienceFixture
{
    protected static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    protected FakeTimeProvider Time { get; private set; } = null!;

    protected SimpleMemoryCache Cache { get; private set; } = null!;

    internal RecordingLoggerFactory Logs { get; private set; } = null!;

    [SetUp]
    public void CreateCache()
    {
        Time = new FakeTimeProvider();
        Cache = new SimpleMemoryCache { TimeProvider = Time };
        Logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = Logs;
    }

    [TearDown]
    public void DisposeCache()
    {
        Cache.Dispose();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }

    protected static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting");
            await Task.Delay(10);
        }
    }
}
