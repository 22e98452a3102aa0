using System.Buffers;
using System.Text;

namespace Cached.Serializers;

/// <summary>
/// Stores values as they are: the default of <see cref="SimpleMemoryCache"/>, where a read returns the very object
/// that was stored. On a backend that needs bytes it passes strings (UTF-8) and byte arrays through unchanged and
/// refuses anything else, as pycached's <c>NullSerializer</c> does.
/// </summary>
public sealed class NullSerializer : ISerializer
{
    // Throws rather than replacing what UTF-8 cannot hold (a lone surrogate, bytes that are not UTF-8), so a string is
    // stored and read exactly or not at all, as StringSerializer does.
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>One shared instance; the serializer has no state.</summary>
    public static NullSerializer Instance { get; } = new();

    /// <inheritdoc />
    public bool StoresReferences => true;

    /// <inheritdoc />
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        switch (value)
        {
            case string text:
                s_utf8.GetBytes(text, destination);
                break;
            case byte[] bytes:
                destination.Write(bytes);
                break;
            case ReadOnlyMemory<byte> memory:
                destination.Write(memory.Span);
                break;
            case null:
                // Not a NotSupportedException: the type is fine, this one value is not (see ISerializer).
                throw new ArgumentNullException(nameof(value), "NullSerializer cannot write null to a backend that stores bytes; use StringSerializer or JsonSerializer to store null.");
            default:
                throw new NotSupportedException(
                    $"NullSerializer can only write strings, byte arrays and ReadOnlyMemory<byte> to a backend that stores bytes, not {value.GetType()}; use JsonSerializer for other values.");
        }
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        if (typeof(T) == typeof(byte[]))
        {
            return (T)(object)payload.ToArray();
        }

        // Written as its bytes above, so read back as them: a value it takes is one it gives back.
        if (typeof(T) == typeof(ReadOnlyMemory<byte>))
        {
            return (T)(object)new ReadOnlyMemory<byte>(payload.ToArray());
        }

        if (typeof(T) == typeof(string) || typeof(T) == typeof(object))
        {
            return (T)(object)s_utf8.GetString(payload);
        }

        throw new NotSupportedException($"NullSerializer reads payloads only as string, byte[] or ReadOnlyMemory<byte>, not as {typeof(T)}.");
    }
}
