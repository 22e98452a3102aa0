using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// The project's System.Text.Json contexts, which generated code registers with Cached's default JsonSerializer. Our
/// generator cannot write a context of its own for the cached methods' result types: generators do not see each
/// other's output, so System.Text.Json's generator would never fill it in. It registers the user's contexts instead.
/// </summary>
internal sealed partial class Parser
{
    public const string JsonSerializableAttribute = "System.Text.Json.Serialization.JsonSerializableAttribute";

    private const string JsonSerializerContextType = "System.Text.Json.Serialization.JsonSerializerContext";

    /// <summary>
    /// The fully qualified name of a context that System.Text.Json's generator completes with a static
    /// <c>Default</c> and that generated code can reach; null for any other class with [JsonSerializable].
    /// </summary>
    public static string? ParseJsonContext(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (context.TargetSymbol is not INamedTypeSymbol { TypeKind: TypeKind.Class, IsAbstract: false, IsStatic: false } type
            || context.TargetNode is not ClassDeclarationSyntax)
        {
            return null;
        }

        var compilation = context.SemanticModel.Compilation;
        var contextBase = compilation.GetTypeByMetadataName(JsonSerializerContextType);
        return contextBase is not null && KnownTypeSymbols.DerivesFrom(type, contextBase) && IsRegistrable(type, compilation)
            ? type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
            : null;
    }

    /// <summary>
    /// True for a context of <paramref name="compilation"/> that the generated registration can name and System.Text.Json's
    /// generator completes: partial classes in partial types (SYSLIB1032 otherwise), none generic, reachable from
    /// outside the type, and none marked [Obsolete] or [Experimental] (itself or a type it is in): naming it would warn or
    /// fail in the registration file, which every project with a context gets, cached methods or none. CACHED021 counts
    /// only these, so that it never trusts a context that is not registered.
    /// </summary>
    public static bool IsRegistrable(INamedTypeSymbol type, Compilation compilation)
        => !type.IsAbstract
            && !IsOrInGeneric(type)
            && !IsOrInOutdated(type)
            && compilation.IsSymbolAccessibleWithin(type, compilation.Assembly)
            && type.DeclaringSyntaxReferences.Length > 0
            && type.DeclaringSyntaxReferences.All(static reference => reference.GetSyntax() is ClassDeclarationSyntax declaration
                && declaration.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().All(static t => t.Modifiers.Any(SyntaxKind.PartialKeyword)));

    private static bool IsOrInOutdated(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() is "System.ObsoleteAttribute" or "System.Diagnostics.CodeAnalysis.ExperimentalAttribute"))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsOrInGeneric(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.IsGenericType)
            {
                return true;
            }
        }

        return false;
    }
}
