using Microsoft.CodeAnalysis;

namespace Cached.Generators.Model;

// Specs hold only strings, numbers, enums and equatable arrays: never symbols, syntax or locations, so the
// incremental pipeline can compare them and skip the emitter when nothing changed. Every semantic question
// (is this a Task? a concrete Dictionary? a static builder?) is answered by the parser and stored here, so the
// emitter only writes text.

/// <summary>Which attribute a method carries.</summary>
internal enum CachedMethodKind
{
    Cached,
    MultiCached,
    Invalidate,

    /// <summary>[InvalidateTags] alone; a method that also carries [InvalidateCache] is parsed as <see cref="Invalidate"/>.</summary>
    InvalidateTags,
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

    /// <summary>
    /// <c>Argument((object?)x)</c>: a <c>dynamic</c> value, keyed as an object parameter is. Passed as it is, the call
    /// on the writer (a ref struct) would be bound at run time, which C# refuses (CS9230).
    /// </summary>
    Dynamic,

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

    /// <summary>
    /// <c>Argument(x is { } r ? (object?)(r.A, r.B) : null)</c>: a value the writer would write by an ambiguous text (a
    /// record whose text is the compiler's, a key-value pair, or a tuple, sequence or dictionary holding one), reshaped
    /// first as its <see cref="KeyShapeSpec"/> says.
    /// </summary>
    Shaped,
}

/// <summary>How the missing keys of a multi-cached method are turned into the keys parameter's type.</summary>
internal enum KeysConversion
{
    AsList,
    ToArray,
    ToHashSet,
}

/// <summary>One type that contains the method, outermost first: <c>partial class Outer</c>.</summary>
/// <summary>One containing type as the generated file declares it again; <c>unsafe</c> where the user's declaration is.</summary>
internal sealed record TypeDeclarationSpec(string Keyword, string NameWithTypeParameters, bool IsUnsafe = false);

internal sealed record ContainingTypeSpec(
    string? Namespace,
    EquatableArray<TypeDeclarationSpec> Declarations,
    string FullName,
    string FileName,
    bool IsValueType)
{
    /// <summary>Whether the type is nested in a type it derives from, whose generated members its own hide.</summary>
    public bool NestedInABase { get; init; }
}

/// <summary>
/// One parameter of a cached method. For <see cref="KeyArgumentKind.Shaped"/>, <c>KeyShape</c> says how its value is
/// reshaped before the key writer writes it.
/// </summary>
internal sealed record ParameterSpec(string Name, string Type, string Modifiers, bool IsCancellationToken, KeyArgumentKind KeyKind, KeyShapeSpec? KeyShape = null);

/// <summary>
/// A user's method that generated code calls: the body, a key builder or a SkipCacheWhen predicate. <see cref="Name"/>
/// is written as code (<c>@default</c>), a generic one's with the type arguments it is called with
/// (<c>KeyOf&lt;T&gt;</c>). <see cref="Qualifier"/>, when set, must precede it where no instance does: <c>this</c>, or
/// for a static method the type that declares it (<c>global::Demo.Repository</c>), because the bare name would not
/// reach it (a parameter of its name would hide it).
/// </summary>
internal sealed record MemberCallSpec(string Name, bool IsStatic, string? Qualifier = null);

/// <summary>
/// The names of a cached method's static state and of its key method; overloads get a stable suffix. For a generic
/// method the state lives in a nested generic class, <see cref="StateClass"/> (<c>__cached_Echo&lt;T&gt;</c>), so
/// <see cref="Field"/> is the expression that reads it (<c>__cached_Echo&lt;T&gt;.Method</c>), and
/// <see cref="KeyMethod"/> carries the type parameters (<c>__CachedKey_Echo&lt;T&gt;</c>), as declared and as called.
/// <see cref="StateField"/> and <see cref="StatePrefix"/> name the state class's members (<c>Method</c>, <c>Prefix</c>,
/// with leading underscores when a type parameter of the method has that name).
/// </summary>
internal sealed record GeneratedNames(string Field, string KeyMethod, string? StateClass = null, string StateField = "Method", string StatePrefix = "Prefix");

