using System.Text.Json.Serialization;

namespace Cached.Serializers;

/// <summary>
/// The source-generated <see cref="JsonSerializerContext"/>s that <see cref="JsonSerializer()"/> (and so the default
/// serializer of <c>RedisCache</c>) takes type metadata from, before it considers reflection. Cached's generator
/// registers every context declared in a project that references Cached.Core, at start-up, so a trimmed or NativeAOT
/// application needs only the usual <c>[JsonSerializable(typeof(Forecast))] partial class AppJsonContext</c>.
/// </summary>
/// <remarks>
/// The first registered context that has metadata for a type supplies it, used with the default serializer's own
/// options rather than the context's; types none of them lists fall back to Cached's own metadata for primitives
/// (numbers, <see cref="string"/>, <see cref="bool"/>, <see cref="Guid"/>, dates and times, their nullables) and then,
/// where the application allows it, to reflection.
/// </remarks>
public static class JsonContexts
{
    internal static JsonContextRegistry Shared { get; } = new();

    /// <summary>
    /// Registers <paramref name="context"/> (usually <c>MyJsonContext.Default</c>). Generated code calls this for the
    /// contexts of projects that reference Cached.Core; call it yourself for a context of a project that does not.
    /// Registering a context twice has no further effect.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="context"/> is null.</exception>
    public static void Add(JsonSerializerContext context) => Shared.Add(context);
}
