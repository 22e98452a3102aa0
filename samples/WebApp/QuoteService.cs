using Cached;

namespace WebApp;

/// <summary>
/// Quotes from a source that fails: fresh for 2 seconds, and past that the last quote answers for up to 10 minutes
/// whenever the source fails or is slow (FailSafe, SoftTimeout), trying the source again at most every 5 seconds
/// (FailSafeThrottle). Nobody waits more than 2 seconds for it (HardTimeout).
/// </summary>
public sealed partial class QuoteService(QuoteSource source)
{
    [Cached(Ttl = 2, Key = "quote:{symbol}", FailSafe = 600, FailSafeThrottle = 5, SoftTimeout = 0.2, HardTimeout = 2)]
    public partial Task<Quote> GetQuoteAsync(string symbol, CancellationToken cancellationToken = default);

    private Task<Quote> GetQuoteAsyncCore(string symbol, CancellationToken cancellationToken) => source.FetchAsync(symbol, cancellationToken);
}
