using System.Runtime.CompilerServices;

namespace Cached.Tags;

/// <summary>
/// Where one cache keeps its tags' versions, and the three things tags need of it: the versions a value is computed
/// under (<see cref="Observe"/>, before the computation), keeping them as long as the entry that carries them
/// (<see cref="Retain"/>, before the store), and replacing them (<see cref="Invalidate"/>). An invalidation is one
/// write per tag, whatever the number of entries; reads compare an entry's versions with the current ones.
/// </summary>
/// <remarks>
/// A missing version never equals a stored one, so a version record that expires or is evicted early can only make
/// entries miss, never serve one an invalidation should have removed.
/// </remarks>
internal abstract class TagStore
{
    /// <summary>
    /// How long a version record made by an invalidation lives when no entry keeps it longer: the longest a value may
    /// take to compute and still be caught by an invalidation made while it ran.
    /// </summary>
    public static readonly TimeSpan InFlightWindow = TimeSpan.FromMinutes(10);

    private static readonly ConditionalWeakTable<ICache, TagStore> s_others = new();

    private long _epoch;

    /// <summary>The tag store of <paramref name="cache"/>: its own when it has one, else one over its public commands.</summary>
    public static TagStore Of(ICache cache)
        => cache is ITagHost host ? host.Tags : s_others.GetValue(cache, static c => new EntryTagStore(new CommandTagEntries(c)));

    /// <summary>
    /// How many invalidations this process has made or heard of through this store; moves before each one takes
    /// effect. A computation that noted it before and finds it moved after may have been overtaken by an invalidation.
    /// </summary>
    public long Epoch => Volatile.Read(ref _epoch);

    /// <summary>Notes an invalidation, before it takes effect.</summary>
    public void Invalidating() => Interlocked.Increment(ref _epoch);

    /// <summary>
    /// Whether reading versions costs a round trip: readers that know an entry's tags then read them beside the entry,
    /// concurrently, rather than after it.
    /// </summary>
    public virtual bool IsRemote => true;

    /// <summary>The current versions of <paramref name="names"/>, new ones for tags that have none: call before computing the value.</summary>
    public abstract TagStamp Observe(string[] names);

    /// <summary>
    /// The observation <see cref="Observe"/> would make, from tokens read just before (beside an entry); <c>null</c>
    /// when this store observes more than tokens (an in-process one holds versions).
    /// </summary>
    public virtual TagStamp? FromRead(string[] names, long[] tokens) => null;

    /// <inheritdoc cref="Observe"/>
    public abstract ValueTask<TagStamp> ObserveAsync(string[] names, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the stamp's versions at least as long as an entry that lives <paramref name="life"/> (<c>null</c>: no
    /// expiry): call before storing the entry. False when a version is no longer the tag's (invalidated, or its record
    /// lost): the entry must then not be stored, since nothing could tell it apart from a current one later.
    /// </summary>
    public abstract bool Retain(TagStamp stamp, TimeSpan? life);

    /// <inheritdoc cref="Retain"/>
    public abstract ValueTask<bool> RetainAsync(TagStamp stamp, TimeSpan? life, CancellationToken cancellationToken);

    /// <summary>Makes every entry that carries one of <paramref name="names"/> a miss, in every process that shares the store.</summary>
    public abstract void Invalidate(string[] names);

    /// <inheritdoc cref="Invalidate"/>
    public abstract ValueTask InvalidateAsync(string[] names, CancellationToken cancellationToken);

    /// <summary>The current tokens of <paramref name="names"/>; 0 for a tag with no version.</summary>
    public abstract long[] ReadTokens(string[] names);

    /// <inheritdoc cref="ReadTokens"/>
    public abstract ValueTask<long[]> ReadTokensAsync(string[] names, CancellationToken cancellationToken);

    /// <summary>Checks a stamp read from bytes against the current versions, once; true when it is current.</summary>
    public bool Check(TagStamp stamp)
    {
        if (!stamp.NeedsCheck)
        {
            return stamp.IsCurrent;
        }

        return Compare(stamp, ReadTokens(stamp.Names));
    }

    /// <inheritdoc cref="Check(TagStamp)"/>
    public async ValueTask<bool> CheckAsync(TagStamp stamp, CancellationToken cancellationToken)
    {
        if (!stamp.NeedsCheck)
        {
            return stamp.IsCurrent;
        }

        return Compare(stamp, await ReadTokensAsync(stamp.Names, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Checks a stamp with tokens read beforehand for <paramref name="names"/> (beside the entry, in the same round
    /// trip); reads them again only when the entry carries other tags than the reader expected.
    /// </summary>
    public bool Check(TagStamp stamp, string[] names, long[] tokens)
    {
        if (!stamp.NeedsCheck)
        {
            return stamp.IsCurrent;
        }

        return SameNames(stamp.Names, names) ? Compare(stamp, tokens) : Check(stamp);
    }

    /// <summary>Checks every stamp read from bytes among <paramref name="stamps"/> with one read of the union of their tags.</summary>
    public void CheckAll(IEnumerable<TagStamp?> stamps)
    {
        var pending = stamps.Where(static s => s is { NeedsCheck: true }).Select(static s => s!).ToList();
        if (pending.Count > 0)
        {
            CheckWith(pending, Union(pending));
        }
    }

    /// <inheritdoc cref="CheckAll"/>
    public async ValueTask CheckAllAsync(IEnumerable<TagStamp?> stamps, CancellationToken cancellationToken)
    {
        var pending = stamps.Where(static s => s is { NeedsCheck: true }).Select(static s => s!).ToList();
        if (pending.Count > 0)
        {
            var names = Union(pending);
            CheckWith(pending, names, await ReadTokensAsync(names, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>The distinct tags of several stamps, in first-seen order.</summary>
    public static string[] Union(IEnumerable<TagStamp> stamps) => stamps.SelectMany(static s => s.Names).Distinct(StringComparer.Ordinal).ToArray();

    private static void CheckWith(List<TagStamp> stamps, string[] names, long[] tokens)
    {
        foreach (var stamp in stamps)
        {
            var current = new long[stamp.Names.Length];
            for (var i = 0; i < current.Length; i++)
            {
                current[i] = tokens[Array.IndexOf(names, stamp.Names[i])];
            }

            Compare(stamp, current);
        }
    }

    private void CheckWith(List<TagStamp> stamps, string[] names) => CheckWith(stamps, names, ReadTokens(names));

    private static bool Compare(TagStamp stamp, long[] current)
    {
        var same = current.Length == stamp.Tokens.Length;
        for (var i = 0; same && i < current.Length; i++)
        {
            same = current[i] == stamp.Tokens[i];
        }

        stamp.Checked(same);
        return same;
    }

    private static bool SameNames(string[] a, string[] b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A cache that keeps its own <see cref="TagStore"/>.</summary>
internal interface ITagHost
{
    TagStore Tags { get; }
}
