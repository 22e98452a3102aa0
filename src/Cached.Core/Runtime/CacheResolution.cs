using Cached.Capabilities;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>
/// One resolution of a method's cache: the cache, the <see cref="Caches.Version"/> it is valid for and, when the cache
/// can read by span (<see cref="ISpanReadableCache"/>), what a hit needs to do so without asking the cache again.
/// </summary>
internal sealed class CacheResolution
{
    public CacheResolution(ICache cache, int version, string? @namespace)
    {
        Cache = cache;
        Version = version;
        Clock = ReadThroughs.Of(cache).Clock;
        ISpanReadableCache? target = cache as ISpanReadableCache;
        var space = @namespace;
        if (cache is ISpanReaderOwner owner && owner.TryGetSpanReader(@namespace, out var inner, out var innerSpace))
        {
            (target, space) = (inner, innerSpace);
        }
        else
        {
            SpanMissIsFinal = true;
        }

        if (target is { } reader)
        {
            try
            {
                if (reader.CanReadBySpan(space, out var resolved))
                {
                    SpanReader = reader;
                    SpanNamespace = resolved;
                    TimedReader = reader as ITimedSpanReader;
                    ReaderClock = TimedReader?.ReaderClock;
                }
            }
            catch (Exception)
            {
                // The check reads the cache's settings (its default serializer may be created here). A cache whose
                // settings fault is read the ordinary way, which reports the fault and survives it.
                SpanReader = null;
                SpanNamespace = null;
                TimedReader = null;
                ReaderClock = null;
            }
        }
    }

    public ICache Cache { get; }

    /// <summary>The clock the cache's stamped entries are read on (<see cref="ReadThroughs.Clock"/>).</summary>
    public TimeProvider Clock { get; }

    /// <summary><see cref="SpanReader"/>, when it also hands over the timestamp it read (stamped hits then read no clock).</summary>
    public ITimedSpanReader? TimedReader { get; }

    /// <summary>The clock of <see cref="TimedReader"/>'s timestamps, read once here (a cache's clock never changes).</summary>
    public TimeProvider? ReaderClock { get; }

    public int Version { get; }

    /// <summary>The cache, when its settings allow reads by span key; <c>null</c> otherwise.</summary>
    public ISpanReadableCache? SpanReader { get; }

    /// <summary>
    /// Whether a span read's miss is the cache's: true when the cache itself reads by span; false when it reads through
    /// another cache it holds (a two-level cache's L1), whose miss says nothing of the level behind it.
    /// </summary>
    public bool SpanMissIsFinal { get; }

    /// <summary>The namespace span reads use: the method's, else the cache's own, resolved by the cache's rule.</summary>
    public string? SpanNamespace { get; }
}
