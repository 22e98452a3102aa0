using System.Linq;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// Whether a type an attribute names for the generated code to create (<c>Cache</c>, <c>Serializer</c>, <c>Plugins</c>)
/// is created with code that trimming or NativeAOT warns about: its public parameterless constructor, or the type,
/// carries <c>[RequiresUnreferencedCode]</c> or <c>[RequiresDynamicCode]</c> (MessagePack's serializer does).
/// </summary>
internal static class TrimmingRequirements
{
    private static readonly string[] s_attributes =
    [
        "System.Diagnostics.CodeAnalysis.RequiresUnreferencedCodeAttribute",
        "System.Diagnostics.CodeAnalysis.RequiresDynamicCodeAttribute",
    ];

    /// <summary>The name of the first such attribute, without its suffix (<c>RequiresDynamicCode</c>); null when there is none.</summary>
    public static string? OfCreation(INamedTypeSymbol type)
    {
        var constructor = type.InstanceConstructors.FirstOrDefault(static c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public);
        return Requirement(type) ?? (constructor is null ? null : Requirement(constructor));
    }

    private static string? Requirement(ISymbol symbol)
    {
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() is { } name && s_attributes.Contains(name))
            {
                return attribute.AttributeClass.Name.Substring(0, attribute.AttributeClass.Name.Length - "Attribute".Length);
            }
        }

        return null;
    }
}
