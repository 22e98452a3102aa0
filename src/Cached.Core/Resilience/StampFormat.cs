using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Cached.Tags;

namespace Cached.Resilience;

/// <summary>
/// How a stamped entry is stored as bytes: a 30-byte header (4 bytes of magic, a version, flags (1: a fail-safe
/// throttle, 2: tagged), the fresh-until, stale-until and refresh-at instants as little-endian Unix milliseconds), for
/// a tagged entry its tags (a 16-bit count, then per tag a 16-bit length, the UTF-8 name and the 64-bit version token),
/// then the serializer's own payload of the value.
/// </summary>
/// <remarks>
/// The magic starts with a zero byte followed by bytes that are not valid UTF-8, so no JSON or text payload and no
/// single MessagePack value can begin with it: an unstamped payload is never taken for a stamped one.
/// </remarks>
internal static class StampFormat
{
    public const int HeaderLength = 30;
    private const byte ThrottledFlag = 1;
    private const byte TaggedFlag = 2;
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => [0x00, 0xCA, 0xC4, 0xED];

    /// <summary>Writes the header of a value stamped with <paramref name="freshUntil"/> and <paramref name="staleUntil"/>, and its tags.</summary>
    public static void WriteHeader(IBufferWriter<byte> destination, long freshUntil, long staleUntil, long refreshAt, bool throttled, TagStamp? tags = null)
    {
        var span = destination.GetSpan(HeaderLength);
        Magic.CopyTo(span);
        span[4] = Version;
        span[5] = (byte)((throttled ? ThrottledFlag : 0) | (tags is null ? 0 : TaggedFlag));
        BinaryPrimitives.WriteInt64LittleEndian(span[6..], freshUntil);
        BinaryPrimitives.WriteInt64LittleEndian(span[14..], staleUntil);
        BinaryPrimitives.WriteInt64LittleEndian(span[22..], refreshAt);
        destination.Advance(HeaderLength);
        if (tags is not null)
        {
            WriteTags(destination, tags);
        }
    }

    /// <summary>Reads the header of <paramref name="payload"/>, if it has one; <paramref name="value"/> is what follows it.</summary>
    public static bool TryReadHeader(ReadOnlySequence<byte> payload, out long freshUntil, out long staleUntil, out long refreshAt, out bool throttled, out ReadOnlySequence<byte> value)
        => TryReadHeader(payload, out freshUntil, out staleUntil, out refreshAt, out throttled, out _, out value);

    /// <summary>Reads the header of <paramref name="payload"/> and its tags, if it has them; <paramref name="value"/> is what follows.</summary>
    public static bool TryReadHeader(ReadOnlySequence<byte> payload, out long freshUntil, out long staleUntil, out long refreshAt, out bool throttled, out TagStamp? tags, out ReadOnlySequence<byte> value)
    {
        freshUntil = staleUntil = refreshAt = 0;
        throttled = false;
        tags = null;
        value = payload;
        if (payload.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        payload.Slice(0, HeaderLength).CopyTo(header);
        if (!header[..4].SequenceEqual(Magic) || header[4] != Version)
        {
            return false;
        }

        var rest = payload.Slice(HeaderLength);
        if ((header[5] & TaggedFlag) != 0 && !TryReadTags(ref rest, out tags))
        {
            return false;
        }

        throttled = (header[5] & ThrottledFlag) != 0;
        freshUntil = BinaryPrimitives.ReadInt64LittleEndian(header[6..]);
        staleUntil = BinaryPrimitives.ReadInt64LittleEndian(header[14..]);
        refreshAt = BinaryPrimitives.ReadInt64LittleEndian(header[22..]);
        value = rest;
        return true;
    }

    /// <summary>
    /// For plain reads: when <paramref name="payload"/> is a stamped entry (a reference or bytes), its fresh-until
    /// instant, its tags and the payload of the value alone.
    /// </summary>
    public static bool TryUnwrap(object? payload, out long freshUntil, out TagStamp? tags, out object? value)
    {
        // Bytes first, a remote backend's every payload: an exact type test, where the interface test costs a call.
        switch (payload)
        {
            case byte[] bytes:
                if (bytes.Length >= HeaderLength && bytes[0] == 0x00)
                {
                    return TryUnwrap(new ReadOnlyMemory<byte>(bytes), out freshUntil, out tags, out value);
                }

                goto default;
            case IStamped stamped:
                freshUntil = stamped.FreshUntil;
                tags = stamped.Tags?.ForRead();
                value = stamped.BoxedValue;
                return true;
            case ReadOnlyMemory<byte> memory when memory.Length >= HeaderLength && memory.Span[0] == 0x00:
                if (TryReadHeader(new ReadOnlySequence<byte>(memory), out freshUntil, out _, out _, out _, out tags, out var rest))
                {
                    value = memory[(int)(memory.Length - rest.Length)..];
                    return true;
                }

                goto default;
            default:
                freshUntil = 0;
                tags = null;
                value = payload;
                return false;
        }
    }

    /// <summary>Whether <paramref name="payload"/> is a tagged stamped entry (a reference or bytes), without reading its tags.</summary>
    public static bool IsTagged(object? payload) => payload switch
    {
        byte[] bytes => IsTaggedHeader(bytes),
        IStamped stamped => stamped.Tags is not null,
        ReadOnlyMemory<byte> memory => IsTaggedHeader(memory.Span),
        _ => false,
    };

    private static bool IsTaggedHeader(ReadOnlySpan<byte> bytes)
        => bytes.Length >= HeaderLength && bytes[..4].SequenceEqual(Magic) && bytes[4] == Version && (bytes[5] & TaggedFlag) != 0;

    private static void WriteTags(IBufferWriter<byte> destination, TagStamp tags)
    {
        var count = destination.GetSpan(2);
        BinaryPrimitives.WriteUInt16LittleEndian(count, checked((ushort)tags.Names.Length));
        destination.Advance(2);
        for (var i = 0; i < tags.Names.Length; i++)
        {
            var length = Encoding.UTF8.GetByteCount(tags.Names[i]);
            var span = destination.GetSpan(2 + length + 8);
            BinaryPrimitives.WriteUInt16LittleEndian(span, checked((ushort)length));
            Encoding.UTF8.GetBytes(tags.Names[i], span[2..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[(2 + length)..], tags.Tokens[i]);
            destination.Advance(2 + length + 8);
        }
    }

    private static bool TryReadTags(ref ReadOnlySequence<byte> rest, out TagStamp? tags)
    {
        tags = null;
        var reader = new SequenceReader<byte>(rest);
        if (!reader.TryReadLittleEndian(out short rawCount))
        {
            return false;
        }

        var count = (ushort)rawCount;
        var names = new string[count];
        var tokens = new long[count];
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryReadLittleEndian(out short rawLength) || reader.Remaining < (ushort)rawLength + 8)
            {
                return false;
            }

            var name = reader.Sequence.Slice(reader.Position, (ushort)rawLength);
            names[i] = Encoding.UTF8.GetString(name);
            reader.Advance((ushort)rawLength);
            reader.TryReadLittleEndian(out tokens[i]);
        }

        rest = rest.Slice(reader.Position);
        tags = new TagStamp(names, tokens) { OwnedByRead = true };
        return true;
    }
}