/// <summary>The method as declared: what the generated body must match.</summary>
internal sealed record SignatureSpec
{
    public required string Name { get; init; }

    /// <summary>The declaration's modifiers without <c>partial</c>: <c>public static</c>.</summary>
    public required string Modifiers { get; init; }

    public required bool IsStatic { get; init; }

    public required string ReturnType { get; init; }

    public required ReturnKind ReturnKind { get; init; }

    /// <summary>The <c>T</c> of <c>T</c>, <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c>; empty when there is none.</summary>
    public required string ResultType { get; init; }

    public required EquatableArray<ParameterSpec> Parameters { get; init; }

    /// <summary>The type parameters of a generic method and their constraints; null for other methods.</summary>
    public TypeParametersSpec? TypeParameters { get; init; }
}

/// <summary>How a [Cached] method's key is built: one of four forms.</summary>
internal abstract record KeySpec(EquatableArray<ParameterSpec> Parameters)
{
    /// <summary>The key method is an instance method when it reads <c>this</c>.</summary>
    public abstract bool NeedsInstance { get; }

    /// <summary>
    /// True for keys written into the caller's stack buffer (templates and default keys), so that a hit makes no
    /// string; fixed and builder keys are strings already.
    /// </summary>
    public abstract bool WritesIntoBuffer { get; }
}

/// <summary><c>Key = "all-users"</c>: a literal, its doubled braces already undone.</summary>
internal sealed record FixedKeySpec(string Key) : KeySpec(EquatableArray<ParameterSpec>.Empty)
{
    public override bool NeedsInstance => false;

    public override bool WritesIntoBuffer => false;
}

/// <summary>
/// <c>Key = "user:{id}"</c>: the body of a C# interpolated string and the parameters it reads; the stack buffer it is
/// written into (<see cref="KeyBuffer"/>).
/// </summary>
internal sealed record TemplateKeySpec(string Interpolation, EquatableArray<ParameterSpec> Parameters, int BufferLength = KeyBuffer.Longest) : KeySpec(Parameters)
{
    public override bool NeedsInstance => false;

    public override bool WritesIntoBuffer => true;
}

/// <summary><c>KeyBuilder = nameof(UserKey)</c>: the user's method, given every parameter but tokens.</summary>
internal sealed record BuilderKeySpec(MemberCallSpec Builder, EquatableArray<ParameterSpec> Parameters) : KeySpec(Parameters)
{
    public override bool NeedsInstance => !Builder.IsStatic;

    public override bool WritesIntoBuffer => false;
}

/// <summary>
/// The default key <c>Namespace.Type.Method(arg1,arg2)</c>; <see cref="Prefix"/> is a C# expression. The stack buffer it
/// is written into: <see cref="KeyBuffer"/>.
/// </summary>
internal sealed record DefaultKeySpec(string Prefix, bool IncludeInstance, EquatableArray<ParameterSpec> Parameters, int BufferLength = KeyBuffer.Longest) : KeySpec(Parameters)
{
    public override bool NeedsInstance => IncludeInstance;

    public override bool WritesIntoBuffer => true;
}

internal sealed record CacheOptionsSpec
{
    public required double Ttl { get; init; }

    public required double Lease { get; init; }

    /// <summary>The resilience options, in seconds (<see cref="EagerRefresh"/>: a fraction of Ttl); 0 for none.</summary>
    public required double FailSafe { get; init; }

    public required double FailSafeThrottle { get; init; }

    public required double SoftTimeout { get; init; }

    public required double HardTimeout { get; init; }

    public required double EagerRefresh { get; init; }

    public required string? Namespace { get; init; }

    public required string? Alias { get; init; }

    public required string? CacheType { get; init; }

    public required string? SerializerType { get; init; }

    public required EquatableArray<string> PluginTypes { get; init; }

    /// <summary>Whether creating the Cache, Serializer or a plugin needs unreferenced or dynamic code (CACHED036).</summary>
    public bool FactoryRequiresUnreferencedCode { get; init; }
}

