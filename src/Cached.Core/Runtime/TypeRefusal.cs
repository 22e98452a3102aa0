namespace Cached.Runtime;

/// <summary>
/// The cache a generated method has stopped using because its serializer refused the method's value type
/// (<see cref="CacheSerializationException.IsUnsupportedType"/>). A refusal would repeat on every call, so it is
/// logged once, as an error (and written once to standard error when no logger is configured, as a cache's first fault
/// is), and the method then runs uncached on that cache; a cache resolved anew (after
/// <see cref="Caches"/> changes) is tried again.
/// </summary>
internal struct TypeRefusal
{
    private ICache? _refusing;

    /// <summary>True when <paramref name="cache"/> refused the method's type: call the body, leave the cache alone.</summary>
    public bool Refuses(ICache cache) => ReferenceEquals(Volatile.Read(ref _refusing), cache);

    /// <summary>
    /// True when <paramref name="exception"/> is a refusal of the type by <paramref name="cache"/>'s serializer: it is
    /// noted, and logged unless it already was. False for any other fault, which the caller logs as usual.
    /// </summary>
    public bool Note(Exception exception, ICache cache, CachedMethodOptions options)
    {
        if (exception is not CacheSerializationException { IsUnsupportedType: true } refusal)
        {
            return false;
        }

        if (!ReferenceEquals(Interlocked.Exchange(ref _refusing, cache), cache))
        {
            Log.TypeRefused(CachedLogging.Logger, refusal, options.Method, refusal.ValueType, options.DescribeCache(cache));
            // With no logger, the only sign that this method never caches.
            CacheFaults.WriteToStandardError(
                $"Cached: {options.Method} runs uncached: cache '{options.DescribeCache(cache)}' cannot store its result type {refusal.ValueType}: {refusal.Message} " +
                "(printed once per method and cache; set CachedLogging.LoggerFactory, or call AddCached, to log every fault).");
        }

        return true;
    }
}
