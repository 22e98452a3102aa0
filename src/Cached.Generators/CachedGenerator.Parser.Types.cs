using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>The containing types as the generated file redeclares them, and the names written into code.</summary>
internal sealed partial class Parser
{
    // Per compilation: whether a using directive anywhere declares an alias named 'var' (boxed, for the table).
    private static readonly ConditionalWeakTable<Compilation, object> s_varAliases = new();
    private static readonly object s_true = true;
    private static readonly object s_false = false;

    /// <summary>
    /// Whether <c>var</c> names a type or an alias where the method is declared (<see cref="MethodSpec.VarNamesAType"/>).
    /// The semantic model is asked only in a compilation that declares a type or an alias of that name: its lookup
    /// costs about as much as the rest of a method's parse.
    /// </summary>
    private bool VarNamesAType()
    {
        var compilation = _semanticModel.Compilation;
        return (compilation.ContainsSymbolsWithName("var", SymbolFilter.Type) || (bool)s_varAliases.GetValue(compilation, static c => DeclaresVarAlias(c) ? s_true : s_false))
            && !_semanticModel.LookupNamespacesAndTypes(_syntax.SpanStart, container: null, name: "var").IsEmpty;
    }

    private static bool DeclaresVarAlias(Compilation compilation)
        => compilation.SyntaxTrees.Any(static tree => tree.GetRoot()
            .DescendantNodes(static node => node is CompilationUnitSyntax or BaseNamespaceDeclarationSyntax)
            .OfType<UsingDirectiveSyntax>()
            .Any(static directive => directive.Alias?.Name.Identifier.ValueText == "var"));

    private static ContainingTypeSpec ContainingTypeOf(INamedTypeSymbol type)
    {
        var chain = ContainingChain(type);
        var ns = NamespaceOf(chain[0]);
        var declarations = chain.Select(static t => new TypeDeclarationSpec(KeywordOf(t), DeclaredName(t), IsDeclaredUnsafe(t))).ToEquatableArray();
        // The hint name is a file name: no '@' of an escaped keyword (namespace Shop.@internal), no '`'.
        var fileName = (ns is null ? string.Empty : ns + ".") + string.Join(".", chain.Select(static t => t.TypeParameters.Length == 0 ? t.Name : $"{t.Name}`{t.TypeParameters.Length}"));
        return new ContainingTypeSpec(ns, declarations, type.ToDisplayString(), fileName.Replace("@", string.Empty).Replace('`', '_') + ".Cached.g.cs", type.IsValueType)
        {
            NestedInABase = NestedInABase(type),
        };
    }

    /// <summary>
    /// Whether <paramref name="type"/> is nested in a type it derives from, whose private members, generated ones
    /// included, it sees: its own generated members of the same names hide them (CS0108).
    /// </summary>
    private static bool NestedInABase(INamedTypeSymbol type)
    {
        for (var outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
            {
                if (SymbolEqualityComparer.Default.Equals(baseType.OriginalDefinition, outer.OriginalDefinition))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The type's name as its partial declaration must repeat it: a keyword escaped (<c>@event</c>), and its type
    /// parameters with their variance (<c>IReader&lt;out T&gt;</c>: partial declarations must agree on it).
    /// </summary>
    private static string DeclaredName(INamedTypeSymbol type)
        => type.TypeParameters.Length == 0
            ? TypeName(type.Name)
            : $"{TypeName(type.Name)}<{string.Join(", ", type.TypeParameters.Select(static p => VarianceOf(p) + Identifier(p.Name)))}>";

    /// <summary>
    /// A declared type's name: escaped when it is any keyword, a contextual one too, which a type may be named only with
    /// its '@' (<c>partial class @file</c>: bare, 'file' reads as the modifier, CS9056 inside the generated file).
    /// </summary>
    private static string TypeName(string name)
        => SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : Identifier(name);

    private static string VarianceOf(ITypeParameterSymbol parameter) => parameter.Variance switch
    {
        VarianceKind.Out => "out ",
        VarianceKind.In => "in ",
        _ => string.Empty,
    };

    /// <summary>The type and the types it is nested in, outermost first.</summary>
    private static List<INamedTypeSymbol> ContainingChain(INamedTypeSymbol type)
    {
        var chain = new List<INamedTypeSymbol>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            chain.Insert(0, current);
        }

        return chain;
    }

    private static string? NamespaceOf(INamedTypeSymbol type)
        => type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString() : null;

    /// <summary>
    /// Whether a declaration of the type says <c>unsafe</c>: the user's method may then name pointer types (an array of
    /// them, ignored by the key) that the generated declaration repeats, which is an error outside an unsafe context
    /// (CS0214 inside the generated file).
    /// </summary>
    private static bool IsDeclaredUnsafe(INamedTypeSymbol type)
        => type.DeclaringSyntaxReferences.Any(static reference => reference.GetSyntax() is TypeDeclarationSyntax declaration && declaration.Modifiers.Any(SyntaxKind.UnsafeKeyword));

    private static string KeywordOf(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, IsValueType: true } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static string ModifiersOf(MethodDeclarationSyntax syntax)
        => string.Join(" ", syntax.Modifiers.Where(static m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(static m => m.Text));

    /// <summary>
    /// A name as C# code: <c>@class</c> for a keyword, and <c>@await</c>, which is a keyword inside the async methods and
    /// lambdas the generated code writes although the user's declaration takes it as a name.
    /// </summary>
    internal static string Identifier(string name)
        => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) == SyntaxKind.AwaitKeyword ? "@" + name : name;

    private static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);
}
