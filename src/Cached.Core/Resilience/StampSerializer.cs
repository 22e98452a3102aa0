using System.Buffers;
using Cached.Serializers;

namespace Cached.Resilience;

/// <summary>
/// Carries <see cref="Stamped{T}"/> through a cache's own serializer: bytes get <see cref="StampFormat"/>'s header
/// before the inner payload; a backend that keeps references keeps the <see cref="Stamped{T}"/> itself. An entry
/// stored without a stamp reads as <see cref="Stamped{T}.Unstamped"/>, so resilient reads accept every plain writer.
/// </summary>
internal sealed class StampSerializer<T>(ISerializer inner, TimeProvider clock) : ISerializer, IPayloadAdopter
{
    public ISerializer Inner { get; } = inner;

    public TimeProvider Clock { get; } = clock;

    public bool StoresReferences => Inner.StoresReferences;

    public void Serialize<TValue>(IBufferWriter<byte> destination, TValue value)
    {
        if (value is Stamped<T> stamped)
        {
            StampFormat.WriteHeader(destination, stamped.FreshUntil, stamped.StaleUntil, stamped.Throttled);
            Inner.Serialize(destination, stamped.Value);
            return;
        }

        Inner.Serialize(destination, value);
    }

    public TValue? Deserialize<TValue>(ReadOnlySequence<byte> payload)
    {
        if (typeof(TValue) != typeof(Stamped<T>))
        {
            return Inner.Deserialize<TValue>(payload);
        }

        var stamped = StampFormat.TryReadHeader(payload, out var freshUntil, out var staleUntil, out var throttled, out var value)
            ? new Stamped<T>(Inner.Deserialize<T>(value)!, freshUntil, staleUntil, Clock, throttled)
            : Stamped<T>.Unstamped(Inner.Deserialize<T>(payload)!, Clock);
        return (TValue)(object)stamped;
    }

    /// <summary>A plain value kept by reference reads as unstamped.</summary>
    public bool TryAdopt(object? payload, out object? adopted)
    {
        switch (payload)
        {
            case Stamped<T>:
                adopted = payload;
                return true;
            case T value:
                adopted = Stamped<T>.Unstamped(value, Clock);
                return true;
            case null when default(T) is null:
                adopted = Stamped<T>.Unstamped(default!, Clock);
                return true;
            default:
                adopted = null;
                return false;
        }
    }
}

/// <summary>A serializer that turns a reference kept by an in-process backend into the type it reads.</summary>
internal interface IPayloadAdopter
{
    bool TryAdopt(object? payload, out object? adopted);
}
