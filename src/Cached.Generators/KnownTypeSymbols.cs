using System.Linq;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// The types the parser asks about, resolved once per compilation so that it compares symbols instead of their
/// display strings (as System.Text.Json's generator does). A type the compilation lacks is null, and no symbol
/// equals it.
/// </summary>
internal sealed class KnownTypeSymbols
{
    // One instance per compilation: every attributed method of a run asks for the same types.
    private static readonly ConditionalWeakTable<Compilation, KnownTypeSymbols> s_cache = new();

    private KnownTypeSymbols(Compilation compilation)
    {
        CachedAttribute = Get(compilation, "Cached.CachedAttribute");
        MultiCachedAttribute = Get(compilation, "Cached.MultiCachedAttribute");
        InvalidateCacheAttribute = Get(compilation, "Cached.InvalidateCacheAttribute");
        InvalidateTagsAttribute = Get(compilation, "Cached.InvalidateTagsAttribute");
        CacheKeyIgnoreAttribute = Get(compilation, "Cached.CacheKeyIgnoreAttribute");
        ICache = Get(compilation, "Cached.ICache");
        BaseCache = Get(compilation, "Cached.BaseCache");
        ISerializer = Get(compilation, "Cached.Serializers.ISerializer");
        ICachePlugin = Get(compilation, "Cached.Plugins.ICachePlugin");

        CancellationToken = Get(compilation, "System.Threading.CancellationToken");
        Task = Get(compilation, "System.Threading.Tasks.Task");
        TaskOfT = Get(compilation, "System.Threading.Tasks.Task`1");
        ValueTask = Get(compilation, "System.Threading.Tasks.ValueTask");
        ValueTaskOfT = Get(compilation, "System.Threading.Tasks.ValueTask`1");

        Guid = Get(compilation, "System.Guid");
        DateTime = Get(compilation, "System.DateTime");
        DateTimeOffset = Get(compilation, "System.DateTimeOffset");
        TimeSpan = Get(compilation, "System.TimeSpan");
        Memory = Get(compilation, "System.Memory`1");
        ReadOnlyMemory = Get(compilation, "System.ReadOnlyMemory`1");
        ReadOnlySequence = Get(compilation, "System.Buffers.ReadOnlySequence`1");
        IFormattable = Get(compilation, "System.IFormattable");
        ISpanFormattable = Get(compilation, "System.ISpanFormattable");

        Dictionary = Get(compilation, "System.Collections.Generic.Dictionary`2");
        IDictionary = Get(compilation, "System.Collections.Generic.IDictionary`2");
        IReadOnlyDictionary = Get(compilation, "System.Collections.Generic.IReadOnlyDictionary`2");
        NonGenericIDictionary = Get(compilation, "System.Collections.IDictionary");
        KeyValuePair = Get(compilation, "System.Collections.Generic.KeyValuePair`2");
        IGrouping = Get(compilation, "System.Linq.IGrouping`2");
        List = Get(compilation, "System.Collections.Generic.List`1");
        IList = Get(compilation, "System.Collections.Generic.IList`1");
        ICollection = Get(compilation, "System.Collections.Generic.ICollection`1");
        IReadOnlyList = Get(compilation, "System.Collections.Generic.IReadOnlyList`1");
        IReadOnlyCollection = Get(compilation, "System.Collections.Generic.IReadOnlyCollection`1");
        HashSet = Get(compilation, "System.Collections.Generic.HashSet`1");
        ISet = Get(compilation, "System.Collections.Generic.ISet`1");
        IReadOnlySet = Get(compilation, "System.Collections.Generic.IReadOnlySet`1");
        IEnumerable = compilation.GetSpecialType(SpecialType.System_Collections_Generic_IEnumerable_T);
        IAsyncEnumerable = Get(compilation, "System.Collections.Generic.IAsyncEnumerable`1");
        IAsyncEnumerator = Get(compilation, "System.Collections.Generic.IAsyncEnumerator`1");
    }

    public INamedTypeSymbol? CachedAttribute { get; }

    public INamedTypeSymbol? MultiCachedAttribute { get; }

    public INamedTypeSymbol? InvalidateCacheAttribute { get; }

