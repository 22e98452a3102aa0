using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators;

/// <summary>
/// The [Experimental] diagnostic ids of what the generated file names: using such a type or member is an error that
/// only '#pragma warning disable &lt;id&gt;' lifts, and the user's pragma cannot reach the generated file, so the file
/// lifts the ids itself, as it does CS0612 and CS0618 for obsolete ones (and the ids of those that give their own).
/// </summary>
internal sealed partial class Parser
{
    private const string ExperimentalAttribute = "System.Diagnostics.CodeAnalysis.ExperimentalAttribute";

    /// <summary>
    /// The ids, sorted, of the experimental types the method's signature names (the result, the parameters, a generic
    /// method's constraints; their type arguments, elements and containing types, or their assembly), of the types its
    /// options create (with their constructors), of its containing types, and of the methods it calls (the body, a
    /// <c>KeyBuilder</c>, a <c>SkipCacheWhen</c>, and those of the methods an invalidation reaches) and their types.
    /// </summary>
    private EquatableArray<string> ExperimentalIds(IMethodSymbol? body, IEnumerable<INamedTypeSymbol?> created)
    {
        var ids = new SortedSet<string>(System.StringComparer.Ordinal);
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        AddExperimentalIds(_method.ReturnType, ids, seen);
        foreach (var type in _method.Parameters.Select(static p => p.Type).Concat(_method.TypeParameters.SelectMany(static t => t.ConstraintTypes)))
        {
            AddExperimentalIds(type, ids, seen);
        }

        foreach (var type in created.Concat([_method.ContainingType]))
        {
            if (type is not null)
            {
                AddExperimentalIds(type, ids, seen);
                AddExperimentalId(type.InstanceConstructors.FirstOrDefault(static c => c.Parameters.Length == 0), ids);
            }
        }

        AddExperimentalId(body, ids);
        foreach (var called in _called)
        {
            AddExperimentalId(called, ids);
            AddExperimentalIds(called.ContainingType, ids, seen);
        }

        return ids.ToEquatableArray();
    }

    private static void AddExperimentalIds(ITypeSymbol type, SortedSet<string> ids, HashSet<ITypeSymbol> seen)
    {
        if (!seen.Add(type))
        {
            return;
        }

        switch (type)
        {
            case IArrayTypeSymbol array:
                AddExperimentalIds(array.ElementType, ids, seen);
                break;
            case IPointerTypeSymbol pointer:
                AddExperimentalIds(pointer.PointedAtType, ids, seen);
                break;
            case IFunctionPointerTypeSymbol function:
                AddExperimentalIds(function.Signature.ReturnType, ids, seen);
                foreach (var parameter in function.Signature.Parameters)
                {
                    AddExperimentalIds(parameter.Type, ids, seen);
                }

                break;
            case INamedTypeSymbol named:
                AddExperimentalId(named, ids);
                AddExperimentalId(named.ContainingModule, ids);
                AddExperimentalId(named.ContainingAssembly, ids);
                if (named.ContainingType is { } outer)
                {
                    AddExperimentalIds(outer, ids, seen);
                }

                foreach (var argument in named.TypeArguments)
                {
                    AddExperimentalIds(argument, ids, seen);
                }

                break;
        }
    }

    /// <summary>
    /// The id of the symbol's [Experimental], or of its [Obsolete] when it gives one of its own (<c>DiagnosticId =
    /// "ACME001"</c>, raised instead of CS0618, which the file lifts already), when a pragma can name it: an id that is
    /// no identifier ('SHOP-1') could not be lifted by the user's pragma either.
    /// </summary>
    private static void AddExperimentalId(ISymbol? symbol, SortedSet<string> ids)
    {
        foreach (var attribute in symbol?.GetAttributes() ?? [])
        {
            // The name first: most symbols carry attributes (an assembly dozens), and a display string costs an allocation.
            if (attribute.AttributeClass is { Name: "ExperimentalAttribute" } attributeClass && attributeClass.ToDisplayString() == ExperimentalAttribute
                && attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is string id && SyntaxFacts.IsValidIdentifier(id))
            {
                ids.Add(id);
            }
            else if (attribute.AttributeClass is { Name: "ObsoleteAttribute" } obsolete && obsolete.ToDisplayString() == "System.ObsoleteAttribute"
                && attribute.NamedArguments.FirstOrDefault(static a => a.Key == "DiagnosticId").Value.Value is string obsoleteId && SyntaxFacts.IsValidIdentifier(obsoleteId))
            {
                ids.Add(obsoleteId);
            }
        }
    }
}
