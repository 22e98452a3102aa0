namespace Cached.Tags;

/// <summary>
/// The tags a stored entry carries and the version of each it was computed under. Written by a store's
/// <see cref="TagStore.Observe"/> before the value is computed, so an invalidation during the computation makes the
/// entry a miss. An in-process store adds the <see cref="TagVersion"/> objects (a hit checks them with no lookup); an
/// entry read back from bytes has the tokens only, and the store that read it checks them once (<see cref="TagStore.Check(TagStamp)"/>).
/// </summary>
internal sealed class TagStamp
{
    private const int Unchecked = 0;
    private const int Current = 1;
    private const int Invalidated = 2;

    private int _checked;

    public TagStamp(string[] names, long[] tokens, TagVersion[]? versions = null, bool[]? created = null)
    {
        Names = names;
        Tokens = tokens;
        Versions = versions;
        Created = created;
    }

    /// <summary>
    /// For a stamp a writer observed in a backend's records: which tokens it made itself because the tag had no record
    /// (<see cref="TagStore.Retain"/> creates those, and only those); <c>null</c> when it made none.
    /// </summary>
    public bool[]? Created { get; }

    /// <summary>The tags, distinct, in the order the writer gave them.</summary>
    public string[] Names { get; }

    /// <summary>Each tag's version as a number, as stored in bytes.</summary>
    public long[] Tokens { get; }

    /// <summary>
    /// The version objects of in-process stores (one per tag, or one per tag and store for a two-level cache), when the
    /// stamp was made by one; <c>null</c> when read from bytes. The stamp is current while all of them are.
    /// </summary>
    public TagVersion[]? Versions { get; }

    /// <summary>
    /// Whether no tag was invalidated since the entry was computed. A stamp read from bytes that no store has checked
    /// is not current: serving it unchecked could serve an invalidated entry.
    /// </summary>
    public bool IsCurrent
    {
        get
        {
            if (Versions is { } versions)
            {
                foreach (var version in versions)
                {
                    if (!version.IsCurrent)
                    {
                        return false;
                    }
                }

                return true;
            }

            return Volatile.Read(ref _checked) == Current;
        }
    }

    /// <summary>Whether a store still has to compare the tokens (a stamp read from bytes).</summary>
    public bool NeedsCheck => Versions is null && Volatile.Read(ref _checked) == Unchecked;

    /// <summary>
    /// Whether this stamp belongs to one read: decoded from bytes, or copied by <see cref="ForRead"/>. Only such a stamp
    /// keeps the outcome of its check; one kept by reference in a store is shared by every later read.
    /// </summary>
    public bool OwnedByRead { get; init; }

    /// <summary>Records a store's comparison of the tokens, on a stamp that belongs to one read.</summary>
    public void Checked(bool current)
    {
        if (OwnedByRead)
        {
            Volatile.Write(ref _checked, current ? Current : Invalidated);
        }
    }

    /// <summary>
    /// This stamp, or for one with tokens only that a store keeps by reference (a backend that holds objects but keeps
    /// its tag records as entries), a copy for this read to check: the stored one must never remember a check.
    /// </summary>
    public TagStamp ForRead() => Versions is null && !OwnedByRead ? new TagStamp(Names, Tokens) { OwnedByRead = true } : this;

    /// <summary>The same tags and versions in a stamp no read has checked: what a write of an entry read earlier carries.</summary>
    public TagStamp Unshared() => new(Names, Tokens, Versions);

    /// <summary>
    /// The part of this stamp that covers <paramref name="names"/> (each one of its tags): a batch observes the union
    /// of its entries' tags once, and each entry carries its own.
    /// </summary>
    public TagStamp Subset(string[] names)
    {
        var tokens = new long[names.Length];
        var blocks = Versions is { } all ? all.Length / Names.Length : 0;
        var versions = blocks > 0 ? new TagVersion[names.Length * blocks] : null;
        for (var i = 0; i < names.Length; i++)
        {
            var at = Array.IndexOf(Names, names[i]);
            tokens[i] = Tokens[at];
            for (var b = 0; b < blocks; b++)
            {
                versions![b * names.Length + i] = Versions![b * Names.Length + at];
            }
        }

        bool[]? created = null;
        if (Created is { } made)
        {
            created = new bool[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                created[i] = made[Array.IndexOf(Names, names[i])];
            }
        }

        return new TagStamp(names, tokens, versions, created);
    }

    /// <summary>
    /// Whether <paramref name="other"/> has exactly these tags, each at the same token: no tag moved between the two
    /// observations. A check remembered by a stamp read earlier cannot tell that: it was made before the other one.
    /// </summary>
    public bool SameTokensAs(TagStamp other)
    {
        if (other.Names.Length != Names.Length)
        {
            return false;
        }

        for (var i = 0; i < Names.Length; i++)
        {
            var at = Array.IndexOf(other.Names, Names[i]);
            if (at < 0 || other.Tokens[at] != Tokens[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The same tags and tokens with this store's version objects: an in-process copy of an entry read from elsewhere.</summary>
    public TagStamp WithVersions(TagVersion[] versions) => new(Names, Tokens, versions, Created);
}
