using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators;

/// <summary>
/// CACHED043: two [Cached] methods of the project with the same fixed <c>Key</c> and <c>Namespace</c> in one cache
/// (the default alias's, or one <c>Alias</c>'s) share an entry, and the second answers the first one's result without
/// running its body. An analyzer rather than part of the generator: it compares methods across the whole compilation,
/// and reports at each method's own <c>Key</c> argument, where <c>#pragma</c> and .editorconfig apply.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SharedKeyAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.SharedFixedKey];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // A cached method's implementation part is generated: the method itself counts as generated code.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            var known = KnownTypeSymbols.For(start.Compilation);
            if (known.CachedAttribute is not { } cachedAttribute)
            {
                return;
            }

            var keys = new ConcurrentBag<FixedKey>();
            start.RegisterSymbolAction(symbol => Collect((IMethodSymbol)symbol.Symbol, cachedAttribute, keys, symbol.CancellationToken), SymbolKind.Method);
            start.RegisterCompilationEndAction(end =>
            {
                foreach (var group in keys.GroupBy(static k => (k.Alias, k.Namespace, k.Key)).Where(static g => g.Select(static k => k.Method).Distinct().Count() > 1))
                {
                    foreach (var key in group)
                    {
                        var others = group.Where(other => other.Method != key.Method).Select(static other => "'" + other.Method + "'").Distinct().OrderBy(static m => m, System.StringComparer.Ordinal);
                        end.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SharedFixedKey, key.Location, key.Method, key.Key, string.Join(", ", others)));
                    }
                }
            });
        });
    }

    /// <summary>
    /// A [Cached] method's fixed key, when its entries live in a shared cache: no <c>Cache</c>, <c>Serializer</c> or
    /// <c>Plugins</c> (each of which gives the method a cache of its own), and a <c>Key</c> without holes.
    /// </summary>
    private static void Collect(IMethodSymbol method, INamedTypeSymbol cachedAttribute, ConcurrentBag<FixedKey> keys, System.Threading.CancellationToken cancellationToken)
    {
        if (method.PartialDefinitionPart is not null)
        {
            return;
        }

        foreach (var attribute in method.GetAttributes())
        {
            if (!KnownTypeSymbols.Is(attribute.AttributeClass, cachedAttribute))
            {
                continue;
            }

            var named = attribute.NamedArguments.ToDictionary(static a => a.Key, static a => a.Value);
            bool Set(string name) => named.TryGetValue(name, out var value) && (value.Kind == TypedConstantKind.Array ? value.Values.Length > 0 : value.Value is not null);
            if (!named.TryGetValue("Key", out var keyValue) || keyValue.Value is not string key || key.Length == 0
                || key.IndexOfAny(['{', '}']) >= 0 || Set("Cache") || Set("Serializer") || Set("Plugins"))
            {
                continue;
            }

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var argument = syntax?.ArgumentList?.Arguments.FirstOrDefault(static a => a.NameEquals?.Name.Identifier.ValueText == "Key");
            var location = argument?.Expression.GetLocation() ?? method.Locations.FirstOrDefault() ?? Location.None;
            var alias = named.TryGetValue("Alias", out var aliasValue) ? aliasValue.Value as string : null;
            var space = named.TryGetValue("Namespace", out var namespaceValue) ? namespaceValue.Value as string : null;
            keys.Add(new FixedKey(method.ContainingType.Name + "." + method.Name, alias, space, key, location));
        }
    }

    private sealed record FixedKey(string Method, string? Alias, string? Namespace, string Key, Location Location);
}
