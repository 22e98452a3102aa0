using System.Linq;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// Whether <c>global::Cached</c>, which every generated file names, is the library's namespace in a compilation: a type
/// named <c>Cached</c> in the global namespace hides it (CS0117 inside the generated file, where the user's code only
/// warns CS0437), and a reference with an extern alias takes it out of the global namespace (CS0400).
/// </summary>
internal static class LibraryNamespace
{
    /// <summary>Why <c>global::Cached</c> does not name the library here, or null when it does.</summary>
    public static string? Problem(Compilation compilation)
    {
        var global = compilation.GlobalNamespace;
        if (global.GetTypeMembers("Cached").FirstOrDefault() is { } type)
        {
            var from = type.Locations.FirstOrDefault(static l => l.IsInSource) is { } location
                ? $"{System.IO.Path.GetFileName(location.SourceTree?.FilePath)}, line {location.GetLineSpan().StartLinePosition.Line + 1}"
                : $"assembly {type.ContainingAssembly?.Name}";
            return $"the type 'Cached' in the global namespace ({from}) hides the namespace Cached that the generated code names; move the type into a namespace or rename it";
        }

        var library = global.GetNamespaceMembers().FirstOrDefault(static n => n.Name == "Cached");
        return library is not null && library.GetNamespaceMembers().Any(static n => n.Name == "Runtime")
            ? null
            : "Cached.Core is referenced with an extern alias, so the namespace Cached that the generated code names is not in the global namespace; reference it without an alias, or add 'global' to its aliases (Aliases=\"global,YourAlias\")";
    }
}