/// <summary><c>SkipCacheWhen</c>: the predicate and whether it takes the key before the value (multi-cached only).</summary>
internal sealed record SkipRuleSpec(MemberCallSpec Predicate, bool PassesKey);

internal sealed record MultiSpec
{
    public required string KeysParameter { get; init; }

    public required string KeyType { get; init; }

    public required string ValueType { get; init; }

    /// <summary>The dictionary type the method returns (the result type).</summary>
    public required string DictionaryType { get; init; }

    /// <summary>True for <c>Dictionary&lt;TKey, TValue&gt;</c> itself, which the runtime returns as it is.</summary>
    public required bool ReturnsConcreteDictionary { get; init; }

    public required KeysConversion Conversion { get; init; }

    public required MemberCallSpec? KeyBuilder { get; init; }

    /// <summary>The method's parameters the KeyBuilder takes after the key, in its order (<c>region</c>).</summary>
    public EquatableArray<string> KeyBuilderArguments { get; init; } = EquatableArray<string>.Empty;

    /// <summary>For a key type the key writer would write by an ambiguous text (a record, a pair): how its keys are reshaped first.</summary>
    public KeyShapeSpec? KeyShape { get; init; }

    /// <summary>The values are a reference type declared non-nullable: a null found under a key is read as a miss.</summary>
    public bool NullValuesMiss { get; init; }

    /// <summary>
    /// The body's keys parameter type, when the missing keys must be cast to it for the call to reach the body: an
    /// overload of the body's name that takes the missing keys' own collection (<c>List&lt;TKey&gt;</c>) would take it.
    /// </summary>
    public string? KeysCast { get; init; }
}

/// <summary>
/// What to delete after an [InvalidateCache] method: for a [Cached] target, the entry its key method builds from
/// <see cref="Arguments"/>; for a [MultiCached] target (<see cref="Keys"/> set), the entries of the keys named.
/// </summary>
internal sealed record InvalidationSpec(GeneratedNames Target, EquatableArray<string> Arguments, InvalidatedKeysSpec? Keys = null);

/// <summary>
/// The keys an [InvalidateCache] method names for a [MultiCached] target: its parameter of the KeysFrom name, one key
/// (<see cref="IsSingle"/>) or a collection, and the target's KeyBuilder, if any, with the invalidating method's
/// parameters it takes after the key (<see cref="BuilderArguments"/>, of the same names).
/// </summary>
internal sealed record InvalidatedKeysSpec(string Parameter, bool IsSingle, string KeyType, MemberCallSpec? KeyBuilder, KeyShapeSpec? KeyShape = null)
{
    public EquatableArray<string> BuilderArguments { get; init; } = EquatableArray<string>.Empty;
}

/// <summary>
/// The tags of a [Cached] or [MultiCached] method's entries, or those an [InvalidateTags] method invalidates, built as
/// keys are by a generated static method.
/// </summary>
/// <param name="Method">The method that builds them: <c>__CachedTags_GetUser</c>, with type parameters as called.</param>
/// <param name="Tags">Each a <see cref="FixedKeySpec"/> or a <see cref="TemplateKeySpec"/>.</param>
/// <param name="Parameters">The parameters the templates name, in declaration order: the method's own.</param>
/// <param name="KeyParameter">
/// A [MultiCached] method's KeysFrom parameter when a template names it: the method takes each entry's own key in its
/// place, typed as a key, so that every entry gets its own tag. Null otherwise.
/// </param>
internal sealed record TagsSpec(string Method, EquatableArray<KeySpec> Tags, EquatableArray<ParameterSpec> Parameters, string? KeyParameter = null);

/// <summary>
/// What an [InvalidateTags] method invalidates after its implementation returns: <see cref="Tags"/> in the cache of
/// <see cref="Alias"/>, or else in the caches of <see cref="Methods"/>, the state fields of the type's tagged methods.
/// </summary>
internal sealed record TagInvalidationSpec(TagsSpec Tags, string? Alias, EquatableArray<string> Methods);

