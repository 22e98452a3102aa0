namespace Cached.Generators.Tests.Scenarios;

/// <summary>[Cached] methods with the resilience options, on the alias "scenario"; the source is swapped per test.</summary>
public partial class PriceService(CallCounter calls)
{
    /// <summary>What the bodies return, or throw; replaced by tests.</summary>
    public Func<string, CancellationToken, Task<decimal>> Source { get; set; } = static (_, _) => Task.FromResult(1m);

    [Cached(Alias = UserService.Alias, Ttl = 10, Key = "price:{sku}", FailSafe = 60, FailSafeThrottle = 5)]
    public partial decimal GetPrice(string sku);

    private decimal GetPriceCore(string sku)
    {
        calls.Hit(nameof(GetPrice));
        return Source(sku, CancellationToken.None).GetAwaiter().GetResult();
    }

    [Cached(Alias = UserService.Alias, Ttl = 10, Key = "price-async:{sku}", FailSafe = 60, SoftTimeout = 0.5, HardTimeout = 2)]
    public partial Task<decimal> GetPriceAsync(string sku, CancellationToken cancellationToken = default);

    private async Task<decimal> GetPriceAsyncCore(string sku, CancellationToken cancellationToken)
    {
        calls.Hit(nameof(GetPriceAsync));
        return await Source(sku, cancellationToken).ConfigureAwait(false);
    }

    [Cached(Alias = UserService.Alias, Ttl = 10, Key = "price-eager:{sku}", EagerRefresh = 0.8)]
    public partial ValueTask<decimal> GetPriceEagerlyAsync(string sku);

    private async ValueTask<decimal> GetPriceEagerlyAsyncCore(string sku)
    {
        calls.Hit(nameof(GetPriceEagerlyAsync));
        return await Source(sku, CancellationToken.None).ConfigureAwait(false);
    }

    [Cached(Alias = UserService.Alias, Ttl = 10, Key = "price-hard:{sku}", HardTimeout = 1)]
    public partial Task<decimal> GetPriceOrTimeOutAsync(string sku);

    private async Task<decimal> GetPriceOrTimeOutAsyncCore(string sku)
    {
        calls.Hit(nameof(GetPriceOrTimeOutAsync));
        return await Source(sku, CancellationToken.None).ConfigureAwait(false);
    }
}
