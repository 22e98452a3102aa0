using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators;

/// <summary>
/// CACHED043: cached methods of the project that write the same keys into one store share entries, and one that stores
/// another type answers with the other's value, or cannot read it: two [Cached] methods with one fixed <c>Key</c>, or two [MultiCached]
/// methods without a <c>KeyBuilder</c> (their keys are the key values' text), with one <c>Namespace</c> in the default
/// alias's cache, one <c>Alias</c>'s, or Redis through <c>Cache = typeof(RedisCache)</c> (each method's instance reaches
/// the same server). An analyzer rather than part of the generator: it compares methods across the whole compilation,
/// and reports at each method's own attribute argument, where <c>#pragma</c> and .editorconfig apply.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SharedKeyAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The alias a method without one uses (Caches.DefaultAlias).</summary>
    private const string DefaultAlias = "default";

    /// <summary>The store of methods with <c>Cache = typeof(RedisCache)</c>: each instance reaches the default server.</summary>
    private const string RedisStore = "\0redis";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.SharedKeys];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        // A cached method's implementation part is generated: the method itself counts as generated code.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // Two lookups, not the generator's whole set of known types: every build of a project pays for them.
            if (start.Compilation.GetTypeByMetadataName("Cached.CachedAttribute") is not { } cachedAttribute
                || start.Compilation.GetTypeByMetadataName("Cached.MultiCachedAttribute") is not { } multiCachedAttribute)
            {
                return;
            }

            var redis = new Lazy<INamedTypeSymbol?>(() => start.Compilation.GetTypeByMetadataName("Cached.Redis.RedisCache"));
            var keys = new ConcurrentBag<SharedKey>();
            // Per type, its methods read in one go: a callback per method cost a build a tenth of a second in 1,000.
            start.RegisterSymbolAction(symbol =>
            {
                foreach (var member in ((INamedTypeSymbol)symbol.Symbol).GetMembers())
                {
                    if (member is IMethodSymbol { IsPartialDefinition: true } method)
                    {
                        Collect(method, cachedAttribute, multiCachedAttribute, redis, keys, symbol.CancellationToken);
                    }
                }
            }, SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end => Report(end, keys));
        });
    }

    private static void Report(CompilationAnalysisContext end, IEnumerable<SharedKey> keys)
    {
        foreach (var group in keys.GroupBy(static k => (k.Store, k.Namespace, k.Key)))
        {
            foreach (var key in group)
            {
                // Methods that store one type alike (a sync and an async twin) share their entries on purpose; one that
                // stores another type reads entries it cannot use, or answers with the other's value.
                // Types compared as symbols, nullable annotations aside (string? and string are one stored type); shown
                // with their namespaces, so that two types of one name read apart.
                var others = group.Where(other => !SymbolEqualityComparer.Default.Equals(other.Method, key.Method) && !SymbolEqualityComparer.Default.Equals(other.Stored, key.Stored))
                    .Select(static other => $"'{Name(other.Method)}' ({other.Stored.ToDisplayString()})").Distinct().OrderBy(static m => m, System.StringComparer.Ordinal).ToList();
                if (others.Count > 0)
                {
                    end.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SharedKeys, key.Location, Name(key.Method), key.Stored.ToDisplayString(), key.Shown, string.Join(", ", others)));
                }
            }
        }
    }

    /// <summary>The method as a message names it: its type's full name, and its parameters when its name is overloaded.</summary>
    private static string Name(IMethodSymbol method)
    {
        var name = method.ContainingType.ToDisplayString() + "." + method.Name;
        return method.ContainingType.GetMembers(method.Name).Length > 1
            ? name + "(" + string.Join(", ", method.Parameters.Select(static p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))) + ")"
            : name;
    }

    /// <summary>The keys a [Cached] or [MultiCached] method writes, when another method could write them into its store too.</summary>
    private static void Collect(IMethodSymbol method, INamedTypeSymbol cachedAttribute, INamedTypeSymbol multiCachedAttribute, Lazy<INamedTypeSymbol?> redis, ConcurrentBag<SharedKey> keys, System.Threading.CancellationToken cancellationToken)
    {
        // Only a partial declaration is a cached method: its body, helpers and the generated parts are passed by.
        if (!method.IsPartialDefinition)
        {
            return;
        }

        foreach (var attribute in method.GetAttributes())
        {
            var isMulti = KnownTypeSymbols.Is(attribute.AttributeClass, multiCachedAttribute);
            if (!isMulti && !KnownTypeSymbols.Is(attribute.AttributeClass, cachedAttribute))
            {
                continue;
            }

            // Most [Cached] methods have no fixed key: passed by before anything is read into a dictionary.
            if (!isMulti && !attribute.NamedArguments.Any(static a => a.Key == "Key" && a.Value.Value is string text && FixedTemplates.TextOf(text) is { Length: > 0 }))
            {
                continue;
            }

            // A repeated argument (an error of its own) counts once.
            var named = attribute.NamedArguments.GroupBy(static a => a.Key).ToDictionary(static g => g.Key, static g => g.First().Value);
            if (Store(named, redis) is not { } store)
            {
                continue;
            }

            string key, shown, argument;
            if (isMulti)
            {
                if (named.TryGetValue("KeyBuilder", out var builder) && builder.Value is not null)
                {
                    continue;
                }

                (key, shown, argument) = ("\0keys", "its key values' text (no KeyBuilder)", "KeysFrom");
            }
            else if (named.TryGetValue("Key", out var keyValue) && keyValue.Value is string text && FixedTemplates.TextOf(text) is { Length: > 0 } fixedKey)
            {
                (key, shown, argument) = (fixedKey, "the fixed key '" + fixedKey + "'", "Key");
            }
            else
            {
                continue;
            }

            var space = named.TryGetValue("Namespace", out var namespaceValue) ? namespaceValue.Value as string : null;
            // No namespace and an empty one are the same where the cache has none of its own: the default alias
            // unconfigured, and a RedisCache made with its defaults.
            if (space is { Length: 0 } && store is DefaultAlias or RedisStore)
            {
                space = null;
            }

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var at = syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == argument);
            var location = at?.Expression.GetLocation() ?? syntax?.GetLocation() ?? method.Locations.FirstOrDefault() ?? Location.None;
            keys.Add(new SharedKey(method, store, space, key, shown, StoredType(method, isMulti), location));
        }
    }

    /// <summary>
    /// The store a method's entries go to, when other methods can reach it: its alias (the default one without), or
    /// Redis for a <c>Cache</c> of that type; null for an in-process cache of the method's own (a <c>Cache</c> of
    /// another type, or a <c>Serializer</c> or <c>Plugins</c>, which make it a <c>SimpleMemoryCache</c>).
    /// </summary>
    private static string? Store(Dictionary<string, TypedConstant> named, Lazy<INamedTypeSymbol?> redis)
    {
        bool Set(string name) => named.TryGetValue(name, out var value) && (value.Kind == TypedConstantKind.Array ? value.Values.Length > 0 : value.Value is not null);
        if (named.TryGetValue("Cache", out var cache) && cache.Value is INamedTypeSymbol type)
        {
            for (var current = (INamedTypeSymbol?)type; current is not null; current = current.BaseType)
            {
                if (current.Name == "RedisCache" && SymbolEqualityComparer.Default.Equals(current, redis.Value))
                {
                    return RedisStore;
                }
            }

            return null;
        }

        if (Set("Serializer") || Set("Plugins"))
        {
            return null;
        }

        return named.TryGetValue("Alias", out var alias) && alias.Value is string name ? name : DefaultAlias;
    }

    /// <summary>
    /// The type of what the method stores, as a message shows it: its result (a task's), or a [MultiCached] method's
    /// dictionary values.
    /// </summary>
    private static ITypeSymbol StoredType(IMethodSymbol method, bool isMulti)
    {
        var type = method.ReturnType;
        if (type is INamedTypeSymbol { TypeArguments.Length: 1, Name: "Task" or "ValueTask" } task
            && task.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks")
        {
            type = task.TypeArguments[0];
        }

        if (isMulti && type is INamedTypeSymbol { TypeArguments.Length: 2 } dictionary)
        {
            type = dictionary.TypeArguments[1];
        }

        return type;
    }

    private sealed record SharedKey(IMethodSymbol Method, string Store, string? Namespace, string Key, string Shown, ITypeSymbol Stored, Location Location);
}
