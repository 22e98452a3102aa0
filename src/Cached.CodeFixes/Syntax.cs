using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.CodeFixes;

/// <summary>Small lookups the fixes share.</summary>
internal static class Syntax
{
    /// <summary>The method a diagnostic lies in: on its name, a parameter or an argument of its attribute.</summary>
    public static MethodDeclarationSyntax? MethodAt(SyntaxNode root, Diagnostic diagnostic)
        => root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();

    public static bool SameParameterTypes(IMethodSymbol a, IMethodSymbol b)
        => a.Parameters.Length == b.Parameters.Length
            && a.Parameters.Zip(b.Parameters, static (x, y) => SymbolEqualityComparer.Default.Equals(x.Type, y.Type)).All(static same => same);

    /// <summary><c>'a'</c>, <c>'a' and 'b'</c>, <c>'a', 'b' and 'c'</c>.</summary>
    public static string JoinNames(IReadOnlyList<string> names)
        => names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[names.Count - 1];
}
