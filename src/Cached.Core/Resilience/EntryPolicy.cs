namespace Cached.Resilience;

/// <summary>
/// What a read-through call does with one entry, from <see cref="CacheEntryOptions"/> (<c>GetOrSet</c>) or from a
/// generated method's attribute: the same values, so both run the same core. A struct, so a call with options
/// allocates nothing for them.
/// </summary>
internal readonly struct EntryPolicy
{
    public EntryPolicy(TimeSpan? ttl, TimeSpan? lease, TimeSpan? failSafe, TimeSpan? failSafeThrottle, TimeSpan? softTimeout, TimeSpan? hardTimeout, double? eagerRefresh)
    {
        Ttl = ttl;
        Lease = lease;
        FailSafe = failSafe;
        FailSafeThrottle = failSafeThrottle ?? CacheEntryOptions.DefaultFailSafeThrottle;
        SoftTimeout = softTimeout;
        HardTimeout = hardTimeout;
        EagerRefresh = eagerRefresh;
    }

    /// <summary>No options: the cache's time to live, nothing else.</summary>
    public static readonly EntryPolicy None;

    /// <summary>The policy of <paramref name="options"/>, by reference (<see cref="None"/> for <c>null</c>).</summary>
    public static ref readonly EntryPolicy Of(CacheEntryOptions? options)
        => ref options is null ? ref None : ref options.Policy;

    /// <summary>Time to live; <c>null</c> for the cache's default.</summary>
    public TimeSpan? Ttl { get; }

    public TimeSpan? Lease { get; }

    public TimeSpan? FailSafe { get; }

    public TimeSpan FailSafeThrottle { get; }

    public TimeSpan? SoftTimeout { get; }

    public TimeSpan? HardTimeout { get; }

    public double? EagerRefresh { get; }

    /// <summary>Entries carry their logical expiry (<see cref="Stamped{T}"/>): fail-safe needs the stale value, eager refresh its age.</summary>
    public bool Stamps => FailSafe is not null || EagerRefresh is not null;

    /// <summary>Anything beyond the plain read-through: the miss then runs on the resilient path.</summary>
    public bool IsResilient => Stamps || SoftTimeout is not null || HardTimeout is not null;

    /// <summary>
    /// The time to live an entry is fresh for: the policy's, else the cache's default; <c>null</c> when it never
    /// expires (zero and infinite mean that, as everywhere).
    /// </summary>
    public TimeSpan? FreshFor(ICache cache)
    {
        var ttl = Ttl ?? cache.Ttl;
        return ttl is { } span && span > TimeSpan.Zero ? span : null;
    }

    /// <summary>
    /// How long the caller waits for the factory: the soft timeout when a last value is at hand (the shorter of the
    /// two when both are set), else the hard timeout; <c>null</c> for as long as it takes.
    /// </summary>
    public TimeSpan? WaitFor(bool hasLastValue)
    {
        if (hasLastValue && SoftTimeout is { } soft)
        {
            return HardTimeout is { } hard && hard < soft ? hard : soft;
        }

        return HardTimeout;
    }
}
