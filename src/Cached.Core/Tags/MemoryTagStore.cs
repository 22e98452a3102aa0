using System.Collections.Concurrent;

namespace Cached.Tags;

/// <summary>
/// Tag versions of an in-process cache: one <see cref="TagVersion"/> object per tag. Entries kept by reference hold the
/// objects, so a hit checks them with no lookup; an invalidation marks the tag's version and drops it, so the next
/// writer takes a new one. A version is kept as long as the longest entry retained with it, then retired by a sweep
/// that runs as the table grows, so the table is bounded by the tags live entries carry.
/// </summary>
internal sealed class MemoryTagStore(TimeProvider clock) : TagStore
{
    private const int FirstSweep = 1024;

    private readonly ConcurrentDictionary<string, TagVersion> _versions = new(StringComparer.Ordinal);
    private int _nextSweep = FirstSweep;

    /// <inheritdoc />
    public override bool IsRemote => false;

    /// <summary>How many tags have a version now (for tests of the bound).</summary>
    public int Count => _versions.Count;

    /// <inheritdoc />
    public override TagStamp Observe(string[] names)
    {
        var until = After(clock.GetTimestamp(), InFlightWindow);
        var versions = new TagVersion[names.Length];
        var tokens = new long[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            versions[i] = Take(names[i], until);
            tokens[i] = versions[i].Token;
        }

        SweepWhenGrown();
        return new TagStamp(names, tokens, versions);
    }

    /// <inheritdoc />
    public override ValueTask<TagStamp> ObserveAsync(string[] names, CancellationToken cancellationToken)
        => ValueTask.FromResult(Observe(names));

    /// <inheritdoc />
    public override bool Retain(TagStamp stamp, TimeSpan? life)
    {
        var until = life is { } span ? After(clock.GetTimestamp(), span) : long.MaxValue;
        var kept = true;
        foreach (var version in stamp.Versions ?? [])
        {
            kept &= version.TryKeepUntil(until) && version.IsCurrent;
        }

        return kept;
    }

    /// <inheritdoc />
    public override ValueTask<bool> RetainAsync(TagStamp stamp, TimeSpan? life, CancellationToken cancellationToken)
        => ValueTask.FromResult(Retain(stamp, life));

    /// <inheritdoc />
    public override void Invalidate(string[] names)
    {
        Invalidating();
        foreach (var name in names)
        {
            if (_versions.TryRemove(name, out var version))
            {
                version.Invalidate();
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask InvalidateAsync(string[] names, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Invalidate(names);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override long[] ReadTokens(string[] names)
    {
        var tokens = new long[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            tokens[i] = _versions.TryGetValue(names[i], out var version) && version.IsCurrent ? version.Token : 0;
        }

        return tokens;
    }

    /// <inheritdoc />
    public override ValueTask<long[]> ReadTokensAsync(string[] names, CancellationToken cancellationToken)
        => ValueTask.FromResult(ReadTokens(names));

    /// <summary>The version of the tags of an entry copied in from another level, taken now.</summary>
    public TagVersion[] Take(string[] names, TimeSpan? life)
    {
        var until = life is { } span ? After(clock.GetTimestamp(), span) : long.MaxValue;
        var versions = new TagVersion[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            versions[i] = Take(names[i], until);
        }

        SweepWhenGrown();
        return versions;
    }

    /// <summary>Drops every version that nothing can hold any more; retired versions make their entries misses.</summary>
    public void Sweep()
    {
        var now = clock.GetTimestamp();
        foreach (var pair in _versions)
        {
            if (pair.Value.TryRetire(now))
            {
                _versions.TryRemove(pair);
            }
        }
    }

    private TagVersion Take(string name, long until)
    {
        while (true)
        {
            var version = _versions.GetOrAdd(name, static _ => new TagVersion(TagNames.NewToken()));
            if (version.TryKeepUntil(until))
            {
                return version;
            }

            // Retired by a sweep as we took it: replace it, unless another writer did.
            _versions.TryUpdate(name, new TagVersion(TagNames.NewToken()), version);
        }
    }

    private void SweepWhenGrown()
    {
        var next = Volatile.Read(ref _nextSweep);
        if (_versions.Count < next || Interlocked.CompareExchange(ref _nextSweep, int.MaxValue, next) != next)
        {
            return;
        }

        Sweep();
        Volatile.Write(ref _nextSweep, Math.Max(FirstSweep, _versions.Count * 2));
    }

    private long After(long timestamp, TimeSpan span)
    {
        var ticks = span.TotalSeconds * clock.TimestampFrequency;
        return ticks >= long.MaxValue - timestamp ? long.MaxValue : timestamp + (long)ticks;
    }
}
