using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>One body per method: CACHED028 when another of the attributes, another generator or the user writes it too.</summary>
internal sealed partial class Parser
{
    /// <summary>Attributes whose generators write the body of the partial method they are on.</summary>
    private static readonly HashSet<string> s_bodyWritingAttributes =
    [
        "System.Text.RegularExpressions.GeneratedRegexAttribute",
        "Microsoft.Extensions.Logging.LoggerMessageAttribute",
        "System.Runtime.InteropServices.LibraryImportAttribute",
        "System.Runtime.InteropServices.JavaScript.JSImportAttribute",
    ];

    /// <summary>Where a declaration is, as a person finds it: 'Store.cs, line 12'.</summary>
    private static string Where(ISymbol symbol)
        => symbol.Locations.FirstOrDefault() is { IsInSource: true } location ? LibraryNamespace.Where(location) : symbol.ToDisplayString();

    /// <summary>
    /// False when another attribute would also write this method's body: each attribute's pipeline parses the method on
    /// its own, so two would write two bodies. The first of the method's attributes in the order below reports it, once.
    /// Another generator's attribute, or the method's own implementing declaration, is a second body too.
    /// </summary>
    private bool CheckOneBody()
    {
        var bodies = new List<(CachedMethodKind Kind, string Name)>();
        if (HasAttribute(_method, _known.CachedAttribute))
        {
            bodies.Add((CachedMethodKind.Cached, "[Cached]"));
        }

        if (HasAttribute(_method, _known.MultiCachedAttribute))
        {
            bodies.Add((CachedMethodKind.MultiCached, "[MultiCached]"));
        }

        if (HasAttribute(_method, _known.InvalidateCacheAttribute))
        {
            bodies.Add((CachedMethodKind.Invalidate, "[InvalidateCache]"));
        }
        else if (HasAttribute(_method, _known.InvalidateTagsAttribute))
        {
            bodies.Add((CachedMethodKind.InvalidateTags, "[InvalidateTags]"));
        }

        // Another generator writes the body of a method with one of these, and a user's own implementing declaration
        // is a body too: each met the generated one as CS0757 inside a generated file.
        var others = _method.GetAttributes().Select(static a => a.AttributeClass).Where(static a => a is not null && s_bodyWritingAttributes.Contains(a.ToDisplayString()))
            .Select(static a => "[" + a!.Name.Substring(0, a.Name.Length - "Attribute".Length) + "]")
            .Concat(_method.PartialImplementationPart is { } own ? ["a body of its own (" + Where(own) + ")"] : []);
        bodies.AddRange(others.Select(static other => ((CachedMethodKind)(-1), other)));
        if (bodies.Count < 2)
        {
            return true;
        }

        if (bodies[0].Kind == _kind)
        {
            Report(DiagnosticDescriptors.SeveralBodies, _location, MethodName, string.Join(" and ", bodies.Select(static b => b.Name)));
        }

        return false;
    }
}
