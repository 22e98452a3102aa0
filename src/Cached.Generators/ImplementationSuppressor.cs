using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators;

/// <summary>
/// Suppresses CA1822 ("member does not access instance data and can be marked as static") on the method that runs on a
/// miss (<c>&lt;Name&gt;Core</c>, or the one <c>Implementation</c> names) of an instance method marked [Cached],
/// [MultiCached], [InvalidateCache] or [InvalidateTags]. The generated body calls it on the instance, and CACHED002
/// wants it to match the method, instance for instance: a project that treats the analyzers' warnings as errors would
/// otherwise be told to make it static by one rule and refused by the other. For the same reason IDE0060 ("remove
/// unused parameter") is suppressed on that method's parameters, static or not: the generated call passes each one.
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class ImplementationSuppressor : DiagnosticSuppressor
{
    /// <summary>The suppression of CA1822 on an implementation method.</summary>
    public static SuppressionDescriptor MarkAsStatic { get; } = new(
        "CACHEDSPR001",
        "CA1822",
        "The method is the body of a cached method: its generated implementation calls it on the instance, so it stays an instance method as the cached method is (CACHED002).");

    /// <summary>The suppression of IDE0060 ("remove unused parameter") on a parameter of an implementation method.</summary>
    public static SuppressionDescriptor UnusedParameter { get; } = new(
        "CACHEDSPR002",
        "IDE0060",
        "The parameter is one the cached method passes on: its generated implementation calls the body with every argument, so the body takes each parameter the cached method takes, used or not (CACHED002).");

    private static readonly ImmutableArray<string> s_attributes =
    [
        Parser.CachedAttribute,
        Parser.MultiCachedAttribute,
        Parser.InvalidateCacheAttribute,
        Parser.InvalidateTagsAttribute,
    ];

    /// <inheritdoc />
    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions { get; } = [MarkAsStatic, UnusedParameter];

    /// <inheritdoc />
    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        // Read at most once per run, and only for a body a base type declares.
        HashSet<string>? named = null;
        List<INamedTypeSymbol>? sourceTypes = null;
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            if (diagnostic.Location.SourceTree is not { } tree)
            {
                continue;
            }

            var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan);
            // CA1822 sits on the method's name, IDE0060 on a parameter of the method itself (not of a lambda or a local
            // function inside it, which the body is free to change).
            var (declaration, suppression) = diagnostic.Id == UnusedParameter.SuppressedDiagnosticId
                ? (node.FirstAncestorOrSelf<ParameterSyntax>()?.Parent?.Parent as MethodDeclarationSyntax, UnusedParameter)
                : (node.FirstAncestorOrSelf<MethodDeclarationSyntax>(), MarkAsStatic);
            if (declaration is not null
                && context.GetSemanticModel(tree).GetDeclaredSymbol(declaration, context.CancellationToken) is IMethodSymbol method
                && (suppression == UnusedParameter || !method.IsStatic)
                && ((suppression == UnusedParameter && IsKeyBuilder(method))
                    || IsImplementation(method, context.Compilation, ref named, ref sourceTypes, context.CancellationToken)))
            {
                context.ReportSuppression(Suppression.Create(suppression, diagnostic));
            }
        }
    }

    /// <summary>
    /// Whether an instance method marked with one of the attributes runs <paramref name="body"/> on a miss: one of its own
    /// type, or of a type deriving from it, which CACHED002 accepts for a body the derived type can see. The base type
    /// cannot list its derived types, so they are looked for only where a derived method can name this body: a method
    /// named as <c>&lt;Name&gt;Core</c> implies (found by the compilation's name index), or an attribute's
    /// <c>Implementation</c> naming it (read from the syntax, once per run); only then are the project's types read.
    /// </summary>
    private static bool IsImplementation(IMethodSymbol body, Compilation compilation, ref HashSet<string>? named, ref List<INamedTypeSymbol>? sourceTypes, CancellationToken cancellationToken)
    {
        var owner = body.ContainingType;
        if (IsImplementationIn(owner, body))
        {
            return true;
        }

        if (body.DeclaredAccessibility == Accessibility.Private || owner.IsSealed || owner.IsStatic)
        {
            return false;
        }

        if (body.Name.EndsWith("Core", StringComparison.Ordinal) && body.Name.Length > "Core".Length)
        {
            foreach (var candidate in compilation.GetSymbolsWithName(body.Name.Substring(0, body.Name.Length - "Core".Length), SymbolFilter.Member, cancellationToken))
            {
                if (candidate.ContainingType is { } type && AsSeenFrom(type, body) is { } seen && IsImplementationIn(type, seen))
                {
                    return true;
                }
            }
        }

        named ??= NamedImplementations(compilation);
        if (!named.Contains(body.Name))
        {
            return false;
        }

        sourceTypes ??= [.. compilation.GetSymbolsWithName(static _ => true, SymbolFilter.Type, cancellationToken).OfType<INamedTypeSymbol>()];
        foreach (var type in sourceTypes)
        {
            if (AsSeenFrom(type, body) is { } seen && IsImplementationIn(type, seen))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every name an attribute argument <c>Implementation = "X"</c> or <c>Implementation = nameof(X)</c> gives, read from the syntax alone.</summary>
    private static HashSet<string> NamedImplementations(Compilation compilation)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tree in compilation.SyntaxTrees)
        {
            foreach (var argument in tree.GetRoot().DescendantNodes().OfType<AttributeArgumentSyntax>())
            {
                if (argument.NameEquals?.Name.Identifier.ValueText != "Implementation")
                {
                    continue;
                }

                switch (argument.Expression)
                {
                    case LiteralExpressionSyntax literal:
                        names.Add(literal.Token.ValueText);
                        break;
                    case InvocationExpressionSyntax { ArgumentList.Arguments.Count: 1 } invocation:
                        var named = invocation.ArgumentList.Arguments[0].Expression;
                        names.Add(named is MemberAccessExpressionSyntax member ? member.Name.Identifier.ValueText : named.ToString());
                        break;
                }
            }
        }

        return names;
    }

    /// <summary>
    /// <paramref name="body"/> as a member of the base type of <paramref name="type"/> that declares it, with that base's
    /// type arguments (a body taking <c>T</c> in <c>RepositoryBase&lt;T&gt;</c> takes <c>int</c> as seen from a type
    /// deriving from <c>RepositoryBase&lt;int&gt;</c>); <c>null</c> when <paramref name="type"/> does not derive from it.
    /// </summary>
    private static IMethodSymbol? AsSeenFrom(INamedTypeSymbol type, IMethodSymbol body)
    {
        for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(baseType.OriginalDefinition, body.ContainingType.OriginalDefinition))
            {
                return baseType.GetMembers(body.Name).OfType<IMethodSymbol>()
                    .FirstOrDefault(member => SymbolEqualityComparer.Default.Equals(member.OriginalDefinition, body.OriginalDefinition));
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a method of <paramref name="type"/>, marked with one of the attributes, runs <paramref name="body"/> on a
    /// miss: static for a static body, an instance method for an instance one, as CACHED002 requires.
    /// </summary>
    private static bool IsImplementationIn(INamedTypeSymbol type, IMethodSymbol body)
    {
        foreach (var member in type.GetMembers())
        {
            if (member is not IMethodSymbol method || method.IsStatic != body.IsStatic || SymbolEqualityComparer.Default.Equals(method, body))
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
        => method.TypeParameters.Length == body.TypeParameters.Length && SameParameters(method.Parameters, body.Parameters);

    private static bool SameParameters(IReadOnlyList<IParameterSymbol> expectedParameters, IReadOnlyList<IParameterSymbol> actualParameters)
    {
        if (expectedParameters.Count != actualParameters.Count)
        {
            return false;
        }

        for (var i = 0; i < expectedParameters.Count; i++)
        {
            var expected = expectedParameters[i];
            var actual = actualParameters[i];
            if (expected.RefKind != actual.RefKind || expected.Type.ToDisplayString() != actual.Type.ToDisplayString())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="builder"/> is the <c>KeyBuilder</c> of a [Cached] method of its type, which the generator
    /// makes take the method's parameters (its CancellationToken aside), used or not. A [MultiCached] builder chooses the
    /// parameters it takes after the key, so an unused one there is the user's to remove.
    /// </summary>
    private static bool IsKeyBuilder(IMethodSymbol builder)
    {
        foreach (var member in builder.ContainingType.GetMembers())
        {
            if (member is not IMethodSymbol method || SymbolEqualityComparer.Default.Equals(method, builder))
            {
                continue;
            }

            foreach (var attribute in method.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == Parser.CachedAttribute
                    && attribute.NamedArguments.Any(a => a.Key == "KeyBuilder" && a.Value.Value as string == builder.Name)
                    && SameParameters(method.Parameters.Where(static p => p.Type.ToDisplayString() != "System.Threading.CancellationToken").ToList(), builder.Parameters))
                {
                    return true;
                }
            }
        }

        return false;
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
