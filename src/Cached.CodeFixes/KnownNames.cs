using Microsoft.CodeAnalysis;

namespace Cached.CodeFixes;

/// <summary>The names the generator gives meaning to: its attributes, their Implementation argument, the Core suffix.</summary>
internal static class KnownNames
{
    public const string CachedAttribute = "Cached.CachedAttribute";
    public const string MultiCachedAttribute = "Cached.MultiCachedAttribute";
    public const string InvalidateCacheAttribute = "Cached.InvalidateCacheAttribute";
    public const string CacheKeyIgnoreAttribute = "Cached.CacheKeyIgnoreAttribute";
    public const string Implementation = "Implementation";

    /// <summary>What the generated body calls without an Implementation argument: <c>GetUser</c> runs <c>GetUserCore</c>.</summary>
    public const string ImplementationSuffix = "Core";

    public static bool IsMethodAttribute(INamedTypeSymbol? type)
        => type is not null && type.ToDisplayString() is CachedAttribute or MultiCachedAttribute or InvalidateCacheAttribute;

    /// <summary>True for a type declared in the namespace <c>Cached</c> (the generator's attributes).</summary>
    public static bool IsInCachedNamespace(ITypeSymbol? type)
        => type?.ContainingNamespace is { Name: "Cached", ContainingNamespace.IsGlobalNamespace: true };

    /// <summary>
    /// The method the generated body of <paramref name="method"/> calls on a miss: the Implementation argument of its
    /// first [Cached], [MultiCached] or [InvalidateCache] attribute that has one, else <c>&lt;Name&gt;Core</c>.
    /// </summary>
    public static string ImplementationOf(IMethodSymbol method)
    {
        foreach (var attribute in method.GetAttributes())
        {
            if (!IsMethodAttribute(attribute.AttributeClass))
            {
                continue;
            }

            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.Key == Implementation && argument.Value.Value is string name)
                {
                    return name;
                }
            }
        }

        return method.Name + ImplementationSuffix;
    }
}
