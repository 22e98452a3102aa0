using System.Buffers;

namespace Cached.Runtime;

/// <summary>
/// One reusable buffer per thread for serializing payloads, so a write allocates only the array the backend keeps.
/// </summary>
internal static class PayloadBuffer
{
    // Buffers that grew for a huge value are dropped rather than kept alive for the thread's lifetime.
    private const int MaxRetainedCapacity = 1024 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static ArrayBufferWriter<byte> Rent()
    {
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(256);
        t_buffer = null;
        return buffer;
    }

    public static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= MaxRetainedCapacity)
        {
            buffer.ResetWrittenCount();
            t_buffer = buffer;
        }
    }
}
