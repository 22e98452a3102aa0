using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using MessagePack;
using MessagePack.Resolvers;

namespace Cached.Serializers;

/// <summary>
/// Stores values as MessagePack with MessagePack-CSharp: compact binary for any record or POCO, without attributes,
/// and without letting stored bytes choose a type. Give it options for LZ4 compression or your own resolvers.
/// </summary>
/// <remarks>
/// <para>
/// The default options (<see cref="DefaultOptions"/>) resolve formatters with
/// <see cref="ContractlessStandardResolver"/>, so types need no <c>[MessagePackObject]</c>: members are written as a
/// map keyed by their names, and records and classes are rebuilt through their constructors. Types must be public.
/// They read with <see cref="MessagePackSecurity.UntrustedData"/>, which bounds the nesting depth and uses
/// collision-resistant hashes for dictionaries and sets, because a cache's bytes may be written by any process that
/// reaches the store.
/// </para>
/// <para>
/// They never use the typeless resolvers (<see cref="TypelessContractlessStandardResolver"/>,
/// <see cref="TypelessObjectResolver"/>): those write the .NET type name next to an <see cref="object"/> value and
/// instantiate whatever type a payload names when it is read, so anyone able to write to the cache could make a
/// reader create a type of their choosing, the classic deserialization gadget attack. Here a member typed
/// <see cref="object"/> reads back as a primitive, an array or a dictionary, never as a type named by the bytes, and
/// a payload carrying a typeless type name is refused.
/// </para>
/// <para>
/// <see cref="DateTime"/> values are written as MessagePack timestamps, which hold an instant: a
/// <see cref="DateTimeKind.Local"/> value is converted to UTC when written and reads back as the same instant with
/// <see cref="DateTimeKind.Utc"/>; <see cref="DateTimeKind.Unspecified"/> is taken as UTC. Use
/// <see cref="DateTimeOffset"/> to keep an offset.
/// </para>
/// <para>In configuration, name it <c>"Cached.Serializers.MessagePackSerializer"</c>.</para>
/// <para>In a file that also imports MessagePack, write <c>using MessagePackSerializer = Cached.Serializers.MessagePackSerializer;</c>.</para>
/// </remarks>
public sealed class MessagePackSerializer : ISerializer
{
    private const string DynamicCodeMessage = "MessagePack 2.x builds formatters for records and POCOs with Reflection.Emit, which trimmed and NativeAOT apps do not support.";

    /// <summary>Creates a serializer with <see cref="DefaultOptions"/>; the constructor configuration uses.</summary>
    [RequiresUnreferencedCode(DynamicCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public MessagePackSerializer()
        : this(DefaultOptions)
    {
    }

    /// <summary>
    /// Creates a serializer with the given options, e.g. <c>MessagePackSerializer.DefaultOptions.WithCompression(MessagePackCompression.Lz4BlockArray)</c>.
    /// </summary>
    /// <remarks>
    /// The options are used as they are: options with a typeless resolver let stored bytes choose the type to
    /// instantiate (see the class remarks), so use them only if nothing untrusted can write to the cache.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    [RequiresUnreferencedCode(DynamicCodeMessage)]
    [RequiresDynamicCode(DynamicCodeMessage)]
    public MessagePackSerializer(MessagePackSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
    }

    /// <summary>
    /// The options of <see cref="MessagePackSerializer()"/>: <see cref="ContractlessStandardResolver"/>, no
    /// compression, <see cref="MessagePackSecurity.UntrustedData"/>. Start from them to add compression.
    /// </summary>
    public static MessagePackSerializerOptions DefaultOptions { get; } = MessagePackSerializerOptions.Standard
        .WithResolver(ContractlessStandardResolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>The options every value is written and read with.</summary>
    public MessagePackSerializerOptions Options { get; }

    /// <inheritdoc />
    public bool StoresReferences => false;

    /// <inheritdoc />
    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        global::MessagePack.MessagePackSerializer.Serialize(destination, value, Options);
    }

    /// <inheritdoc />
    /// <exception cref="MessagePackSerializationException">The payload is not one MessagePack value: bytes follow it.</exception>
    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        var value = global::MessagePack.MessagePackSerializer.Deserialize<T>(ref reader, Options);
        if (!reader.End)
        {
            // Text whose first byte happens to be a whole value (a counter's "10" starts with the fixint 49) must not read
            // as that value: a payload is exactly one value.
            throw new MessagePackSerializationException($"The payload holds {reader.Sequence.Length - reader.Consumed} bytes after its {typeof(T)} value: it was not written by MessagePack.");
        }

        return value;
    }
}
