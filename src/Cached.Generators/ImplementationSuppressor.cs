using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators;

/// <summary>
/// Suppresses CA1822 ("member does not access instance data and can be marked as static") on the method that runs on a
/// miss (<c>&lt;Name&gt;Core</c>, or the one <c>Implementation</c> names) of an instance method marked [Cached],
/// [MultiCached], [InvalidateCache] or [InvalidateTags]. The generated body calls it on the instance, and CACHED002
/// wants it to match the method, instance for instance: a project that treats the analyzers' warnings as errors would
/// otherwise be told to make it static by one rule and refused by the other.
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class ImplementationSuppressor : DiagnosticSuppressor
{
    /// <summary>The suppression of CA1822 on an implementation method.</summary>
    public static SuppressionDescriptor MarkAsStatic { get; } = new(
        "CACHEDSPR001",
        "CA1822",
        "The method is the body of a cached method: its generated implementation calls it on the instance, so it stays an instance method as the cached method is (CACHED002).");

    private static readonly ImmutableArray<string> s_attributes =
    [
        Parser.CachedAttribute,
        Parser.MultiCachedAttribute,
        Parser.InvalidateCacheAttribute,
        Parser.InvalidateTagsAttribute,
    ];

    /// <inheritdoc />
    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions { get; } = [MarkAsStatic];

    /// <inheritdoc />
    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            if (diagnostic.Location.SourceTree is not { } tree)
            {
                continue;
            }

            var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan);
            if (node.FirstAncestorOrSelf<MethodDeclarationSyntax>() is { } declaration
                && context.GetSemanticModel(tree).GetDeclaredSymbol(declaration, context.CancellationToken) is IMethodSymbol { IsStatic: false } method
                && IsImplementation(method))
            {
                context.ReportSuppression(Suppression.Create(MarkAsStatic, diagnostic));
            }
        }
    }

    /// <summary>Whether an instance method of its type, marked with one of the attributes, runs <paramref name="body"/> on a miss.</summary>
    private static bool IsImplementation(IMethodSymbol body)
    {
        foreach (var member in body.ContainingType.GetMembers())
        {
            if (member is not IMethodSymbol { IsStatic: false } method || SymbolEqualityComparer.Default.Equals(method, body))
            {
                continue;
            }

            foreach (var attribute in method.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() is { } name && s_attributes.Contains(name)
                    && string.Equals(ImplementationName(method, attribute), body.Name, StringComparison.Ordinal)
                    && SameParameters(method, body))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="body"/> takes what <paramref name="method"/> takes (types and ref kinds), as CACHED002
    /// requires of its implementation: an overload of that name with other parameters is some other method, and keeps
    /// CA1822.
    /// </summary>
    private static bool SameParameters(IMethodSymbol method, IMethodSymbol body)
    {
        if (method.Parameters.Length != body.Parameters.Length || method.TypeParameters.Length != body.TypeParameters.Length)
        {
            return false;
        }

        for (var i = 0; i < method.Parameters.Length; i++)
        {
            var expected = method.Parameters[i];
            var actual = body.Parameters[i];
            if (expected.RefKind != actual.RefKind || expected.Type.ToDisplayString() != actual.Type.ToDisplayString())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The method's implementation name: the attribute's <c>Implementation</c>, or <c>&lt;Name&gt;Core</c>.</summary>
    private static string ImplementationName(IMethodSymbol method, AttributeData attribute)
    {
        foreach (var argument in attribute.NamedArguments)
        {
            if (argument.Key == "Implementation" && argument.Value.Value is string named)
            {
                return named;
            }
        }

        return method.Name + "Core";
    }
}
