using System.Buffers;
using System.Text;

namespace Cached.Serializers;

/// <summary>
/// Stores a value as UTF-8 text that reads back exactly, as pycached's <c>StringSerializer</c> stores
/// <c>str(value)</c>: a string as its own bytes, a number, <see cref="bool"/>, <see cref="Guid"/>, date, time, enum,
/// <see cref="Uri"/> or <see cref="Version"/> in its invariant round-trip form, and any other
/// <see cref="IParsable{TSelf}"/> type through its <c>ToString</c> and <c>Parse</c>. Other types are refused.
/// </summary>
/// <remarks>
/// <para>
/// Formats: <see cref="DateTime"/>, <see cref="DateTimeOffset"/>, <see cref="DateOnly"/> and <see cref="TimeOnly"/>
/// as <c>"O"</c> (every tick; a <see cref="DateTime"/> keeps its <see cref="DateTimeKind"/>), <see cref="TimeSpan"/>
/// as <c>"c"</c>, <see cref="double"/>, <see cref="float"/> and <see cref="Half"/> as <c>"R"</c> (NaN, infinities and
/// <c>-0</c> included), a <see cref="decimal"/> with its scale (<c>1.50</c>), an enum by its names
/// (<c>"Read, Write"</c> for flags), <see cref="bool"/> as <c>True</c>/<c>False</c>. Reading a value as
/// <see cref="string"/> (or <see cref="object"/>) returns its text; reading it as another type parses the text with
/// the invariant culture, so <c>"1.5"</c> written by Python reads as a <see cref="double"/> too, as do its
/// <c>inf</c>, <c>-inf</c> and <c>nan</c>.
/// </para>
/// <para>
/// <c>null</c> is the text <c>None</c>, as Python writes <c>str(None)</c>, and the text <c>None</c> reads back as
/// <c>null</c> for every type that can hold it (<see cref="string"/>, <see cref="object"/>, <c>int?</c>, ...), whoever
/// wrote it. So a value whose text is <c>None</c> (the string <c>"None"</c>) cannot be told from <c>null</c>: it is
/// refused, that value only, with an <see cref="ArgumentException"/>, and a cached method simply does not cache it. A
/// type that cannot hold <c>null</c> reads <c>None</c> as the value it parses to (an enum member named None) or fails
/// to read. A stored <c>null</c> stays distinct from <c>""</c> (zero bytes). A string that is not valid UTF-16 (a lone
/// surrogate) cannot be stored as UTF-8 and is refused, not altered.
/// </para>
/// <para>
/// A type it cannot carry (a record, a class, a collection, <see cref="object"/> holding anything but a string) is
/// refused for every value with a <see cref="NotSupportedException"/> naming the type, which a cache reports as a
/// <see cref="CacheSerializationException"/> whose <see cref="CacheSerializationException.IsUnsupportedType"/> is
/// true. The decision is made once per type. Under NativeAOT only the built-in types above are carried.
/// </para>
/// </remarks>
public sealed class StringSerializer : ISerializer
{
    // Throws rather than replacing what UTF-8 cannot hold, so text is stored exactly or not at all.
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The payload of <c>null</c>, <see cref="StringCodec.NoneText"/> in UTF-8.</summary>
    private static ReadOnlySpan<byte> NoneUtf8 => "None"u8;

    /// <inheritdoc />
    public bool StoresReferences => false;

    /// <inheritdoc />
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        s_utf8.GetBytes(StringCodec<T>.Format(value) ?? StringCodec.NoneText, destination);
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
        => IsNone(payload) ? StringCodec<T>.None() : StringCodec<T>.Parse(s_utf8.GetString(payload));

    private static bool IsNone(ReadOnlySequence<byte> payload)
    {
        if (payload.Length != NoneUtf8.Length)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[NoneUtf8.Length];
        payload.CopyTo(bytes);
        return bytes.SequenceEqual(NoneUtf8);
    }
}
