using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators.Model;

// Specs hold only strings, numbers, enums and equatable arrays: never symbols, syntax or locations, so the
// incremental pipeline can compare them and skip the emitter when nothing changed.

/// <summary>Which attribute a method carries.</summary>
internal enum CachedMethodKind
{
    Cached,
    MultiCached,
    Invalidate,
}

/// <summary>How a method returns its result.</summary>
internal enum ReturnKind
{
    Sync,
    Task,
    ValueTask,
    Void,
    PlainTask,
    PlainValueTask,
}

/// <summary>How a parameter is written into a default key.</summary>
internal enum KeyArgumentKind
{
    /// <summary><c>Argument(x)</c>: overloads and the generic fallback.</summary>
    Value,

    /// <summary><c>Sequence(x)</c>: arrays and collections.</summary>
    Sequence,

    /// <summary><c>Enum(x)</c>: enums, without boxing.</summary>
    Enum,

    /// <summary><c>NullableEnum(x)</c>.</summary>
    NullableEnum,

    /// <summary><c>Formattable(x)</c>: other ISpanFormattable structs, without boxing.</summary>
    Formattable,

    /// <summary><c>NullableFormattable(x)</c>: nullable ISpanFormattable structs (<c>int?</c>), without boxing.</summary>
    NullableFormattable,
}

/// <summary>How the missing keys of a multi-cached method are turned into the keys parameter's type.</summary>
internal enum KeysConversion
{
    AsList,
    ToArray,
    ToHashSet,
}

/// <summary>One type that contains the method, outermost first: <c>partial class Outer</c>.</summary>
internal sealed record TypeDeclarationSpec(string Keyword, string NameWithTypeParameters);

internal sealed record ContainingTypeSpec(string? Namespace, EquatableArray<TypeDeclarationSpec> Declarations, string FullName, string FileName, bool IsValueType);

internal sealed record ParameterSpec(
    string Name,
    string Type,
    string Modifiers,
    bool IsCancellationToken,
    bool InKey,
    KeyArgumentKind KeyKind);

/// <summary>How a method's key is built: exactly one of the forms is set.</summary>
internal sealed record KeySpec(
    string? FixedKey,
    string? TemplateInterpolation,
    string? BuilderMethod,
    bool BuilderIsStatic,
    string DefaultPrefix,
    bool IncludeInstance,
    EquatableArray<ParameterSpec> KeyParameters)
{
    /// <summary>The key method is an instance method when it reads <c>this</c>.</summary>
    public bool NeedsInstance => IncludeInstance || (BuilderMethod is not null && !BuilderIsStatic);
}

internal sealed record CacheOptionsSpec(
    double Ttl,
    double Lease,
    string? Namespace,
    string? Alias,
    string? CacheType,
    bool CacheTypeHasInitOptions,
    string? SerializerType,
    EquatableArray<string> PluginTypes);

internal sealed record MultiSpec(
    string KeysParameter,
    string KeyType,
    string ValueType,
    string DictionaryType,
    KeysConversion Conversion,
    string? KeyBuilderMethod,
    bool KeyBuilderIsStatic);

/// <summary>An entry to delete after an [InvalidateCache] method: the target's key method and the arguments to give it.</summary>
internal sealed record InvalidationSpec(string TargetField, string TargetKeyMethod, EquatableArray<string> Arguments, bool TargetIsStatic);

internal sealed record MethodSpec(
    CachedMethodKind Kind,
    ContainingTypeSpec ContainingType,
    string Name,
    string Modifiers,
    bool IsStatic,
    string ReturnType,
    ReturnKind ReturnKind,
    string ResultType,
    EquatableArray<ParameterSpec> Parameters,
    string Implementation,
    string FieldName,
    string KeyMethodName,
    KeySpec Key,
    CacheOptionsSpec Options,
    string? SkipCacheWhen,
    bool SkipCacheWhenIsStatic,
    int SkipCacheWhenArity,
    MultiSpec? Multi,
    EquatableArray<InvalidationSpec> Invalidations);

/// <summary>Where a diagnostic goes, kept as plain values so it can live in a cached spec.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
        => location?.SourceTree is null ? null : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
}

internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(DiagnosticDescriptors.ById(Id), Location?.ToLocation(), System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Cast<object>(Arguments)));
}

/// <summary>What the parser makes of one attributed method.</summary>
internal sealed record ParseResult(MethodSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
