using System.Buffers;
using System.Text;

namespace Cached.Serializers;

/// <summary>
/// A serializer made of two functions, pycached's <c>dumps_fn</c>/<c>loads_fn</c>: <c>dumps</c> turns a
/// <typeparamref name="TValue"/> into text, <c>loads</c> turns the text back. Pass one to a single command to
/// override the cache's serializer for that call, or use it as a cache's serializer.
/// </summary>
/// <typeparam name="TValue">The type the two functions handle. Other types are refused with a clear error.</typeparam>
public sealed class FunctionSerializer<TValue> : ISerializer
{
    private readonly Func<TValue, string> _dumps;
    private readonly Func<string, TValue> _loads;

    /// <summary>Creates a serializer from its two functions.</summary>
    public FunctionSerializer(Func<TValue, string> dumps, Func<string, TValue> loads)
    {
        ArgumentNullException.ThrowIfNull(dumps);
        ArgumentNullException.ThrowIfNull(loads);
        _dumps = dumps;
        _loads = loads;
    }

    /// <inheritdoc />
    public bool StoresReferences => false;

    /// <inheritdoc />
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var text = value switch
        {
            TValue typed => _dumps(typed),
            null => _dumps(default!),
            _ => throw new NotSupportedException($"This FunctionSerializer handles {typeof(TValue)}, not {value.GetType()}."),
        };
        Encoding.UTF8.GetBytes(text, destination);
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        var value = _loads(Encoding.UTF8.GetString(payload));
        return value switch
        {
            T typed => typed,
            null => default,
            _ => throw new NotSupportedException($"This FunctionSerializer reads {typeof(TValue)}, which is not a {typeof(T)}."),
        };
    }
}
