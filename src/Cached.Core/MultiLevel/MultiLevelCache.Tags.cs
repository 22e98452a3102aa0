using Cached.MultiLevel;
using Cached.Resilience;
using Cached.Tags;

namespace Cached;

/// <summary>
/// Tags on two levels. An invalidation replaces the tags' records in L2 (seen by every node's L2 reads), then in this
/// node's L1, then tells the other nodes, which invalidate theirs. An L1 copy of a tagged entry carries L1's own tag
/// versions, so a hit checks them with no lookup and an invalidation marks them, whatever the number of copies.
/// </summary>
/// <remarks>
/// Without a backplane, another node's invalidation could never reach this node's L1 (FusionCache's issue 573), so
/// tagged entries are not kept in L1: every read of one goes to L2, which checks its tags.
/// </remarks>
public sealed partial class MultiLevelCache : ITagHost
{
    private MultiLevelTagStore? _tags;

    /// <inheritdoc />
    TagStore ITagHost.Tags => Volatile.Read(ref _tags) ?? InitTags();

    private MultiLevelTagStore InitTags()
    {
        Interlocked.CompareExchange(ref _tags, new MultiLevelTagStore(this), null);
        return _tags;
    }

    /// <summary>The versions L1 copies of tagged entries hold, when L1 keeps them (an in-process L1 and a backplane).</summary>
    internal MemoryTagStore? L1TagVersions => Backplane is not null && TagStore.Of(L1) is MemoryTagStore versions ? versions : null;

    /// <summary>
    /// Invalidates the tags in L2, then in this node's L1, then in every other node's L1. With L2 unreachable the L2 part
    /// is kept and retried when it returns, and every node invalidates again once it lands.
    /// </summary>
    /// <inheritdoc cref="ICache.InvalidateTags"/>
    public void InvalidateTags(params string[] tags)
    {
        ThrowIfDisposed();
        if (TagNames.ToInvalidate(tags) is not { } names)
        {
            return;
        }

        ((ITagHost)this).Tags.Invalidating();
        try
        {
            L2.InvalidateTags(names);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            // Kept and retried, as a delete is: L2's records must change, or every node reads the old entries back.
            _pending.InvalidateTags(names, ex);
        }
        finally
        {
            // Even when L2 failed part way: invalidating more than L2 took is the safe direction.
            InvalidateInL1(names);
            Publish(BackplaneAction.Tags, null, names);
        }
    }

    /// <inheritdoc cref="InvalidateTags"/>
    public async ValueTask InvalidateTagsAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (TagNames.ToInvalidate(tags, cancellationToken) is not { } names)
        {
            return;
        }

        ((ITagHost)this).Tags.Invalidating();
        try
        {
            // Without the caller's token, as a delete: a caller that leaves does not stop L2 from taking it, and when
            // L2 takes it (or cannot be reached) after the caller left, this node and the others invalidate again.
            await Abandonable(Done(L2.InvalidateTagsAsync(names, CancellationToken.None)), BackplaneAction.Tags, null, names, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            _pending.InvalidateTags(names, ex);
        }
        finally
        {
            // Even when L2 failed or the call was cancelled part way: L2 may have taken some of it.
            InvalidateInL1(names);
            Publish(BackplaneAction.Tags, null, names);
        }
    }

    private static async ValueTask<bool> Done(ValueTask invalidation)
    {
        await invalidation.ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Invalidates tags in this node's L1. L1's fences move first: a copy read from L2 before this point that has not
    /// reached L1 yet is refused, and one that takes its versions after this point can only have been read after the
    /// fences moved, when L2 already held the invalidation (dotnet/extensions#7771 served such a copy).
    /// </summary>
    internal void InvalidateInL1(string[] names)
    {
        ((ITagHost)this).Tags.Invalidating();
        try
        {
            (L1 as BaseCache)?.MoveAllFences();
            L1.InvalidateTags(names);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MultiLevelLog.L1WriteFailed(CachedLogging.Logger, ex, "(tags " + string.Join(", ", names) + ")", AliasForLogs);
            try
            {
                FlushL1();
            }
            catch (Exception flush) when (flush is not OutOfMemoryException)
            {
                // Never thrown: the replay loop lands kept invalidations through here and must go on with the next.
                MultiLevelLog.L1WriteFailed(CachedLogging.Logger, flush, "(every namespace, after tags " + string.Join(", ", names) + ")", AliasForLogs);
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="value"/> may go into L1, made ready for it: an untagged value as it is; a tagged one only
    /// when L1 keeps tagged copies, its tags current, with L1's own versions (taken now when it has none: a copy of an
    /// entry read from L2, whose read began after any invalidation whose fence move it survived).
    /// </summary>
    private bool ReadyForL1<T>(ref T value, TimeSpan? life)
    {
        if (value is not IStamped { Tags: { } tags } stamped)
        {
            return true;
        }

        if (L1TagVersions is not { } versions || !tags.IsCurrent)
        {
            return false;
        }

        if (tags.Versions is null)
        {
            value = (T)stamped.WithTags(tags.WithVersions(versions.Take(tags.Names, life)));
        }

        return true;
    }
}

/// <summary>
/// The tag store of a <see cref="MultiLevelCache"/>: L2's records, which every node reads, and L1's versions, which this
/// node's copies hold. A stamp observed here carries both: L2's tokens go into the stored bytes, L1's versions stay
/// with the copy in L1. Reads are not done beside the entry (an L1 hit must not pay a round trip); an entry read from
/// L2 is checked after.
/// </summary>
internal sealed class MultiLevelTagStore(MultiLevelCache cache) : TagStore
{
    public override bool IsRemote => false;

    public override TagStamp Observe(string[] names) => WithL1(Of(cache.L2).Observe(names));

    public override async ValueTask<TagStamp> ObserveAsync(string[] names, CancellationToken cancellationToken)
        => WithL1(await Of(cache.L2).ObserveAsync(names, cancellationToken).ConfigureAwait(false));

    public override bool Retain(TagStamp stamp, TimeSpan? life)
        => Of(cache.L2).Retain(stamp, life) && (cache.L1TagVersions?.Retain(stamp, life) ?? true);

    public override async ValueTask<bool> RetainAsync(TagStamp stamp, TimeSpan? life, CancellationToken cancellationToken)
        => await Of(cache.L2).RetainAsync(stamp, life, cancellationToken).ConfigureAwait(false) && (cache.L1TagVersions?.Retain(stamp, life) ?? true);

    public override void Invalidate(string[] names) => cache.InvalidateTags(names);

    public override ValueTask InvalidateAsync(string[] names, CancellationToken cancellationToken) => cache.InvalidateTagsAsync(names, cancellationToken);

    public override long[] ReadTokens(string[] names) => Of(cache.L2).ReadTokens(names);

    public override ValueTask<long[]> ReadTokensAsync(string[] names, CancellationToken cancellationToken) => Of(cache.L2).ReadTokensAsync(names, cancellationToken);

    /// <summary>
    /// L2's observation with L1's versions added. An in-process L2 keeps the stamp by reference, so its own versions
    /// stay in it beside L1's: a copy is current only while every version it holds is.
    /// </summary>
    private TagStamp WithL1(TagStamp l2)
    {
        if (cache.L1TagVersions is not { } versions)
        {
            return l2;
        }

        var l1 = versions.Take(l2.Names, InFlightWindow);
        return l2.WithVersions(l2.Versions is { } own ? [.. own, .. l1] : l1);
    }
}
