using System.Buffers;
using System.Globalization;
using System.Text;

namespace Cached.Serializers;

/// <summary>
/// Stores the invariant-culture text of a value, as pycached's <c>StringSerializer</c> stores <c>str(value)</c>.
/// Reads return the text; reading as a primitive type (<see cref="int"/>, <see cref="double"/>,
/// <see cref="bool"/>, ...) parses it with the invariant culture.
/// </summary>
/// <remarks>
/// <c>null</c> is written as the empty string. Formattable values use <see cref="IFormattable.ToString(string, IFormatProvider)"/>
/// with <see cref="CultureInfo.InvariantCulture"/>, so <c>1.5</c> is stored as <c>"1.5"</c> on every machine.
/// </remarks>
public sealed class StringSerializer : ISerializer
{
    /// <inheritdoc />
    public bool StoresReferences => false;

    /// <inheritdoc />
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var text = value switch
        {
            null => string.Empty,
            string s => s,
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? string.Empty,
        };
        Encoding.UTF8.GetBytes(text, destination);
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        if (typeof(T) == typeof(string) || typeof(T) == typeof(object))
        {
            return (T)(object)text;
        }

        var underlying = Nullable.GetUnderlyingType(typeof(T));
        if (underlying is not null && text.Length == 0)
        {
            // null is written as the empty string.
            return default;
        }

        var target = underlying ?? typeof(T);
        if (target.IsEnum)
        {
            return (T)Enum.Parse(target, text, ignoreCase: false);
        }

        if (typeof(IConvertible).IsAssignableFrom(target))
        {
            return (T)Convert.ChangeType(text, target, CultureInfo.InvariantCulture);
        }

        throw new NotSupportedException($"StringSerializer reads text only as a string or a primitive type, not as {typeof(T)}.");
    }
}
