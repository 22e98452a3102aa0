namespace Cached.Memory;

/// <summary>The periodic sweep of expired entries. It holds the store weakly, so an abandoned cache is collected and its timer stops.</summary>
internal sealed class SweepTimer(MemoryStore store) : IDisposable
{
    private readonly WeakReference<MemoryStore> _store = new(store);
    private ITimer? _timer;

    public void Start(TimeProvider timeProvider, TimeSpan interval)
        => _timer = timeProvider.CreateTimer(static state => ((SweepTimer)state!).Tick(), this, interval, interval);

    public void Dispose() => _timer?.Dispose();

    private void Tick()
    {
        if (_store.TryGetTarget(out var store))
        {
            store.RemoveExpired();
        }
        else
        {
            Dispose();
        }
    }
}
