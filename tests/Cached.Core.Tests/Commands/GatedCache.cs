namespace Cached.Tests.Commands;

/// <summary>
/// A backend whose async operations all wait for <see cref="Open"/> (or for <see cref="OpensWhenWaiting"/> of them):
/// how a slow server looks to BaseCache. Its store is empty and its sync operations answer at once.
/// </summary>
internal sealed class GatedCache : BaseCache
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    /// <summary>Fails every waiting operation, as a client fails a late command with its own exception.</summary>
    public void Fail(Exception exception) => _gate.TrySetException(exception);

    /// <summary>Claims that the client fails a late read itself (<see cref="BaseCache.ClientEnforcesTimeout"/>).</summary>
    public bool EnforcesTimeout { get; init; }

    protected override bool ClientEnforcesTimeout => EnforcesTimeout;

    /// <summary>How many operations at the gate open it, when they wait there together; 0 (the default): only <see cref="Open"/> does.</summary>
    public int OpensWhenWaiting { get; init; }

    private int _waiting;
    private int _mostWaiting;

    /// <summary>The most operations that waited at the gate at one time.</summary>
    public int MostWaiting => Volatile.Read(ref _mostWaiting);

    private async ValueTask<T> After<T>(T result, CancellationToken cancellationToken)
    {
        var waiting = Interlocked.Increment(ref _waiting);
        for (var most = _mostWaiting; waiting > most; most = _mostWaiting)
        {
            Interlocked.CompareExchange(ref _mostWaiting, waiting, most);
        }

        if (waiting == OpensWhenWaiting)
        {
            Open();
        }

        try
        {
            await _gate.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return result;
    }

    /// <summary>What a sync read throws, as a client does whose command failed on its own (a cancellation after a reset).</summary>
    public Exception? SyncReadFault { get; init; }

    protected override CacheResult<object?> GetEntry(string key) => SyncReadFault is { } fault ? throw fault : CacheResult<object?>.Miss;

    protected override ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _framedReads);
        return AnswersAtOnce?.Invoke(key) == true ? new(CacheResult<object?>.Miss) : After(CacheResult<object?>.Miss, cancellationToken);
    }

    /// <summary>The keys whose async reads answer at once, not at the gate: a part of the backend that still answers.</summary>
    public Func<string, bool>? AnswersAtOnce { get; init; }

    /// <summary>The part of the backend a key is on (<see cref="BaseCache.FaultDomainOf"/>); none for a clear.</summary>
    public Func<string, object?>? PartOf { get; init; }

    protected override object? FaultDomainOf(Cached.Plugins.CacheCommand command, string subject)
        => command == Cached.Plugins.CacheCommand.Clear ? null : PartOf?.Invoke(subject);

    /// <summary>Whether an async read may start as the client's own task (<see cref="BaseCache.TryStartEntryRead"/>), which ends when the gate opens.</summary>
    public bool StartsClientReads { get; init; }

    /// <summary>What a read started as the client's own task finds once the gate opens: nothing when null.</summary>
    public object? ClientReadPayload { get; init; }

    private int _framedReads;
    private int _clientReads;

    /// <summary>How many async reads went through <see cref="GetEntryAsync"/>.</summary>
    public int FramedReads => Volatile.Read(ref _framedReads);

    /// <summary>How many async reads were started as the client's own task.</summary>
    public int ClientReads => Volatile.Read(ref _clientReads);

    protected override bool TryStartEntryRead(string key, out PendingEntryRead read)
    {
        if (!StartsClientReads)
        {
            read = default;
            return false;
        }

        Interlocked.Increment(ref _clientReads);
        read = new PendingEntryRead(ClientReadAsync(), static reply => ((Task<CacheResult<object?>>)reply).GetAwaiter().GetResult());
        return true;
    }

    private async Task<CacheResult<object?>> ClientReadAsync()
    {
        await _gate.Task;
        return ClientReadPayload is { } payload ? CacheResult<object?>.Hit(payload) : CacheResult<object?>.Miss;
    }

    protected override CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys) => new CacheResult<object?>[keys.Count];

    protected override ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) => After(new CacheResult<object?>[keys.Count], cancellationToken);

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => true;

    protected override ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken) => After(true, cancellationToken);

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => true;

    protected override ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken) => After(true, cancellationToken);

    protected override bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl) => true;

    protected override ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken) => After(true, cancellationToken);

    protected override bool ContainsEntry(string key) => false;

    protected override ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken) => After(false, cancellationToken);

    protected override long IncrementEntry(string key, string? @namespace, long delta) => delta;

    protected override ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken) => After(delta, cancellationToken);

    protected override int RemoveEntry(string key) => 0;

    protected override ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken) => After(0, cancellationToken);

    protected override bool ClearEntries(string? @namespace) => true;

    protected override ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken) => After(true, cancellationToken);

    protected override bool ExpireEntry(string key, TimeSpan? ttl) => false;

    protected override ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken) => After(false, cancellationToken);

    protected override bool SupportsConditionalOperations => true;

    protected override bool RemoveEntryIfEquals(string key, object? expected) => false;

    protected override ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _conditionalRemoves);
        return After(false, cancellationToken);
    }

    private int _conditionalRemoves;

    /// <summary>How many async compare-and-deletes (a lock's release) reached the backend.</summary>
    public int ConditionalRemoves => Volatile.Read(ref _conditionalRemoves);

    protected override object? GetEntryVersion(string key) => null;

    protected override ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken) => After<object?>(null, cancellationToken);

    protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl) => CacheResult<object?>.Miss;

    protected override ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken) => After(CacheResult<object?>.Miss, cancellationToken);

    protected override object? ExecuteRaw(string command, object?[] args) => null;

    protected override ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken) => After<object?>(null, cancellationToken);
}
