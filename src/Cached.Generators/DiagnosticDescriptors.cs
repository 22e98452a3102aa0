using System.Collections.Generic;
using System.Globalization;
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
        "'{0}' must be declared 'partial' without a body, in types that are all 'partial' ({1}), so that Cached can write its body",
        "The generator writes the body of the attributed method, so the method must be a 'partial' declaration without a body, and every type that contains it must be 'partial' too.");

    public static readonly DiagnosticDescriptor ImplementationMissing = Error(
        "CACHED002",
        "Implementation method missing or with another signature",
        "'{0}' needs the method that runs on a miss: add '{1}'",
        "On a miss the generated method calls '<Name>Core' (or the method named by Implementation) with the same parameters (types and ref kinds), the same return type and the same static-ness; the type declares it, or a base class does where the type can call it. [MultiCached] and [InvalidateCache] methods need one too.");

    // The same rule as CACHED002 when a method of that name exists: the message shows what to change, not what to add.
    public static readonly DiagnosticDescriptor ImplementationSignatureMismatch = Error(
        "CACHED002",
        "Implementation method missing or with another signature",
        "'{0}' runs '{1}' on a miss, but '{2}' has another signature: change it to '{3}'",
        ImplementationMissing.Description.ToString(CultureInfo.InvariantCulture));

    public static readonly DiagnosticDescriptor UnsupportedParameter = Error(
        "CACHED003",
        "Parameter cannot be cached",
        "Parameter '{0}' of '{1}' is {2}: {3}",
        "A 'ref', 'out', 'in' or 'ref readonly' parameter, a pointer, a ref struct such as Span<T>, or a type parameter of the containing type that 'allows ref struct' cannot be kept for another call; an [InvalidateCache] or [InvalidateTags] method cannot take them either, as its generated body passes its arguments on by value. Pass a value instead, e.g. an array or ReadOnlyMemory<T> instead of a span. A default key cannot write a multi-dimensional array, or a Memory<T> inside another type (a tuple's element, a list's item): use a jagged array or a memory parameter of its own, a Key template or KeyBuilder, or [CacheKeyIgnore]. A cached method takes at most one CancellationToken, which cancels the call and is the token its body gets: link two tokens into one before the call. A parameter or type parameter name that begins with two underscores is kept for the generated code's own names: rename it.");

    public static readonly DiagnosticDescriptor UnsupportedReturn = Error(
        "CACHED004",
        "Cached method must return a value",
        "'{0}' returns '{1}': a cached method returns a value, Task<T> or ValueTask<T>",
        "A [Cached] or [MultiCached] method that returns void, Task or ValueTask has nothing to cache. Return a value, Task<T> or ValueTask<T>; use [InvalidateCache] for a method that only changes data.");

    public static readonly DiagnosticDescriptor UnknownTemplateParameter = Error(
        "CACHED005",
        "Key template names an unknown parameter",
        "Key template \"{0}\" names '{1}', which is not a parameter of '{2}' (parameters: {3}){4}",
        "Each {name} of a Key template must name a parameter of the method other than its CancellationToken: a whole parameter, not a member of it ({user.Id}), which a KeyBuilder method can use. Format specifiers ({id:D4}) and alignment ({id,8}) are allowed; {{ and }} are literal braces.");

    public static readonly DiagnosticDescriptor ConflictingCacheOptions = Error(
        "CACHED006",
        "Alias cannot be combined with Cache, Serializer or Plugins",
        "'{0}' sets Alias and {1}: an alias's configuration decides its cache, serializer and plugins; remove one of them",
        "An alias's configuration decides its cache, serializer and plugins, so Alias cannot be combined with Cache, Serializer or Plugins. Remove one side, or configure the serializer and plugins on the alias.");

    public static readonly DiagnosticDescriptor InvalidKeysFrom = Error(
        "CACHED007",
        "KeysFrom must name an enumerable parameter",
        "KeysFrom of '{0}' {1}",
        "A [MultiCached] method's KeysFrom must name the parameter that holds the keys: an array, List<T>, IList<T>, ICollection<T>, IReadOnlyList<T>, IReadOnlyCollection<T>, IEnumerable<T>, HashSet<T>, ISet<T> or IReadOnlySet<T>.");

    public static readonly DiagnosticDescriptor InvalidMultiCachedReturn = Error(
        "CACHED008",
        "MultiCached method must return a dictionary keyed by the key type",
        "'{0}' returns '{1}': a [MultiCached] method returns Dictionary, IDictionary or IReadOnlyDictionary<{2}, TValue>, directly or in a Task/ValueTask",
        "A [MultiCached] method returns Dictionary<TKey, TValue>, IDictionary<TKey, TValue> or IReadOnlyDictionary<TKey, TValue>, directly or in a Task/ValueTask, where TKey is the element type of the KeysFrom parameter.");

    public static readonly DiagnosticDescriptor InvalidSkipCacheWhen = Error(
        "CACHED009",
        "SkipCacheWhen must name a predicate of the result",
        "SkipCacheWhen of '{0}' names '{1}': add 'bool {1}({2})'{3}",
        "SkipCacheWhen names a method of the type that returns bool and takes the result ('bool Name(TResult result)'; for [MultiCached], 'bool Name(TValue value)' or 'bool Name(TKey key, TValue value)'), static when the cached method is.");

    public static readonly DiagnosticDescriptor InvalidKeyBuilder = Error(
        "CACHED010",
        "KeyBuilder must name a method that returns the key",
        "KeyBuilder of '{0}' names '{1}': add 'string {1}({2})'{3}",
        "KeyBuilder names a method of the type that returns the key as a string and takes the method's parameters without its CancellationToken ([MultiCached]: one key, then any of the method's other parameters, by name and type), static when the cached method is.");

    public static readonly DiagnosticDescriptor InvalidDuration = Error(
        "CACHED011",
        "Durations must be between 0 and TimeSpan.MaxValue",
        "{1} of '{0}' is {2}: {3}",
        "Ttl, Lease, FailSafe, FailSafeThrottle, SoftTimeout and HardTimeout are numbers of seconds: positive, or 0 for the default (the cache's Ttl; none for the others; 30 s for FailSafeThrottle). A negative, infinite or NaN value is refused, and so is one beyond TimeSpan.MaxValue (922337203685.4775 seconds), which would throw when the method's type is first used.");

    public static readonly DiagnosticDescriptor KeyParameterWithoutValueToString = Warning(
        "CACHED012",
        "Key parameter type has no value-based ToString",
        "{0} of '{1}' has type '{2}'{3}, which does not override ToString: different values would share one cache key; {4}",
        "A key writes each argument's text. A class or struct that keeps object.ToString(), or a delegate, writes its type name, so different values would share one cache entry. The same holds for such a type inside a value the key writes part by part: an array's or a sequence's elements, a dictionary's keys and values, a tuple's items, a KeyValuePair, a grouping, or a record's printed members, however deep; for a Key template's hole, which writes a record or a tuple by its own ToString, so that a collection inside it (printed as its type name) is reported there too; and for a [MultiCached] key. Override ToString, use a record, mark the parameter [CacheKeyIgnore], or set Key or KeyBuilder.");

    public static readonly DiagnosticDescriptor InvalidateTargetNotFound = Error(
        "CACHED013",
        "InvalidateCache names no cached method",
        "[InvalidateCache] on '{0}' names '{1}', which is not a [Cached] or [MultiCached] method of '{2}' (such methods: {3})",
        "Each name given to [InvalidateCache] must be a [Cached] or [MultiCached] method of the same type; nameof(...) keeps the names right.");

    public static readonly DiagnosticDescriptor InvalidateKeyMismatch = Error(
        "CACHED014",
        "InvalidateCache cannot build the target's key",
        "[InvalidateCache] on '{0}' cannot build the key of '{1}': it needs a parameter '{2}' of type '{3}'",
        "An [InvalidateCache] method builds the target's key from its own parameters: it needs every parameter of the target's key, with the same name and type, and an instance when the target's key reads one (IncludeInstance, or an instance KeyBuilder).");

    public static readonly DiagnosticDescriptor GenericMethodUnsupported = Error(
        "CACHED015",
        "Generic method cannot be cached in this shape",
        "'{0}' {1}",
        "Generic [Cached] and [InvalidateCache] methods are supported, each instantiation with its own entries. Refused: a generic [MultiCached] method, or one declared in a generic type (its entries are keyed by the key values alone, so its instantiations, or the closed types Repo<int> and Repo<long>, would share them), a type parameter named like one of the containing type's (it hides it), a type parameter that 'allows ref struct' (a ref struct cannot be stored), and an [InvalidateCache] method that names a generic method without declaring its type parameters (same names, at least its constraints).");

    public static readonly DiagnosticDescriptor InvalidTypeOption = Error(
        "CACHED016",
        "Cache, Serializer or Plugins type cannot be used",
        "{1} of '{0}' is '{2}', which {3}",
        "A Cache, Serializer or Plugins type must be a concrete class that implements ICache, ISerializer or ICachePlugin, with a public parameterless constructor; with a custom Cache, Serializer and Plugins also need the cache to derive from BaseCache. The generated code creates it with 'new T()' in a file of its own, so it cannot be file-local, nor have required members unless that constructor is [SetsRequiredMembers].");

    public static readonly DiagnosticDescriptor IncludeInstanceOnStatic = Error(
        "CACHED017",
        "IncludeInstance on a static method",
        "'{0}' is static, so it has no instance to put in the key: remove IncludeInstance",
        "IncludeInstance puts the instance in the key, and a static method has none. Remove IncludeInstance, or make the method an instance method.");

    public static readonly DiagnosticDescriptor InvalidateKeysMismatch = Error(
        "CACHED018",
        "InvalidateCache cannot name the keys of a MultiCached target",
        "[InvalidateCache] on '{0}' cannot name the keys of [MultiCached] '{1}': {2}",
        "An [InvalidateCache] method that names a [MultiCached] method drops the entries of the keys it passes: it needs a parameter with the name of the target's KeysFrom parameter, holding one key or a collection of keys of the target's key type, and the parameters the target's KeyBuilder takes after the key, of the same names and types.");

    public static readonly DiagnosticDescriptor KeyWithoutTypeParameters = Error(
        "CACHED019",
        "Key of a generic method or type must name its type parameters",
        "Key \"{0}\" of '{1}' does not name {2}: its instantiations would share entries; add {3} to the key",
        "Each instantiation of a generic cached method (Echo<int>, Echo<string>), and each closed type of a generic containing type (Settings<int>, Settings<long>), keeps entries of its own, so a fixed Key or a Key template must name every type parameter of the method and of its containing types: {T} writes the type argument's name. A KeyBuilder of a generic method is generic in the same type parameters.");

    public static readonly DiagnosticDescriptor OneShotSequence = Error(
        "CACHED020",
        "Result is a sequence that cannot be cached as it is",
        "'{0}' returns '{1}': {2}",
        "A [Cached] method that returns IEnumerable<T> or IAsyncEnumerable<T> caches the items, read once on a miss. An enumerator (IEnumerator, IEnumerator<T>, IAsyncEnumerator<T>), a non-generic IEnumerable, an IAsyncEnumerable<T> inside a Task or ValueTask, and [MultiCached] values that are lazy sequences cannot be cached that way: return IEnumerable<T>, IAsyncEnumerable<T>, an array or a list. An IAsyncEnumerable<T> result cannot carry Tags either: return Task<IEnumerable<T>> or ValueTask<IEnumerable<T>> for a tagged method.");

    public static readonly DiagnosticDescriptor JsonMetadataMissing = Warning(
        "CACHED021",
        "Result type has no source-generated JSON metadata",
        "'{0}' may store its result as JSON ({1}), but no JsonSerializerContext of this trimmed or NativeAOT project lists '{2}', so the method would run uncached: add [JsonSerializable(typeof({2}))] to a JsonSerializerContext",
        "In a trimmed or NativeAOT project, System.Text.Json cannot serialize by reflection, so Cached's JsonSerializer (RedisCache's default) takes a type's metadata from the project's source-generated contexts, which the generator registers. A [Cached] or [MultiCached] method whose result (for [MultiCached], the dictionary's value type) no context lists would refuse to cache and run its body every time. Add the type to a JsonSerializerContext with [JsonSerializable(typeof(T))], or give the method another serializer.");

    public static readonly DiagnosticDescriptor InvalidEagerRefresh = Error(
        "CACHED022",
        "EagerRefresh must be a fraction between 0 and 1",
        "EagerRefresh of '{0}' is {1}: use a fraction of Ttl strictly between 0 and 1 (0.8 refreshes after 80% of Ttl), or 0 for none",
        "EagerRefresh is a fraction of Ttl: a hit later than that fraction refreshes the entry in the background. It lies strictly between 0 and 1; 0 (the default) means no eager refresh. 1 or more would never refresh before the entry expires, and a negative, infinite or NaN value means nothing.");

    public static readonly DiagnosticDescriptor SoftTimeoutWithoutFailSafe = Warning(
        "CACHED023",
        "SoftTimeout has no effect without FailSafe",
        "SoftTimeout of '{0}' answers with the last value, which only FailSafe keeps: set FailSafe, or use HardTimeout to bound the wait",
        "SoftTimeout answers a caller with the last value when the method is slow; past Ttl only FailSafe keeps a last value, so without it every caller waits for the method as if SoftTimeout were not set. Set FailSafe, or use HardTimeout, which bounds the wait with or without a last value.");

    public static readonly DiagnosticDescriptor UnknownTagParameter = Error(
        "CACHED024",
        "Tag template names an unknown parameter",
        "Tag \"{0}\" of '{1}' names '{2}', {3} (parameters: {4})",
        "Each {name} of a tag template (Tags of [Cached] and [MultiCached], the tags of [InvalidateTags]) must name a parameter of the method other than its CancellationToken; in a [MultiCached] tag, the KeysFrom parameter stands for each entry's own key. Format specifiers ({id:D4}) and alignment ({id,8}) are allowed; {{ and }} are literal braces.");

    public static readonly DiagnosticDescriptor EmptyTag = Error(
        "CACHED025",
        "Tag cannot be null or empty",
        "'{0}' {1}",
        "A tag is a fixed text or a template (\"users\", \"user:{id}\"); null or empty, it would name nothing, and the cache refuses it at run time. [InvalidateTags] names at least one tag.");

    public static readonly DiagnosticDescriptor NothingToInvalidate = Warning(
        "CACHED026",
        "InvalidateTags has no cache to invalidate in",
        "[InvalidateTags] on '{0}' has no Alias, and '{1}' has no [Cached] or [MultiCached] method with Tags{2}: nothing would be invalidated; set Alias, or give the type's cached methods Tags",
        "Without Alias, [InvalidateTags] invalidates its tags in the caches of the tagged [Cached] and [MultiCached] methods of its own type (a generic one when the method declares its type parameters too). When there is none, it would invalidate nothing: set Alias to the cache the tagged entries live in, or add Tags to the methods whose entries it should invalidate.");

    public static readonly DiagnosticDescriptor MalformedTemplateHole = Error(
        "CACHED027",
        "Template hole is malformed",
        "Template \"{0}\" of '{1}' has the hole '{2}': {3}",
        "A hole of a Key or tag template is {name}, {name,alignment}, {name:format} or {name,alignment:format}: the alignment a whole number (negative to pad on the right), the format not empty, without braces and not ending in whitespace or a line break. Write a literal brace as {{ or }}.");

    public static readonly DiagnosticDescriptor SeveralBodies = Error(
        "CACHED028",
        "A method can carry one of [Cached], [MultiCached] and [InvalidateCache]",
        "'{0}' carries {1}: each would write the method's body; keep one, and put the other on a method of its own",
        "[Cached], [MultiCached] and [InvalidateCache] each write the body of the method they are on, so a method carries one of them ([InvalidateTags] goes with [InvalidateCache], whose body then invalidates the tags too, or alone). To cache a method and invalidate entries of others, or to cache one value and a batch, declare a method for each. The same holds beside another generator's attribute that writes the body ([GeneratedRegex], [LoggerMessage], [LibraryImport], [JSImport]) and beside the method's own implementing declaration: the body a cached method runs on a miss goes into '<Name>Core'.");

    public static readonly DiagnosticDescriptor UnsupportedContainingType = Error(
        "CACHED029",
        "Cached method cannot be declared in this type",
        "'{0}' is declared in {1}",
        "The generator declares the other half of the method's type in a file of its own and keeps the instance for the body: a file-local type is invisible from that file, an instance method of a ref struct cannot keep its instance, and a member of a C# 14 extension block has no type the generator can declare. Declare the type without 'file', make the method static or the type a plain struct, or declare a classic extension method (a 'this' parameter) in the static class.");

    public static readonly DiagnosticDescriptor InstanceWithoutValueToString = Warning(
        "CACHED030",
        "IncludeInstance on a type without value-based ToString",
        "'{0}' sets IncludeInstance, but '{1}' does not override ToString: every instance writes its type name into the key, so all instances would share one cache entry; override ToString (or make the type a record), or set Key or KeyBuilder",
        "IncludeInstance puts the instance's text first in the default key, so that instances keep apart (pycached's noself=False). A class or struct that keeps object.ToString() writes its type name, the same for every instance. Override ToString to say what tells instances apart, use a record, or write the key with Key or KeyBuilder.");

    public static readonly DiagnosticDescriptor UnsupportedReturnShape = Error(
        "CACHED031",
        "Result cannot be cached",
        "'{0}' returns {1}: {2}",
        "A result returned by reference ('ref' or 'ref readonly'), a ref struct such as Span<T> or ReadOnlySpan<T>, a type parameter of the containing type that 'allows ref struct', or a pointer cannot be kept for another call; an [InvalidateCache] or [InvalidateTags] method cannot return them either, as its generated body holds its body's result as a plain value while it invalidates. Return a value instead: a copy, an array or ReadOnlyMemory<T> instead of a span. An awaitable other than Task<T> and ValueTask<T> (ConfiguredTaskAwaitable<T>, a custom awaitable) would be kept as it is, unawaited, a faulted one replayed to every caller, and an invalidating method would invalidate before its work ran: return Task<T> or ValueTask<T> (or Task, ValueTask).");

    public static readonly DiagnosticDescriptor ValueTupleNeedsReflection = Warning(
        "CACHED032",
        "A value tuple stored as JSON needs reflection",
        "'{0}' may store its result as JSON ({1}), and '{2}' holds the value tuple '{3}', which JsonSerializer refuses in a trimmed or NativeAOT project, so the method would run uncached: use a record instead",
        "Cached's JsonSerializer stores a value tuple as a JSON array of its items (Python's form of a tuple), which it can only do by reflection. In a trimmed or NativeAOT project a value tuple is refused, wherever it sits in the value (the result, an element, a member), and the method runs its body every time. A context's metadata cannot help: System.Text.Json's generator skips a tuple's items, which are fields. Use a record (record struct Point(int X, int Y)) instead, or give the method another serializer.");

    public static readonly DiagnosticDescriptor PublicFieldSkipped = Warning(
        "CACHED033",
        "A public field of a value stored as JSON is skipped",
        "'{0}' may store its result as JSON ({1}), and '{2}' holds '{3}', whose public field '{4}' System.Text.Json skips in a trimmed or NativeAOT project, so it would read back without it: make it a property, or mark it [JsonInclude] (or [JsonIgnore] to leave it out)",
        "System.Text.Json writes properties, and public fields only when marked [JsonInclude]. Cached's JsonSerializer writes with its own options whatever the context's (so that stored JSON does not depend on which context served a type), so even a context made with IncludeFields = true does not write them. Where reflection is allowed the serializer refuses such a type by type and the method runs uncached; in a trimmed or NativeAOT project, where it cannot look at fields, the value would be stored without them. Make each public field a property, or mark it [JsonInclude] (or [JsonIgnore] to leave it out).");

    public static readonly DiagnosticDescriptor LazyInvalidation = Error(
        "CACHED034",
        "Invalidating method returns a sequence its body makes lazily",
        "'{0}' returns '{1}', {2}: it would invalidate before its body ran; return Task, ValueTask or void, or a list or an array the body fills before it returns",
        "[InvalidateCache] and [InvalidateTags] invalidate after the body returns. The body of an async stream (IAsyncEnumerable<T>), or of an iterator (yield return) returning IEnumerable<T> or IEnumerator<T>, runs only as the caller enumerates the result, after the generated method has invalidated: a read in between stores the old value again, and no invalidation follows the body's writes. Return Task, ValueTask or void, or a list or an array the body fills before it returns, and stream the items from another method.");

    public static readonly DiagnosticDescriptor MisplacedAttribute = Error(
        "CACHED035",
        "Cached attribute on something other than a method",
        "[{0}] is on {1}, whose body Cached does not write, so it would do nothing: put it on a partial method of the type, and call that",
        "C# lets [Cached], [MultiCached], [InvalidateCache] and [InvalidateTags] stand on anything method-like (AttributeTargets.Method): property, indexer and event accessors, local functions, lambdas and operators. Cached writes the bodies of partial methods only, so anywhere else the code would run uncached, or invalidate nothing. Declare a partial method of the type with the attribute, and call it from the accessor, local function, lambda or operator.");

    public static readonly DiagnosticDescriptor CreationNeedsUnreferencedCode = Warning(
        "CACHED036",
        "A type the generated code creates warns under trimming",
        "'{0}' names {1} '{2}', whose constructor is marked [{3}]: in this trimmed or NativeAOT project it may fail at run time; give the method a cache alias whose instance the application registers (Caches.AddInstance), or another type",
        "The generated code creates the Cache, Serializer and Plugins an attribute names, with their public parameterless constructors. When a constructor (or its type) is marked [RequiresUnreferencedCode] or [RequiresDynamicCode], as MessagePackSerializer's is, trimming and NativeAOT warn about the creation; the warning would sit in the generated file, where it cannot be read in context or suppressed, so it is reported here, at the attribute's argument, and the generated creation suppresses its own. Register an instance made for AOT under an alias (Caches.AddInstance) and name the alias, or choose another type.");

    public static readonly DiagnosticDescriptor EmptyKey = Error(
        "CACHED037",
        "Key cannot be empty",
        "Key of '{0}' is empty: the cache refuses an empty key, so every call would run uncached; give the key some text (\"settings\"), make it a template (\"user:{{id}}\"), or remove Key for the default key",
        "A fixed Key is the whole cache key of every call. The cache refuses an empty key at run time, so each call would run the method's body uncached and be logged as a failure of the cache. Give Key some text, make it a template that names parameters, or remove it so that the key is made from the method's name and arguments.");

    public static readonly DiagnosticDescriptor BlankAlias = Error(
        "CACHED038",
        "Alias cannot be empty or white space",
        "Alias of '{0}' is {1}: no configuration can name such a cache; name a configured alias (\"redis\"), or remove Alias {2}",
        "An alias names a cache configured with Caches or AddCached, and both refuse an alias that is empty or white space. An empty Alias would make the code that registers the assembly's aliases throw as the assembly loads, so that none of its types could be used; one of white space is never configured, so every call would run uncached. Name a configured alias, or remove Alias.");

    public static readonly DiagnosticDescriptor ImplementationHidden = Error(
        "CACHED039",
        "Another method of the implementation's name takes the generated call",
        "'{0}' should run '{1}', but C# binds the generated call to {2} instead: rename that method, or name another method with Implementation",
        "The generated method calls '<Name>Core' (or the method named by Implementation) by its name, and C# chooses among the methods of that name: an applicable one declared in a more derived type hides a base class's, and in one type the closer match wins (a [MultiCached] body gets the missing keys as a List<TKey>). A base class's method that no override can replace is then called through 'base'; a virtual one cannot be without skipping the overrides of further derived types. Rename the other method, or name another method with Implementation.");

    public static readonly DiagnosticDescriptor TemplateNeedsCSharp10 = Error(
        "CACHED040",
        "Key and tag templates need C# 10",
        "{0} \"{1}\" of '{2}' needs C# 10, and this project builds with C# {3}: the generated code writes a template through an interpolated string handler; set LangVersion to 10 or later, or {4}",
        "The generated code writes a Key or tag template through an interpolated string handler, which formats it without a string on a hit; handlers came with C# 10, so a project whose LangVersion is 9 cannot compile it. Set LangVersion to 10 or later (the default of every .NET that Cached supports), or use what C# 9 compiles: a fixed Key, a KeyBuilder method or the default key; fixed tags.");

    public static readonly DiagnosticDescriptor LibraryNamespaceHidden = Error(
        "CACHED041",
        "The generated code cannot name the Cached namespace",
        "'{0}' cannot be generated: {1}",
        "The generated code names the library as global::Cached (global::Cached.Runtime.CachedMethod<T>, ...). A type named Cached in the global namespace, of the project or of a reference, hides that namespace (a type Cached.Runtime hides the library's namespace Cached.Runtime), and a reference to Cached.Core with an extern alias takes it out of the global namespace: either made every generated file fail with CS0117, CS0400 or CS0426. Move the type into a namespace or rename it; reference Cached.Core without an alias, or with 'global' among its aliases (Aliases=\"global,MyAlias\").");

    public static readonly DiagnosticDescriptor MultiKeysIgnoreParameter = Warning(
        "CACHED042",
        "A [MultiCached] method's keys ignore a parameter",
        "The keys of [MultiCached] '{0}' are written from {1}: calls that differ only in '{2}' share entries; pass it to a KeyBuilder after the key ('{3}'), or mark it [CacheKeyIgnore] if its value never changes the result",
        "A [MultiCached] key is the key value alone, as aiocache's multi_cached writes it (the method's other arguments are not part of it unless a KeyBuilder takes them after the key), so ByRegion([1], Region.Us) answers the entry ByRegion([1], Region.Eu) stored. A parameter marked [CacheKeyIgnore] says its value never changes the result; a CancellationToken is never part of a key.");

    public static readonly DiagnosticDescriptor SharedKeys = new(
        "CACHED043",
        "Cached methods share keys in one cache",
        "'{0}' stores {1} under {2} in the same cache as {3}: each reads the other's entries; give the keys texts of their own or a Namespace, or the method a cache of its own",
        Category,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        "Methods without Alias, Cache, Serializer or Plugins share the default alias's cache (aiocache makes a cache per decorated function), methods of one Alias share its cache, and methods with Cache = typeof(RedisCache) share the server; so two [Cached] methods with the same fixed Key, or two [MultiCached] methods without a KeyBuilder (whose keys are the key values' text), with the same Namespace there read and write the same entries: one that stores another type answers with the other's value, or cannot read it, instead of running its body. Methods that store the same type (a sync and an async twin) are taken to share on purpose.",
        HelpBase + "cached043",
        WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor KeyBuilderRefusesNull = Warning(
        "CACHED044",
        "A KeyBuilder parameter does not take the null the method may pass",
        "KeyBuilder '{1}' of '{0}' takes '{2}' as '{3}', where the method's '{2}' is '{4}': a null argument reaches a parameter declared not to hold one; declare it '{4}'",
        "The generated call passes the method's arguments to its KeyBuilder as they are, in a file without nullable warnings, so the CS8604 a call by hand would raise is not seen: a builder that does not expect null throws (or writes a key of its own for it) when a caller passes one.");

    public static readonly DiagnosticDescriptor HelperObsoleteAsError = Error(
        "CACHED045",
        "A KeyBuilder or SkipCacheWhen method is obsolete as an error",
        "The {1} of '{0}', '{2}', is [Obsolete] as an error, and the generated code calls it: C# refuses the call (CS0619); mark it [Obsolete] without error: true, or mark '{0}' [Obsolete] too",
        "The generated code calls a method's KeyBuilder and SkipCacheWhen method as it calls the method's body. A body obsolete as an error is called through a forwarder marked [Obsolete], from where C# allows the call; a KeyBuilder or SkipCacheWhen method is not, and the error would stand in the generated file, where no pragma lifts it. In an obsolete method, or a method of an obsolete type, the call is allowed.");

    /// <summary>Every descriptor, in id order; CACHED002 has two (a method to add, a method to change).</summary>
    public static IReadOnlyList<DiagnosticDescriptor> All { get; } =
    [
        MethodNotPartial,
        ImplementationMissing,
        ImplementationSignatureMismatch,
        UnsupportedParameter,
        UnsupportedReturn,
        UnknownTemplateParameter,
        ConflictingCacheOptions,
        InvalidKeysFrom,
        InvalidMultiCachedReturn,
        InvalidSkipCacheWhen,
        InvalidKeyBuilder,
        InvalidDuration,
        KeyParameterWithoutValueToString,
        InvalidateTargetNotFound,
        InvalidateKeyMismatch,
        GenericMethodUnsupported,
        InvalidTypeOption,
        IncludeInstanceOnStatic,
        InvalidateKeysMismatch,
        KeyWithoutTypeParameters,
        OneShotSequence,
        JsonMetadataMissing,
        InvalidEagerRefresh,
        SoftTimeoutWithoutFailSafe,
        UnknownTagParameter,
        EmptyTag,
        NothingToInvalidate,
        MalformedTemplateHole,
        SeveralBodies,
        UnsupportedContainingType,
        InstanceWithoutValueToString,
        UnsupportedReturnShape,
        ValueTupleNeedsReflection,
        PublicFieldSkipped,
        LazyInvalidation,
        MisplacedAttribute,
        CreationNeedsUnreferencedCode,
        EmptyKey,
        BlankAlias,
        ImplementationHidden,
        TemplateNeedsCSharp10,
        LibraryNamespaceHidden,
        MultiKeysIgnoreParameter,
        SharedKeys,
        KeyBuilderRefusesNull,
        HelperObsoleteAsError,
    ];

    // The description is what the IDE shows beside the message (and docs/diagnostics.md says at more length): the
    // rule itself, where the message names this one case and its fix.
    private static DiagnosticDescriptor Error(string id, string title, string message, string description)
        => new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, description, HelpBase + id.ToLowerInvariant());

    private static DiagnosticDescriptor Warning(string id, string title, string message, string description)
        => new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, description, HelpBase + id.ToLowerInvariant());
}