/// <summary>One attributed method, everything the emitter needs to write its body.</summary>
internal sealed record MethodSpec
{
    public required CachedMethodKind Kind { get; init; }

    public required ContainingTypeSpec ContainingType { get; init; }

    public required SignatureSpec Signature { get; init; }

    /// <summary>The method that runs on a miss: <c>GetUserCore</c> by default; <c>EchoCore&lt;T&gt;</c> for a generic method.</summary>
    public required MemberCallSpec Implementation { get; init; }

    /// <summary>
    /// A base class's body that a method of its name in the type would take the plain call from, called through
    /// <c>base</c> by <see cref="Implementation"/>, a forwarder the emitter writes; null for any other body.
    /// </summary>
    public MemberCallSpec? BaseImplementation { get; init; }

    /// <summary>
    /// Whether the body is <c>[Obsolete(error: true)]</c>: the forwarder (<see cref="BaseImplementation"/>) is marked
    /// <c>[Obsolete]</c>, which lets it call the body, and a call to it only warns, which the generated file lifts.
    /// </summary>
    public bool IsObsoleteForwarder { get; init; }

    public required GeneratedNames Names { get; init; }

    public required CacheOptionsSpec Options { get; init; }

    /// <summary>The key of a [Cached] method; null for the other kinds.</summary>
    public KeySpec? Key { get; init; }

    public SkipRuleSpec? SkipWhen { get; init; }

    /// <summary>The keys and dictionary of a [MultiCached] method; null for the other kinds.</summary>
    public MultiSpec? Multi { get; init; }

    public EquatableArray<InvalidationSpec> Invalidations { get; init; } = EquatableArray<InvalidationSpec>.Empty;

    /// <summary>A [Cached] method whose result is a sequence, cached as its items; null for other results.</summary>
    public SequenceSpec? Sequence { get; init; }

    /// <summary>The Tags of a [Cached] or [MultiCached] method's entries; null for a method without tags.</summary>
    public TagsSpec? Tags { get; init; }

    /// <summary>The tags an [InvalidateTags] method invalidates; null for a method without the attribute.</summary>
    public TagInvalidationSpec? TagInvalidation { get; init; }

    /// <summary>The [Experimental] ids of the types and members the generated code names for it, which its file lifts.</summary>
    public EquatableArray<string> ExperimentalIds { get; init; } = EquatableArray<string>.Empty;

    /// <summary>
    /// Whether <c>var</c> names a type (or an alias) where the method is declared, so that a generated <c>var</c>
    /// local would be of that type: its file then names each local's type.
    /// </summary>
    public bool VarNamesAType { get; init; }

    /// <summary>Whether the method is <c>[Obsolete]</c>, so that the members written beside it are too.</summary>
    public bool IsObsolete { get; init; }
}

/// <summary>An alias a generated method names, and that method's full name, for the start-up check of configuration.</summary>
internal sealed record AliasUseSpec(string Alias, string Method);

/// <summary>
/// The methods of one containing type, in the order they are written, so that each type's file is an incremental
/// value of its own: an edit in one type leaves the other types' files alone.
/// </summary>
internal sealed record TypeSpec(ContainingTypeSpec Type, EquatableArray<MethodSpec> Methods);

/// <summary>
/// A diagnostic as the parser finds it. Unlike the specs it keeps its real <see cref="Microsoft.CodeAnalysis.Location"/>,
/// in the compilation's own syntax tree: only such a location is subject to <c>#pragma warning disable</c> and to a
/// file's .editorconfig severity (one rebuilt from a path and span is an external location that escapes both). It is
/// still compared by value: a location is equal when its tree and span are, so an unrelated edit leaves it cached.
/// It never reaches the emitter, which sees the specs alone.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, Location? Location, EquatableArray<string> Arguments)
{
    public Diagnostic ToDiagnostic()
        => Diagnostic.Create(
            Descriptor,
            Location,
            System.Linq.Enumerable.ToArray(System.Linq.Enumerable.Cast<object>(Arguments)));
}

/// <summary>What the parser makes of one attributed method.</summary>
internal sealed record ParseResult(MethodSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
