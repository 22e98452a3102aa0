using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators;

/// <summary>
/// CACHED021: in a trimmed or NativeAOT project, a [Cached] or [MultiCached] method whose result may be stored as JSON
/// needs System.Text.Json metadata for it, from a source-generated context of the project (which the generator
/// registers). Without it the method runs uncached, which a build would otherwise not tell. An analyzer rather than
/// part of the generator: it needs the whole compilation's contexts and the project's build properties, and it lives
/// in the IDE.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class JsonAotAnalyzer : DiagnosticAnalyzer
{
    /// <summary>
    /// The MSBuild properties that make a project trimmed or NativeAOT (any of them true), read as
    /// <c>build_property.*</c>; Cached.Core's package makes them visible to the compiler (build/Cached.Core.props).
    /// </summary>
    public static ImmutableArray<string> TrimmingProperties { get; } =
        ["PublishAot", "PublishTrimmed", "IsAotCompatible", "IsTrimmable", "EnableTrimAnalyzer", "EnableAotAnalyzer"];

    /// <summary>Set to true, the application serializes by reflection even when trimmed: nothing to report.</summary>
    public const string ReflectionProperty = "JsonSerializerIsReflectionEnabledByDefault";

    /// <summary>
    /// The types Cached.Core's own context (Cached.Serializers.BuiltInJsonContext) carries, and their nullables: a
    /// test keeps this list and that context the same.
    /// </summary>
    public static ImmutableArray<string> BuiltInTypes { get; } =
    [
        "System.String", "System.Boolean", "System.Byte", "System.SByte", "System.Int16", "System.UInt16", "System.Int32",
        "System.UInt32", "System.Int64", "System.UInt64", "System.Single", "System.Double", "System.Decimal", "System.Char",
        "System.Guid", "System.DateTime", "System.DateTimeOffset", "System.TimeSpan", "System.DateOnly", "System.TimeOnly",
        "System.Uri", "System.Version", "System.Text.Json.JsonElement",
    ];

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.JsonMetadataMissing, DiagnosticDescriptors.ValueTupleNeedsReflection, DiagnosticDescriptors.PublicFieldSkipped, DiagnosticDescriptors.CreationNeedsUnreferencedCode];

    /// <summary>
    /// Types Cached.Core's JsonSerializer writes with a converter of its own, before any context, so they need no
    /// context either (System.Numerics.BigInteger, as its digits).
    /// </summary>
    public static ImmutableArray<string> ConvertedTypes { get; } = ["System.Numerics.BigInteger"];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // A cached method's implementation part is generated, which makes the method count as generated code: with
        // generated code left out, its declaration would never be seen. The implementation part is skipped below.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var options = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
            bool IsTrue(string property)
                => options.TryGetValue("build_property." + property, out var value) && string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
            if (!TrimmingProperties.Any(IsTrue))
            {
                return;
            }

            var known = KnownTypeSymbols.For(start.Compilation);
            if (known.CachedAttribute is null)
            {
                return;
            }

            // With reflection enabled for JSON only the creations are judged (CACHED036): they warn whatever JSON does.
            var coverage = IsTrue(ReflectionProperty) ? null : new JsonCoverage(start.Compilation);
            start.RegisterSyntaxNodeAction(node => Analyze(node, known, coverage), SyntaxKind.MethodDeclaration);
        });
    }

    private static void Analyze(SyntaxNodeAnalysisContext context, KnownTypeSymbols known, JsonCoverage? coverage)
    {
        if (((MethodDeclarationSyntax)context.Node).AttributeLists.Count == 0
            || context.SemanticModel.GetDeclaredSymbol(context.Node, context.CancellationToken) is not IMethodSymbol method
            || method.PartialDefinitionPart is not null)
        {
            return;
        }

        ReportCreations(context, method, known);
        if (coverage is null)
        {
            return;
        }

        foreach (var attribute in method.GetAttributes())
        {
            var isCached = KnownTypeSymbols.Is(attribute.AttributeClass, known.CachedAttribute);
            if (!isCached && !KnownTypeSymbols.Is(attribute.AttributeClass, known.MultiCachedAttribute))
            {
                continue;
            }

            // object and type parameters stand for types only known at run time: nothing to judge here.
            var stored = isCached ? StoredResult(ResultType(method, known), known, context.Compilation) : ValueType(method, known);
            if (stored is null || stored.SpecialType == SpecialType.System_Object || ContainsTypeParameter(stored)
                || coverage.WhyJson(attribute) is not { } why)
            {
                continue;
            }

            var location = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? method.Locations.FirstOrDefault();
            var name = method.ContainingType.Name + "." + method.Name;
            // A loss is reported whatever the contexts hold, instead of CACHED021, whose fix would not help.
            var loss = coverage.LossIn(stored);
            if (loss is { Field: null } tuple)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ValueTupleNeedsReflection, location, name, why, Display(stored), Display(tuple.Type)));
            }
            else if (loss is { Field: { } field } holder)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.PublicFieldSkipped, location, name, why, Display(stored), Display(holder.Type), field.Name));
            }
            else if (!coverage.Covers(stored))
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.JsonMetadataMissing, location, name, why, Display(stored)));
            }
        }
    }

    /// <summary>CACHED036 at each <c>typeof</c> of a Cache, Serializer or Plugins argument whose creation warns under trimming.</summary>
    private static void ReportCreations(SyntaxNodeAnalysisContext context, IMethodSymbol method, KnownTypeSymbols known)
    {
        foreach (var attribute in method.GetAttributes())
        {
            if (!KnownTypeSymbols.Is(attribute.AttributeClass, known.CachedAttribute) && !KnownTypeSymbols.Is(attribute.AttributeClass, known.MultiCachedAttribute)
                && !KnownTypeSymbols.Is(attribute.AttributeClass, known.InvalidateCacheAttribute) && !KnownTypeSymbols.Is(attribute.AttributeClass, known.InvalidateTagsAttribute))
            {
                continue;
            }

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken) as AttributeSyntax;
            foreach (var argument in attribute.NamedArguments)
            {
                var types = argument.Key switch
                {
                    "Cache" or "Serializer" => [argument.Value],
                    "Plugins" when argument.Value.Kind == TypedConstantKind.Array => argument.Value.Values,
                    _ => ImmutableArray<TypedConstant>.Empty,
                };
                foreach (var type in types)
                {
                    if (type.Value is INamedTypeSymbol named && TrimmingRequirements.OfCreation(named) is { } requirement)
                    {
                        var location = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == argument.Key)?.GetLocation()
                            ?? syntax?.GetLocation() ?? method.Locations.FirstOrDefault();
                        context.ReportDiagnostic(Diagnostic.Create(
                            DiagnosticDescriptors.CreationNeedsUnreferencedCode, location, method.ContainingType.Name + "." + method.Name, argument.Key == "Plugins" ? "the plugin" : "the " + argument.Key.ToLowerInvariant(), named.Name, requirement));
                    }
                }
            }
        }
    }

    private static string Display(ITypeSymbol type)
        => type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);

    /// <summary>The <c>T</c> of <c>Task&lt;T&gt;</c>/<c>ValueTask&lt;T&gt;</c>, else the return type; null for none.</summary>
    private static ITypeSymbol? ResultType(IMethodSymbol method, KnownTypeSymbols known)
    {
        var type = method.ReturnType;
        if (type is INamedTypeSymbol { TypeArguments.Length: 1 } named
            && (KnownTypeSymbols.Is(named, known.TaskOfT) || KnownTypeSymbols.Is(named, known.ValueTaskOfT)))
        {
            return named.TypeArguments[0];
        }

        return type.SpecialType == SpecialType.System_Void || KnownTypeSymbols.Is(type, known.Task) || KnownTypeSymbols.Is(type, known.ValueTask)
            ? null
            : type;
    }

    /// <summary>
    /// What a [Cached] method stores of its result: the result itself, or for an <c>IEnumerable&lt;T&gt;</c> or
    /// <c>IAsyncEnumerable&lt;T&gt;</c> its items, as a <c>T[]</c>.
    /// </summary>
    private static ITypeSymbol? StoredResult(ITypeSymbol? result, KnownTypeSymbols known, Compilation compilation)
        => result is INamedTypeSymbol { TypeArguments.Length: 1 } sequence
            && (KnownTypeSymbols.Is(sequence, known.IEnumerable) || KnownTypeSymbols.Is(sequence, known.IAsyncEnumerable))
            ? compilation.CreateArrayTypeSymbol(sequence.TypeArguments[0])
            : result;

    /// <summary>The <c>TValue</c> of the dictionary a [MultiCached] method returns: what it stores per key.</summary>
    private static ITypeSymbol? ValueType(IMethodSymbol method, KnownTypeSymbols known)
        => ResultType(method, known) is INamedTypeSymbol { TypeArguments.Length: 2 } dictionary
            && (KnownTypeSymbols.Is(dictionary, known.Dictionary) || KnownTypeSymbols.Is(dictionary, known.IDictionary)
                || KnownTypeSymbols.Is(dictionary, known.IReadOnlyDictionary))
            ? dictionary.TypeArguments[1]
            : null;

    private static bool ContainsTypeParameter(ITypeSymbol type) => type switch
    {
        ITypeParameterSymbol => true,
        IArrayTypeSymbol array => ContainsTypeParameter(array.ElementType),
        INamedTypeSymbol named => named.TypeArguments.Any(ContainsTypeParameter),
        _ => false,
    };
}
