using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>A fresh memory cache on a fake clock per test, and a wait for what background work does.</summary>
public abstract class ResilienceFixture
{
    protected static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    protected FakeTimeProvider Time { get; private set; } = null!;

    protected SimpleMemoryCache Cache { get; private set; } = null!;

    [SetUp]
    public void CreateCache()
    {
        Time = new FakeTimeProvider();
        Cache = new SimpleMemoryCache { TimeProvider = Time };
    }

    [TearDown]
    public void DisposeCache() => Cache.Dispose();

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
