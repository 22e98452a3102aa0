using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace Cached.Hybrid;

/// <summary>
/// What an application configured for Microsoft's HybridCache that <see cref="CachedHybridCache"/> would not read:
/// <c>HybridCacheOptions</c> (set through <c>AddHybridCache(options =&gt; ...)</c> or <c>Configure</c>) and serializers
/// (<c>AddSerializer</c>, <c>AddSerializerFactory</c>). Found by type name, so that Cached needs no reference to
/// Microsoft's implementation package, whose type <c>HybridCacheOptions</c> is.
/// </summary>
internal static class MicrosoftHybridSettings
{
    private const string OptionsType = "Microsoft.Extensions.Caching.Hybrid.HybridCacheOptions";

    /// <summary>Throws when <paramref name="services"/> configure what <c>AddHybridCache(<paramref name="alias"/>)</c> would silently ignore.</summary>
    /// <exception cref="CacheConfigurationException">HybridCacheOptions or a HybridCache serializer is registered.</exception>
    public static void ThrowIfAny(IServiceCollection services, string alias)
    {
        var found = new List<string>();
        foreach (var service in services)
        {
            var type = service.ServiceType;
            if ((type == typeof(IHybridCacheSerializerFactory) || type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IHybridCacheSerializer<>))
                && !IsMicrosofts(service))
            {
                found.Add("a HybridCache serializer (" + TypeName(type) + ")");
            }
            else if (type.IsGenericType && type.Namespace == "Microsoft.Extensions.Options" && type.GetGenericArguments()[0].FullName == OptionsType)
            {
                found.Add("HybridCacheOptions (" + TypeName(type) + ")");
            }
        }

        if (found.Count > 0)
        {
            throw new CacheConfigurationException(alias,
                $"AddHybridCache(\"{alias}\") serves HybridCache from this alias, and would ignore what is configured for Microsoft's implementation: {string.Join(", ", found.Distinct())}. "
                + "Give the entry defaults as AddHybridCache(alias, defaultEntryOptions), another key length as new CachedHybridCache(cache) { MaximumKeyLength = ... } registered yourself, "
                + "and serialize with the alias's serializer (docs/serializers.md); then remove those registrations. See docs/microsoft-caching.md.");
        }
    }

    /// <summary>Microsoft's AddHybridCache() registers its built-in serializers (JSON, string, bytes) itself: those are not the application's.</summary>
    private static bool IsMicrosofts(ServiceDescriptor service)
        => (service.IsKeyedService ? service.KeyedImplementationType ?? service.KeyedImplementationInstance?.GetType() : service.ImplementationType ?? service.ImplementationInstance?.GetType())
            ?.Assembly.GetName().Name == "Microsoft.Extensions.Caching.Hybrid";

    private static string TypeName(Type type)
        => type.IsGenericType ? type.Name[..type.Name.IndexOf('`')] + "<" + string.Join(", ", type.GetGenericArguments().Select(static t => t.Name)) + ">" : type.Name;
}
