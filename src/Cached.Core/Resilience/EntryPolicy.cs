namespace Cached.Resilience;

/// <summary>
/// What a read-through call does with one entry, from <see cref="CacheEntryOptions"/> (<c>GetOrSet</c>) or from a
/// generated method's attribute: the same values, so both run the same core. A struct, so a call with options
/// allocates nothing for them.
/// </summary>
internal readonly struct EntryPolicy
{
    public EntryPolicy(TimeSpan? ttl, TimeSpan? lease, TimeSpan? failSafe, TimeSpan? failSafeThrottle, TimeSpan? softTimeout, TimeSpan? hardTimeout, double? eagerRefresh, string[]? tags = null, bool tagged = false)
    {
        Tags = tags;
        Tagged = tagged || tags is not null;
        Ttl = ttl;
        Lease = lease;
        FailSafe = failSafe;
        FailSafeThrottle = failSafeThrottle ?? CacheEntryOptions.DefaultFailSafeThrottle;
        SoftTimeout = Waitable(softTimeout);
        HardTimeout = Waitable(hardTimeout);
        EagerRefresh = eagerRefresh;
    }

    /// <summary>The longest wait a timer takes (<see cref="Task.WaitAsync(TimeSpan)"/> refuses more): about 49.7 days.</summary>
    private static readonly TimeSpan s_longestWait = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>No options: the cache's time to live, nothing else.</summary>
    public static readonly EntryPolicy None;

    /// <summary>A timeout longer than a timer can wait, or infinite, is a wait with no end, not an error at every miss.</summary>
    private static TimeSpan? Waitable(TimeSpan? timeout) => timeout > s_longestWait || timeout == Timeout.InfiniteTimeSpan ? null : timeout;

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

    /// <summary>The entry's tags (<c>GetOrSet</c>, <c>Set</c>); <c>null</c> when a generated method builds them per call, or for none.</summary>
    public string[]? Tags { get; }

    /// <summary>Entries carry tags: given here, or built per call by a generated method.</summary>
    public bool Tagged { get; }

    /// <summary>
    /// A generated method's tag builder for this call (a <c>Func&lt;TState, string[]&gt;</c> the call's state is given to),
    /// called only when a value is computed, so a hit builds no tag.
    /// </summary>
    public object? TagSource { get; private init; }

    /// <summary>What a call that is not resilient (<see cref="IsResilient"/>) needs to fill the entry on a miss.</summary>
    public FillPolicy Fill => new(Ttl, Lease);

    /// <summary>This policy for one call whose tags <paramref name="source"/> builds.</summary>
    public EntryPolicy WithTagSource(object source) => this with { TagSource = source };

    /// <summary>
    /// Entries carry a stamp (<see cref="Stamped{T}"/>): fail-safe needs the stale value, eager refresh its age, tags
    /// the versions the value was computed under.
    /// </summary>
    public bool Stamps => FailSafe is not null || EagerRefresh is not null || Tagged;

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

/// <summary>
/// The part of an <see cref="EntryPolicy"/> a plain miss uses: the time to live and the lease. The async read-through
/// path keeps it across its awaits, so each await's state holds 32 bytes of policy rather than the whole one
/// (over 120 bytes): a remote hit's continuation and a miss's two are that much smaller.
/// </summary>
/// <param name="Ttl">Time to live; <c>null</c> for the cache's default.</param>
/// <param name="Lease">How long a leader holds the key's lock, when the cache has locks; <c>null</c> for none.</param>
internal readonly record struct FillPolicy(TimeSpan? Ttl, TimeSpan? Lease);
