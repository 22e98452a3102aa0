using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>How one generated cached method uses its cache; written by the source generator from the attribute.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CachedMethodOptions
{
    /// <summary>The method's full name, for logs.</summary>
    public required string Method { get; init; }

    /// <summary>Time to live in seconds; 0 for the cache's default.</summary>
    public double Ttl { get; init; }

    /// <summary>The namespace the entries live in; <c>null</c> for the cache's own.</summary>
    public string? Namespace { get; init; }

    /// <summary>A configured alias whose shared instance is the cache.</summary>
    public string? Alias { get; init; }

    /// <summary>Creates this method's own cache (from the attribute's <c>Cache</c>, <c>Serializer</c> and <c>Plugins</c>).</summary>
    public Func<ICache>? CacheFactory { get; init; }

    /// <summary>Seconds of the stampede lease; 0 for none.</summary>
    public double Lease { get; init; }

    /// <summary>Seconds the last value is kept after <see cref="Ttl"/> for when the body fails; 0 for none (<see cref="CacheEntryOptions.FailSafe"/>).</summary>
    public double FailSafe { get; init; }

    /// <summary>Seconds a last value served by fail-safe is fresh again; 0 for the default (<see cref="CacheEntryOptions.FailSafeThrottle"/>).</summary>
    public double FailSafeThrottle { get; init; }

    /// <summary>Seconds after which a caller with a last value at hand gets it; 0 for none (<see cref="CacheEntryOptions.SoftTimeout"/>).</summary>
    public double SoftTimeout { get; init; }

    /// <summary>Seconds no caller waits beyond; 0 for none (<see cref="CacheEntryOptions.HardTimeout"/>).</summary>
    public double HardTimeout { get; init; }

    /// <summary>The fraction of <see cref="Ttl"/> after which a hit refreshes in the background; 0 for none (<see cref="CacheEntryOptions.EagerRefresh"/>).</summary>
    public double EagerRefresh { get; init; }

    /// <summary>
    /// The method's entries carry tags (<see cref="CachedAttribute.Tags"/>), built per call by the delegate generated
    /// code passes; they are then stored with a stamp that lists them.
    /// </summary>
    public bool Tagged { get; init; }

    /// <summary>
    /// For a <c>[MultiCached]</c> method whose values are a reference type declared non-nullable: a null found under a
    /// key (stored by a single-key method that shares the entries, for an unknown id) is read as a miss, so the body is
    /// asked for that key and the result never holds a null value. Generated code sets it; a method whose values may
    /// be null answers a stored null as a value.
    /// </summary>
    public bool NullValuesMiss { get; init; }

    /// <summary>How logs name a cache made by <see cref="CacheFactory"/> that has no alias.</summary>
    internal string? CacheName { get; init; }

    /// <summary>The options as the read-through core takes them.</summary>
    internal EntryPolicy Policy => new(
        Seconds(Ttl), Seconds(Lease), Seconds(FailSafe), Seconds(FailSafeThrottle), Seconds(SoftTimeout), Seconds(HardTimeout),
        EagerRefresh > 0 ? EagerRefresh : null, tags: null, tagged: Tagged);

    /// <summary>
    /// A positive number of seconds as a TimeSpan, else none. Beyond TimeSpan.MaxValue, TimeSpan.FromSeconds would
    /// throw an OverflowException that names no option; generated code never gets here with one (CACHED011).
    /// </summary>
    private static TimeSpan? Seconds(double seconds, [CallerArgumentExpression(nameof(seconds))] string? option = null)
        => seconds <= 0 || double.IsNaN(seconds) ? null
            : seconds <= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.FromSeconds(seconds)
            : throw new ArgumentOutOfRangeException(option, seconds, $"{option} is a number of seconds, at most TimeSpan.MaxValue.TotalSeconds ({TimeSpan.MaxValue.TotalSeconds.ToString(CultureInfo.InvariantCulture)}); 0 for the default.");

    /// <summary>
    /// The cache a method with these options uses: its alias, its own cache, else the default one. An alias no
    /// configuration has resolves to <see cref="UnconfiguredCache"/>: the method runs uncached and says so, once.
    /// </summary>
    internal ICache ResolveCache()
    {
        if (CacheFactory is not null && Alias is null)
        {
            return CacheFactory();
        }

        if (Alias is null && !Caches.IsDefaultConfigured)
        {
            return FallbackCache.Shared;
        }

        var alias = Alias ?? Caches.DefaultAlias;
        return Caches.TryGetInstance(alias) ?? FromConfiguration(alias);
    }

    /// <summary>How logs name <paramref name="cache"/>: its alias, else the method's alias, else what it is.</summary>
    internal string DescribeCache(ICache cache)
        => (cache as IAliasedCache)?.Alias ?? Alias ?? (CacheFactory is not null ? CacheName ?? $"{cache.GetType().Name} of {Method}" : Caches.DefaultAlias);

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Only aliases the application configured by type name reach this; trimmed and NativeAOT applications register instances with Caches.AddInstance, which the line above serves without reflection.")]
    private static ICache FromConfiguration(string alias)
        => Caches.IsConfigured(alias) ? Caches.Get(alias) : UnconfiguredCache.For(alias);
}