    public INamedTypeSymbol? InvalidateTagsAttribute { get; }

    public INamedTypeSymbol? CacheKeyIgnoreAttribute { get; }

    public INamedTypeSymbol? ICache { get; }

    public INamedTypeSymbol? BaseCache { get; }

    public INamedTypeSymbol? ISerializer { get; }

    public INamedTypeSymbol? ICachePlugin { get; }

    public INamedTypeSymbol? CancellationToken { get; }

    public INamedTypeSymbol? Task { get; }

    public INamedTypeSymbol? TaskOfT { get; }

    public INamedTypeSymbol? ValueTask { get; }

    public INamedTypeSymbol? ValueTaskOfT { get; }

    public INamedTypeSymbol? Guid { get; }

    public INamedTypeSymbol? DateTime { get; }

    public INamedTypeSymbol? DateTimeOffset { get; }

    public INamedTypeSymbol? TimeSpan { get; }

    public INamedTypeSymbol? Memory { get; }

    public INamedTypeSymbol? ReadOnlyMemory { get; }

    public INamedTypeSymbol? ReadOnlySequence { get; }

    public INamedTypeSymbol? IFormattable { get; }

    public INamedTypeSymbol? ISpanFormattable { get; }

    public INamedTypeSymbol? Dictionary { get; }

    public INamedTypeSymbol? IDictionary { get; }

    public INamedTypeSymbol? IReadOnlyDictionary { get; }

    /// <summary><c>System.Collections.IDictionary</c>: what the key writer writes as <c>{k:v}</c> wherever it meets it.</summary>
    public INamedTypeSymbol? NonGenericIDictionary { get; }

    public INamedTypeSymbol? KeyValuePair { get; }

    public INamedTypeSymbol? IGrouping { get; }

    public INamedTypeSymbol? List { get; }

    public INamedTypeSymbol? IList { get; }

    public INamedTypeSymbol? ICollection { get; }

    public INamedTypeSymbol? IReadOnlyList { get; }

    public INamedTypeSymbol? IReadOnlyCollection { get; }

    public INamedTypeSymbol? HashSet { get; }

    public INamedTypeSymbol? ISet { get; }

    public INamedTypeSymbol? IReadOnlySet { get; }

    public INamedTypeSymbol IEnumerable { get; }

    public INamedTypeSymbol? IAsyncEnumerable { get; }

    public INamedTypeSymbol? IAsyncEnumerator { get; }

    public static KnownTypeSymbols For(Compilation compilation) => s_cache.GetValue(compilation, static c => new KnownTypeSymbols(c));

    /// <summary>True when <paramref name="type"/> is <paramref name="known"/> (for generics: any construction of it).</summary>
    public static bool Is(ITypeSymbol? type, INamedTypeSymbol? known)
        => known is not null && type is not null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, known);

    /// <summary>True when <paramref name="type"/> implements the interface <paramref name="known"/>.</summary>
    public static bool Implements(ITypeSymbol type, INamedTypeSymbol? known)
        => known is not null && type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i.OriginalDefinition, known));

    /// <summary>True when <paramref name="type"/> derives from the class <paramref name="known"/>.</summary>
    public static bool DerivesFrom(ITypeSymbol type, INamedTypeSymbol? known)
    {
        for (var current = type.BaseType; current is not null && known is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current.OriginalDefinition, known))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The compilation's type of that name. When several references define it (a polyfill beside the framework's
    /// own), the compilation's own or the core library's wins, then any public one.
    /// </summary>
    private static INamedTypeSymbol? Get(Compilation compilation, string metadataName)
    {
        if (compilation.GetTypeByMetadataName(metadataName) is { } single)
        {
            return single;
        }

        var candidates = compilation.GetTypesByMetadataName(metadataName);
        var core = compilation.GetSpecialType(SpecialType.System_Object).ContainingAssembly;
        return candidates.FirstOrDefault(t => SymbolEqualityComparer.Default.Equals(t.ContainingAssembly, compilation.Assembly))
            ?? candidates.FirstOrDefault(t => SymbolEqualityComparer.Default.Equals(t.ContainingAssembly, core))
            ?? candidates.FirstOrDefault(static t => t.DeclaredAccessibility == Accessibility.Public);
    }
}
