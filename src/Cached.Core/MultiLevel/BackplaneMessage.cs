using System.Buffers.Binary;
using System.Text;

namespace Cached;

/// <summary>What changed, in a <see cref="BackplaneMessage"/>.</summary>
public enum BackplaneAction : byte
{
    /// <summary>The keys were written (<c>Set</c>, <c>Add</c>, <c>MultiSet</c>, <c>Increment</c>, a fill).</summary>
    Set = 1,

    /// <summary>The keys were deleted.</summary>
    Delete = 2,

    /// <summary>The keys' time to live changed.</summary>
    Expire = 3,

    /// <summary>The namespace was cleared; the message carries no keys.</summary>
    Clear = 4,

    /// <summary>Entries carrying the message's keys as tags were invalidated.</summary>
    Tags = 5,
}

/// <summary>
/// One change, as a backplane carries it: who sent it, what happened, to which keys of which namespace, and when. Its
/// wire form (<see cref="ToBytes"/>) is compact and versioned, so that a node that meets a version it does not know
/// treats the message as lost rather than misreading it.
/// </summary>
public sealed class BackplaneMessage
{
    /// <summary>The version of the wire form <see cref="ToBytes"/> writes.</summary>
    public const byte FormatVersion = 1;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Creates a message.</summary>
    /// <param name="senderId">The sending node (<see cref="MultiLevelCache.InstanceId"/>); a node skips its own.</param>
    /// <param name="action">What changed.</param>
    /// <param name="namespace">The namespace the keys were given in; <c>null</c> for the cache's own.</param>
    /// <param name="keys">The keys as given to the command, before the namespace is applied; none for <see cref="BackplaneAction.Clear"/>.</param>
    /// <param name="timestamp">When the change was made.</param>
    /// <exception cref="ArgumentNullException"><paramref name="keys"/> or one of them is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="action"/> is not a known action.</exception>
    public BackplaneMessage(Guid senderId, BackplaneAction action, string? @namespace, IReadOnlyList<string> keys, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (!Enum.IsDefined(action))
        {
            throw new ArgumentOutOfRangeException(nameof(action), action, "Not a backplane action.");
        }

        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"Key {i} is null.");
            }
        }

        SenderId = senderId;
        Action = action;
        Namespace = @namespace;
        Keys = keys;
        Timestamp = timestamp;
    }

    /// <summary>The sending node.</summary>
    public Guid SenderId { get; }

    /// <summary>What changed.</summary>
    public BackplaneAction Action { get; }

    /// <summary>The namespace the keys were given in; <c>null</c> for the cache's own.</summary>
    public string? Namespace { get; }

    /// <summary>The keys, as given to the command.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>When the change was made, to the millisecond.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>
    /// A change of keys that names none (a <see cref="BackplaneAction.Clear"/> names none and still clears): nothing to
    /// apply. The Redis backplane's probe after a reconnect is one, published for its own sake.
    /// </summary>
    internal bool ChangesNothing => Action != BackplaneAction.Clear && Keys.Count == 0;

    /// <summary>
    /// The wire form: version (1 byte), action (1), timestamp in Unix milliseconds (8, big-endian), sender (16), then
    /// the namespace and each key as a length-prefixed UTF-8 string (a 7-bit encoded length, the namespace's length
    /// shifted by one so that 0 means none), the key count coming first.
    /// </summary>
    public byte[] ToBytes()
    {
        var size = 1 + 1 + 8 + 16 + LengthOf(Namespace, 1) + VarIntLength((uint)Keys.Count);
        foreach (var key in Keys)
        {
            size += LengthOf(key, 0);
        }

        var buffer = new byte[size];
        buffer[0] = FormatVersion;
        buffer[1] = (byte)Action;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(2), Timestamp.ToUnixTimeMilliseconds());
        SenderId.TryWriteBytes(buffer.AsSpan(10, 16));
        var at = 26;
        at += WriteVarInt(buffer.AsSpan(at), Namespace is null ? 0u : (uint)Encoding.UTF8.GetByteCount(Namespace) + 1);
        at += Namespace is null ? 0 : Encoding.UTF8.GetBytes(Namespace, buffer.AsSpan(at));
        at += WriteVarInt(buffer.AsSpan(at), (uint)Keys.Count);
        foreach (var key in Keys)
        {
            at += WriteVarInt(buffer.AsSpan(at), (uint)Encoding.UTF8.GetByteCount(key));
            at += Encoding.UTF8.GetBytes(key, buffer.AsSpan(at));
        }

        return buffer;
    }

    /// <summary>Reads a message's wire form; <c>false</c> for another version or a damaged message.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BackplaneMessage? message)
    {
        message = null;
        if (bytes.Length < 26 || bytes[0] != FormatVersion || !Enum.IsDefined((BackplaneAction)bytes[1]))
        {
            return false;
        }

        var action = (BackplaneAction)bytes[1];
        var milliseconds = BinaryPrimitives.ReadInt64BigEndian(bytes[2..]);
        if (milliseconds < -62_135_596_800_000L || milliseconds > 253_402_300_799_999L)
        {
            return false;
        }

        var sender = new Guid(bytes.Slice(10, 16));
        var rest = bytes[26..];
        if (!TryReadVarInt(ref rest, out var namespaceLength))
        {
            return false;
        }

        string? @namespace = null;
        if (namespaceLength > 0 && !TryReadString(ref rest, namespaceLength - 1, out @namespace))
        {
            return false;
        }

        // Every key takes at least its length byte, which bounds what a damaged count can make us allocate.
        if (!TryReadVarInt(ref rest, out var count) || count > (uint)rest.Length)
        {
            return false;
        }

        var keys = new string[count];
        for (var i = 0; i < keys.Length; i++)
        {
            if (!TryReadVarInt(ref rest, out var length) || !TryReadString(ref rest, length, out keys[i]!))
            {
                return false;
            }
        }

        if (!rest.IsEmpty)
        {
            return false;
        }

        message = new BackplaneMessage(sender, action, @namespace, keys, DateTimeOffset.FromUnixTimeMilliseconds(milliseconds));
        return true;
    }

    /// <inheritdoc />
    public override string ToString()
        => $"{Action} of {Keys.Count} key(s) in namespace '{Namespace ?? "(default)"}' from {SenderId} at {Timestamp:O}";

    /// <summary>A string's length on the wire; <paramref name="shift"/> is what its length prefix adds (1 for the namespace).</summary>
    private static int LengthOf(string? text, uint shift)
    {
        if (text is null)
        {
            return 1;
        }

        var bytes = Encoding.UTF8.GetByteCount(text);
        return VarIntLength((uint)bytes + shift) + bytes;
    }

    private static int VarIntLength(uint value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    private static int WriteVarInt(Span<byte> destination, uint value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            destination[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[at++] = (byte)value;
        return at;
    }

    private static bool TryReadVarInt(ref ReadOnlySpan<byte> source, out uint value)
    {
        value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (source.IsEmpty)
            {
                return false;
            }

            var next = source[0];
            source = source[1..];
            value |= (uint)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryReadString(ref ReadOnlySpan<byte> source, uint length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? text)
    {
        text = null;
        if (length > (uint)source.Length)
        {
            return false;
        }

        try
        {
            text = s_strictUtf8.GetString(source[..(int)length]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        source = source[(int)length..];
        return true;
    }
}
