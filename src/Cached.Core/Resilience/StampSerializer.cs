using System.Buffers;
using Cached.Serializers;

namespace Cached.Resilience;

/// <summary>
/// Carries <see cref="Stamped{T}"/> through a cache's own serializer: bytes get <see cref="StampFormat"/>'s header
/// before the inner payload; a backend that keeps references keeps the <see cref="Stamped{T}"/> itself. An entry
/// stored without a stamp reads as <see cref="Stamped{T}.Unstamped"/>, so resilient reads accept every plain writer.
/// </summary>
internal sealed class StampSerializer<T>(ISerializer inner, TimeProvider clock, Tags.TagStore? localTags = null, TokensBeside? beside = null)
    : ISerializer, IPayloadAdopter, IDecodeGate
{
    private readonly Tags.TagStore? _localTags = localTags;
    private readonly TokensBeside? _beside = beside;
    private FreshReads? _freshOnly;

    public ISerializer Inner { get; } = inner;

    /// <summary>The stamp serializer over <paramref name="cache"/>'s serializer on <paramref name="clock"/>, made again only when either changes.</summary>
    public static StampSerializer<T> For(ref StampSerializer<T>? memo, ICache cache, TimeProvider clock)
    {
        var serializer = cache.Serializer;
        // An in-process tag store checks tags read from bytes at once, for the cost of a lookup, so that the read's hit
        // or miss is counted right; a remote one is checked by the reader, with the tokens it read beside the entry.
        // Only versions held in this process: a two-level store is not remote to its readers, but its L2 records are.
        var tags = cache is Tags.ITagHost { Tags: Tags.MemoryTagStore local } ? local : null;
        var stamps = Volatile.Read(ref memo);
        if (stamps is null || !ReferenceEquals(stamps.Inner, serializer) || !ReferenceEquals(stamps.Clock, clock) || !ReferenceEquals(stamps._localTags, tags))
        {
            stamps = new StampSerializer<T>(serializer, clock, tags);
            Volatile.Write(ref memo, stamps);
        }

        return stamps;
    }

    public TimeProvider Clock { get; } = clock;

    /// <summary>The tag tokens being read beside the entry, which an async read awaits before it decodes.</summary>
    public Task? Gate => _beside?.Tokens;

    /// <summary>
    /// This serializer for one read whose tag tokens a remote store is reading beside the entry (sent first, on Redis in
    /// the same round trip): the stamp is checked with them as it is decoded, so that a read of an entry whose tag was
    /// invalidated counts as a miss for plugins and metrics, as it does on an in-process store.
    /// </summary>
    public StampSerializer<T> CheckingWith(Tags.TagStore store, string[] names, Task<long[]> tokens)
        => new(Inner, Clock, _localTags, new TokensBeside(store, names, tokens));

    public bool StoresReferences => Inner.StoresReferences;

    public void Serialize<TValue>(IBufferWriter<byte> destination, TValue value)
    {
        if (value is Stamped<T> stamped)
        {
            StampFormat.WriteHeader(destination, stamped.FreshUntil, stamped.StaleUntil, stamped.RefreshAt, stamped.Throttled, stamped.Tags);
            Inner.Serialize(destination, stamped.Value);
            return;
        }

        Inner.Serialize(destination, value);
    }

    public TValue? Deserialize<TValue>(ReadOnlySequence<byte> payload)
    {
        if (typeof(TValue) != typeof(Stamped<T>))
        {
            return Inner.Deserialize<TValue>(payload);
        }

        // Tags read from bytes carry tokens only: the cache that read them checks them against its tag store.
        var stamped = StampFormat.TryReadHeader(payload, out var freshUntil, out var staleUntil, out var refreshAt, out var throttled, out var tags, out var value)
            ? new Stamped<T>(Inner.Deserialize<T>(value)!, freshUntil, staleUntil, refreshAt, Clock, throttled, tags)
            : Stamped<T>.Unstamped(Inner.Deserialize<T>(payload)!, Clock);
        if (stamped.Tags is { NeedsCheck: true } read)
        {
            if (_localTags is not null)
            {
                _localTags.Check(read);
            }
            else if (_beside is { } beside)
            {
                CheckBeside(read, beside);
            }
        }

        return (TValue)(object)stamped;
    }

    /// <summary>
    /// Checks a stamp with the tokens read beside it. An async read has awaited them already (<see cref="Gate"/>); a sync
    /// read waits here for the reply that was sent before the entry's, as its caller would right after. A failed token
    /// read leaves the stamp unchecked: the caller meets that failure where it checks.
    /// </summary>
    private static void CheckBeside(Tags.TagStamp read, TokensBeside beside)
    {
        try
        {
            beside.Store.Check(read, beside.Names, beside.Tokens.GetAwaiter().GetResult());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unchecked: CheckTags reads the same task and handles its failure.
        }
    }

    /// <inheritdoc />
    public bool ReadsStale => true;

    /// <inheritdoc />
    public ISerializer FreshOnly => _freshOnly ??= new FreshReads(this);

    /// <summary>A plain value kept by reference reads as unstamped.</summary>
    public bool TryAdopt(object? payload, out object? adopted)
    {
        switch (payload)
        {
            case Stamped<T>:
                adopted = payload;
                return true;
            case T value:
                adopted = Stamped<T>.Unstamped(value, Clock);
                return true;
            case null when default(T) is null:
                adopted = Stamped<T>.Unstamped(default!, Clock);
                return true;
            default:
                adopted = null;
                return false;
        }
    }
}

/// <summary>A serializer that turns a reference kept by an in-process backend into the type it reads.</summary>
internal interface IPayloadAdopter
{
    bool TryAdopt(object? payload, out object? adopted);

    /// <summary>
    /// Whether a stamped entry reads as found whatever its age (the reader judges it: a resilient call's last value),
    /// rather than as a plain read answers it, a miss once it is stale or a tag of it was invalidated.
    /// </summary>
    bool ReadsStale { get; }

    /// <summary>
    /// This serializer for a read that answers stamped entries as a plain read does and still adopts a plain value: a
    /// two-level cache's first look at L1, after which a stale copy sends the read on to L2 (<see cref="ReadsStale"/>
    /// false).
    /// </summary>
    ISerializer FreshOnly { get; }
}

/// <summary>A stamp serializer's <see cref="IPayloadAdopter.FreshOnly"/> view: the same encoding and adoption, stale stamps a miss.</summary>
internal sealed class FreshReads(IPayloadAdopter stamps) : ISerializer, IPayloadAdopter
{
    private readonly ISerializer _serializer = (ISerializer)stamps;

    public bool StoresReferences => _serializer.StoresReferences;

    public bool ReadsStale => false;

    public ISerializer FreshOnly => this;

    public void Serialize<TValue>(IBufferWriter<byte> destination, TValue value) => _serializer.Serialize(destination, value);

    public TValue? Deserialize<TValue>(ReadOnlySequence<byte> payload) => _serializer.Deserialize<TValue>(payload);

    public bool TryAdopt(object? payload, out object? adopted) => stamps.TryAdopt(payload, out adopted);
}

/// <summary>The tag tokens a read-through call is reading beside its entry, from a remote tag store.</summary>
internal sealed record TokensBeside(Tags.TagStore Store, string[] Names, Task<long[]> Tokens);

/// <summary>A serializer whose decoding should wait for <see cref="Gate"/> (awaited, never blocked on, by an async read).</summary>
internal interface IDecodeGate
{
    Task? Gate { get; }
}
