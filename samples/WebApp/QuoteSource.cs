namespace WebApp;

/// <summary>A quote as the API returns it: the price and when the source computed it.</summary>
public sealed record Quote(string Symbol, decimal Price, DateTimeOffset At);

/// <summary>
/// Stands in for a remote pricing service that goes down now and then: <c>POST /source/down</c> makes every call
/// fail, <c>POST /source/up</c> brings it back. It counts its calls and its failures for /source.
/// </summary>
public sealed class QuoteSource
{
    private volatile bool _down;
    private int _calls;
    private int _failures;

    public bool IsDown
    {
        get => _down;
        set => _down = value;
    }

    public int Calls => Volatile.Read(ref _calls);

    public int Failures => Volatile.Read(ref _failures);

    public async Task<Quote> FetchAsync(string symbol, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        await Task.Delay(20, cancellationToken);
        if (_down)
        {
            Interlocked.Increment(ref _failures);
            throw new HttpRequestException($"the pricing service is down (call {call})");
        }

        return new Quote(symbol, 100m + call, DateTimeOffset.UtcNow);
    }
}
