using System.Buffers;
using System.Buffers.Binary;

namespace Cached.Resilience;

/// <summary>
/// How a stamped entry is stored as bytes: a 30-byte header (4 bytes of magic, a version, flags (1: a fail-safe throttle), the fresh-until,
/// stale-until and refresh-at instants as little-endian Unix milliseconds) followed by the serializer's own payload of the value.
/// </summary>
/// <remarks>
/// The magic starts with a zero byte followed by bytes that are not valid UTF-8, so no JSON or text payload and no
/// single MessagePack value can begin with it: an unstamped payload is never taken for a stamped one.
/// </remarks>
internal static class StampFormat
{
    public const int HeaderLength = 30;
    private const byte ThrottledFlag = 1;
    private const byte Version = 1;
    private static ReadOnlySpan<byte> Magic => [0x00, 0xCA, 0xC4, 0xED];

    /// <summary>Writes the header of a value stamped with <paramref name="freshUntil"/> and <paramref name="staleUntil"/>.</summary>
    public static void WriteHeader(IBufferWriter<byte> destination, long freshUntil, long staleUntil, long refreshAt, bool throttled)
    {
        var span = destination.GetSpan(HeaderLength);
        Magic.CopyTo(span);
        span[4] = Version;
        span[5] = throttled ? ThrottledFlag : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[6..], freshUntil);
        BinaryPrimitives.WriteInt64LittleEndian(span[14..], staleUntil);
        BinaryPrimitives.WriteInt64LittleEndian(span[22..], refreshAt);
        destination.Advance(HeaderLength);
    }

    /// <summary>Reads the header of <paramref name="payload"/>, if it has one; <paramref name="value"/> is what follows it.</summary>
    public static bool TryReadHeader(ReadOnlySequence<byte> payload, out long freshUntil, out long staleUntil, out long refreshAt, out bool throttled, out ReadOnlySequence<byte> value)
    {
        freshUntil = staleUntil = refreshAt = 0;
        throttled = false;
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

        throttled = (header[5] & ThrottledFlag) != 0;
        freshUntil = BinaryPrimitives.ReadInt64LittleEndian(header[6..]);
        staleUntil = BinaryPrimitives.ReadInt64LittleEndian(header[14..]);
        refreshAt = BinaryPrimitives.ReadInt64LittleEndian(header[22..]);
        value = payload.Slice(HeaderLength);
        return true;
    }

    /// <summary>
    /// For plain reads: when <paramref name="payload"/> is a stamped entry (a reference or bytes), its fresh-until
    /// instant and the payload of the value alone.
    /// </summary>
    public static bool TryUnwrap(object? payload, out long freshUntil, out object? value)
    {
        switch (payload)
        {
            case IStamped stamped:
                freshUntil = stamped.FreshUntil;
                value = stamped.BoxedValue;
                return true;
            case byte[] bytes when bytes.Length >= HeaderLength && bytes[0] == 0x00 && TryReadHeader(new ReadOnlySequence<byte>(bytes), out freshUntil, out _, out _, out _, out _):
                value = new ReadOnlyMemory<byte>(bytes, HeaderLength, bytes.Length - HeaderLength);
                return true;
            case ReadOnlyMemory<byte> memory when memory.Length >= HeaderLength && memory.Span[0] == 0x00 && TryReadHeader(new ReadOnlySequence<byte>(memory), out freshUntil, out _, out _, out _, out _):
                value = memory[HeaderLength..];
                return true;
            default:
                freshUntil = 0;
                value = payload;
                return false;
        }
    }
}
