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

    /// <summary>
    /// Whether C# would take <paramref name="a"/> and <paramref name="b"/> for the same signature (no overload): the
    /// same parameter types, each method's type parameters matched by position, tuple element names ignored, and a
    /// <c>ref</c>, <c>out</c> or <c>in</c> parameter only like another such one.
    /// </summary>
    public static bool SameParameterTypes(IMethodSymbol a, IMethodSymbol b)
        => a.Parameters.Length == b.Parameters.Length
            && a.TypeParameters.Length == b.TypeParameters.Length
            && a.Parameters.Zip(b.Parameters, static (x, y) => (x.RefKind == RefKind.None) == (y.RefKind == RefKind.None) && SameType(x.Type, y.Type)).All(static same => same);

    private static bool SameType(ITypeSymbol x, ITypeSymbol y)
    {
        switch (x, y)
        {
            case (ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method } p, ITypeParameterSymbol { TypeParameterKind: TypeParameterKind.Method } q):
                return p.Ordinal == q.Ordinal;
            case (IArrayTypeSymbol p, IArrayTypeSymbol q):
                return p.Rank == q.Rank && SameType(p.ElementType, q.ElementType);
            case (INamedTypeSymbol { IsGenericType: true } p, INamedTypeSymbol { IsGenericType: true } q):
                return SymbolEqualityComparer.Default.Equals(p.OriginalDefinition, q.OriginalDefinition)
                    && p.TypeArguments.Zip(q.TypeArguments, SameType).All(static same => same);
            default:
                return SymbolEqualityComparer.Default.Equals(x, y);
        }
    }

    /// <summary><c>'a'</c>, <c>'a' and 'b'</c>, <c>'a', 'b' and 'c'</c>.</summary>
    public static string JoinNames(IReadOnlyList<string> names)
        => names.Count == 1 ? names[0] : string.Join(", ", names.Take(names.Count - 1)) + " and " + names[names.Count - 1];
}
