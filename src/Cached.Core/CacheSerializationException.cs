namespace Cached;

/// <summary>
/// Thrown when a value cannot be turned into a payload, or a stored payload cannot be read back as the requested type.
/// </summary>
public sealed class CacheSerializationException : CacheException
{
    /// <summary>Creates the exception for <paramref name="key"/> and <paramref name="valueType"/>.</summary>
    public CacheSerializationException(string key, Type valueType, string message, Exception? innerException = null)
        : this(key, valueType, message, innerException, innerException is NotSupportedException)
    {
    }

    /// <summary>Creates the exception, saying whether the type itself is refused whatever the inner exception.</summary>
    internal CacheSerializationException(string key, Type valueType, string message, Exception? innerException, bool isUnsupportedType)
        : base($"Key '{key}', type {valueType}: {message}", innerException)
    {
        Key = key;
        ValueType = valueType;
        IsUnsupportedType = isUnsupportedType;
    }

    /// <summary>The key whose value could not be written or read.</summary>
    public string Key { get; }

    /// <summary>The type the value was written as or asked for.</summary>
    public Type ValueType { get; }

    /// <summary>
    /// True when the serializer refused the type itself (it threw <see cref="NotSupportedException"/>, as
    /// <see cref="Serializers.StringSerializer"/> does for a record): every value of <see cref="ValueType"/> fails
    /// alike, so trying again is pointless. A cached method reports it once and then runs uncached on that cache.
    /// </summary>
    public bool IsUnsupportedType { get; }
}
