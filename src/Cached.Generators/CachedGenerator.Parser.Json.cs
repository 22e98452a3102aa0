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
            || context.TargetNode is not ClassDeclarationSyntax declaration)
        {
            return null;
        }

        var compilation = context.SemanticModel.Compilation;
        var contextBase = compilation.GetTypeByMetadataName(JsonSerializerContextType);
        var isContext = contextBase is not null && KnownTypeSymbols.DerivesFrom(type, contextBase);
        // System.Text.Json's generator completes only partial classes in partial types (SYSLIB1032 otherwise), and
        // no generic one; the registration must also be able to name it from outside.
        var completed = declaration.AncestorsAndSelf().OfType<TypeDeclarationSyntax>().All(static t => t.Modifiers.Any(SyntaxKind.PartialKeyword))
            && !IsOrInGeneric(type);
        return isContext && completed && compilation.IsSymbolAccessibleWithin(type, compilation.Assembly)
            ? type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
            : null;
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
