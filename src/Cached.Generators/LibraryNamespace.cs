using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// Whether <c>global::Cached</c>, which every generated file names, is the library's namespace in a compilation: a type
/// named <c>Cached</c> in the global namespace hides it (CS0117 inside the generated file, where the user's code only
/// warns CS0437), as a type <c>Cached.Runtime</c> hides <c>global::Cached.Runtime</c>, and a reference with an extern
/// alias takes it out of the global namespace (CS0400).
/// </summary>
internal static class LibraryNamespace
{
    /// <summary>What <see cref="Problem"/> found, per compilation: every cached method asks, and the answer is the compilation's.</summary>
    private static readonly ConditionalWeakTable<Compilation, Answer> s_answers = new();

    /// <summary>Why <c>global::Cached</c> does not name the library here, or null when it does (read once per compilation).</summary>
    public static string? Problem(Compilation compilation)
        => s_answers.GetValue(compilation, static compilation => new Answer(Find(compilation))).Text;

    private static string? Find(Compilation compilation)
    {
        var global = compilation.GlobalNamespace;
        // Only a type the name reaches hides the namespace: not a generic Cached<T> (the generated code names Cached
        // without type arguments), a file-local one, or one of a reference that the project cannot see.
        var hiding = global.GetTypeMembers("Cached", 0)
            .FirstOrDefault(type => !type.IsFileLocal && compilation.IsSymbolAccessibleWithin(type, compilation.Assembly));
        if (hiding is not null)
        {
            var from = hiding.Locations.FirstOrDefault(static l => l.IsInSource) is { } location ? Where(location) : $"assembly {hiding.ContainingAssembly?.Name}";
            return $"the type 'Cached' in the global namespace ({from}) hides the namespace Cached that the generated code names; move the type into a namespace or rename it";
        }

        var library = global.GetNamespaceMembers().FirstOrDefault(static n => n.Name == "Cached");
        if (library is null || !library.GetNamespaceMembers().Any(static n => n.Name == "Runtime"))
        {
            return "the namespace Cached that the generated code names is not in the global namespace: Cached.Core is not referenced, or is referenced with an extern alias; reference it without an alias, or add 'global' to its aliases (Aliases=\"global,YourAlias\")";
        }

        // A type Cached.Runtime of the project's hides the library's namespace of that name as a type Cached hides
        // Cached: CS0426 inside every generated file, CS0437 only in the user's.
        var shadow = library.GetTypeMembers("Runtime", 0)
            .FirstOrDefault(type => !type.IsFileLocal && compilation.IsSymbolAccessibleWithin(type, compilation.Assembly));
        if (shadow is null)
        {
            return null;
        }

        var where = shadow.Locations.FirstOrDefault(static l => l.IsInSource) is { } found ? Where(found) : $"assembly {shadow.ContainingAssembly?.Name}";
        return $"the type 'Cached.Runtime' ({where}) hides the namespace Cached.Runtime that the generated code names; rename the type or move it out of the namespace Cached";
    }

    private sealed class Answer(string? text)
    {
        public string? Text { get; } = text;
    }

    /// <summary>Where a declaration is, as a person finds it: 'Store.cs, line 12'.</summary>
    public static string Where(Location location)
        => $"{System.IO.Path.GetFileName(location.SourceTree?.FilePath)}, line {location.GetLineSpan().StartLinePosition.Line + 1}";
}
