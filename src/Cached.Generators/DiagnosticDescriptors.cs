using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>Every diagnostic of the Cached generator, in one place. Ids are stable; docs/diagnostics.md explains each.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Cached";
    // Relative to the repository root: the catalog of causes and fixes.
    private const string HelpBase = "docs/diagnostics.md#";

    public static readonly DiagnosticDescriptor MethodNotPartial = Error(
        "CACHED001",
        "Cached method must be a partial method in partial types",
        "'{0}' must be declared 'partial' without a body, in types that are all 'partial' ({1}), so that Cached can write its body");

    public static readonly DiagnosticDescriptor ImplementationMissing = Error(
        "CACHED002",
        "Implementation method missing or with another signature",
        "'{0}' needs the method that runs on a miss: add '{1}'");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Error(
        "CACHED003",
        "Parameter cannot be cached",
        "Parameter '{0}' of '{1}' is {2}: a cached method cannot take it");

    public static readonly DiagnosticDescriptor UnsupportedReturn = Error(
        "CACHED004",
        "Cached method must return a value",
        "'{0}' returns '{1}': a cached method returns a value, Task<T> or ValueTask<T>");

    public static readonly DiagnosticDescriptor UnknownTemplateParameter = Error(
        "CACHED005",
        "Key template names an unknown parameter",
        "Key template \"{0}\" names '{1}', which is not a parameter of '{2}' (parameters: {3})");

    public static readonly DiagnosticDescriptor ConflictingCacheOptions = Error(
        "CACHED006",
        "Alias cannot be combined with Cache, Serializer or Plugins",
        "'{0}' sets Alias and {1}: an alias's configuration decides its cache, serializer and plugins; remove one of them");

    public static readonly DiagnosticDescriptor InvalidKeysFrom = Error(
        "CACHED007",
        "KeysFrom must name an enumerable parameter",
        "KeysFrom of '{0}' {1}");

    public static readonly DiagnosticDescriptor InvalidMultiCachedReturn = Error(
        "CACHED008",
        "MultiCached method must return a dictionary keyed by the key type",
        "'{0}' returns '{1}': a [MultiCached] method returns Dictionary, IDictionary or IReadOnlyDictionary<{2}, TValue>, directly or in a Task/ValueTask");

    public static readonly DiagnosticDescriptor InvalidSkipCacheWhen = Error(
        "CACHED009",
        "SkipCacheWhen must name a predicate of the result",
        "SkipCacheWhen of '{0}' names '{1}': add 'bool {1}({2})'{3}");

    public static readonly DiagnosticDescriptor InvalidKeyBuilder = Error(
        "CACHED010",
        "KeyBuilder must name a method that returns the key",
        "KeyBuilder of '{0}' names '{1}': add 'string {1}({2})'{3}");

    public static readonly DiagnosticDescriptor NegativeDuration = Error(
        "CACHED011",
        "Ttl and Lease cannot be negative",
        "{1} of '{0}' is {2}: use a positive number of seconds, or 0 for the default");

    public static readonly DiagnosticDescriptor KeyParameterWithoutValueToString = Warning(
        "CACHED012",
        "Key parameter type has no value-based ToString",
        "Parameter '{0}' of '{1}' has type '{2}', which does not override ToString: different values would share one cache key; override ToString, use a record, mark it [CacheKeyIgnore], or set Key/KeyBuilder");

    public static readonly DiagnosticDescriptor InvalidateTargetNotFound = Error(
        "CACHED013",
        "InvalidateCache names no cached method",
        "[InvalidateCache] on '{0}' names '{1}', which is not a [Cached] or [MultiCached] method of '{2}'");

    public static readonly DiagnosticDescriptor InvalidateKeyMismatch = Error(
        "CACHED014",
        "InvalidateCache cannot build the target's key",
        "[InvalidateCache] on '{0}' cannot build the key of '{1}': it needs a parameter '{2}' of type '{3}'");

    public static readonly DiagnosticDescriptor GenericMethodUnsupported = Error(
        "CACHED015",
        "Generic cached methods are not supported",
        "'{0}' is generic: cache a non-generic method, or a method of a generic type");

    public static readonly DiagnosticDescriptor InvalidTypeOption = Error(
        "CACHED016",
        "Cache, Serializer or Plugins type cannot be used",
        "{1} of '{0}' is '{2}', which {3}");

    public static readonly DiagnosticDescriptor IncludeInstanceOnStatic = Error(
        "CACHED017",
        "IncludeInstance on a static method",
        "'{0}' is static, so it has no instance to put in the key: remove IncludeInstance");

    public static readonly DiagnosticDescriptor InvalidateKeysMismatch = Error(
        "CACHED018",
        "InvalidateCache cannot name the keys of a MultiCached target",
        "[InvalidateCache] on '{0}' cannot name the keys of [MultiCached] '{1}': {2}");

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = new()
    {
        [MethodNotPartial.Id] = MethodNotPartial,
        [ImplementationMissing.Id] = ImplementationMissing,
        [UnsupportedParameter.Id] = UnsupportedParameter,
        [UnsupportedReturn.Id] = UnsupportedReturn,
        [UnknownTemplateParameter.Id] = UnknownTemplateParameter,
        [ConflictingCacheOptions.Id] = ConflictingCacheOptions,
        [InvalidKeysFrom.Id] = InvalidKeysFrom,
        [InvalidMultiCachedReturn.Id] = InvalidMultiCachedReturn,
        [InvalidSkipCacheWhen.Id] = InvalidSkipCacheWhen,
        [InvalidKeyBuilder.Id] = InvalidKeyBuilder,
        [NegativeDuration.Id] = NegativeDuration,
        [KeyParameterWithoutValueToString.Id] = KeyParameterWithoutValueToString,
        [InvalidateTargetNotFound.Id] = InvalidateTargetNotFound,
        [InvalidateKeyMismatch.Id] = InvalidateKeyMismatch,
        [GenericMethodUnsupported.Id] = GenericMethodUnsupported,
        [InvalidTypeOption.Id] = InvalidTypeOption,
        [IncludeInstanceOnStatic.Id] = IncludeInstanceOnStatic,
        [InvalidateKeysMismatch.Id] = InvalidateKeysMismatch,
    };

    public static IEnumerable<DiagnosticDescriptor> All => s_byId.Values;

    public static DiagnosticDescriptor ById(string id) => s_byId[id];

    private static DiagnosticDescriptor Error(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message)
        => new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
