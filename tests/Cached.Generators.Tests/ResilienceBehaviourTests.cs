using Cached.Generators.Tests.Scenarios;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Generators.Tests;

/// <summary>Generated [Cached] methods with FailSafe, timeouts and EagerRefresh: the options of the attribute at work.</summary>
public sealed class ResilienceBehaviourTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;
    private CallCounter _calls = null!;
    private PriceService _prices = null!;

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time };
        Caches.AddInstance(UserService.Alias, _cache);
        _calls = new CallCounter();
        _prices = new PriceService(_calls);
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    private static Task<decimal> Fails(string sku, CancellationToken _) => Task.FromException<decimal>(new InvalidOperationException("pricing down"));

    [Test]
    public void A_sync_method_with_FailSafe_returns_the_last_value_when_its_body_fails_and_throttles_the_retries()
    {
        _prices.Source = static (_, _) => Task.FromResult(10m);
        Assert.That(_prices.GetPrice("a"), Is.EqualTo(10m));
        _time.Advance(TimeSpan.FromSeconds(11));
        _prices.Source = Fails;

        Assert.That(_prices.GetPrice("a"), Is.EqualTo(10m));
        Assert.That(_prices.GetPrice("a"), Is.EqualTo(10m));
        Assert.That(_calls[nameof(PriceService.GetPrice)], Is.EqualTo(2), "the second call fell in the 5 s throttle");

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.That(() => _prices.GetPrice("a"), Throws.InvalidOperationException, "past FailSafe");
    }

    [Test]
    public async Task An_async_method_with_SoftTimeout_answers_with_the_last_value_and_stores_the_late_result()
    {
        _prices.Source = static (_, _) => Task.FromResult(10m);
        await _prices.GetPriceAsync("a");
        _time.Advance(TimeSpan.FromSeconds(11));
        var release = new TaskCompletionSource<decimal>(TaskCreationOptions.RunContinuationsAsynchronously);
        _prices.Source = (_, _) => release.Task;

        var call = _prices.GetPriceAsync("a");
        _time.Advance(TimeSpan.FromSeconds(0.5));

        Assert.That(await call.WaitAsync(s_limit), Is.EqualTo(10m));
        release.SetResult(12m);
        await WaitUntil(() => _cache.Get<decimal>("price-async:a") == 12m);
        Assert.That(await _prices.GetPriceAsync("a"), Is.EqualTo(12m));
    }

    [Test]
    public async Task A_method_with_HardTimeout_and_no_last_value_throws_TimeoutException()
    {
        var release = new TaskCompletionSource<decimal>(TaskCreationOptions.RunContinuationsAsynchronously);
        _prices.Source = (_, _) => release.Task;

        var call = _prices.GetPriceOrTimeOutAsync("a");
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(async () => await call.WaitAsync(s_limit), Throws.InstanceOf<TimeoutException>());
        release.SetResult(3m);
        await WaitUntil(() => _cache.Get<decimal>("price-hard:a") == 3m);
    }

    [Test]
    public async Task A_ValueTask_method_with_EagerRefresh_refreshes_in_the_background()
    {
        _prices.Source = static (_, _) => Task.FromResult(10m);
        await _prices.GetPriceEagerlyAsync("a");
        _time.Advance(TimeSpan.FromSeconds(8.5));
        _prices.Source = static (_, _) => Task.FromResult(11m);

        Assert.That(await _prices.GetPriceEagerlyAsync("a"), Is.EqualTo(10m), "answered at once");

        await WaitUntil(() => _cache.Get<decimal>("price-eager:a") == 11m);
        Assert.That(_calls[nameof(PriceService.GetPriceEagerlyAsync)], Is.EqualTo(2));
    }

    [Test]
    public void The_stored_entry_is_read_by_GetOrSet_with_the_same_options()
    {
        _prices.Source = static (_, _) => Task.FromResult(10m);
        _prices.GetPrice("a");
        _time.Advance(TimeSpan.FromSeconds(11));
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60) };

        Assert.That(_cache.GetOrSet<decimal>("price:a", _ => throw new InvalidOperationException(), options), Is.EqualTo(10m), "one format, whichever side wrote it");
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + s_limit;
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting");
            await Task.Delay(10);
        }
    }
}
