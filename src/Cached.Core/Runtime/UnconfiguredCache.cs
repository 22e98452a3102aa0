using System.Collections.Concurrent;

namespace Cached.Runtime;

/// <summary>
/// What a generated method resolves an alias to while no configuration has it: a cache whose every command fails with
/// an <see cref="UnknownCacheAliasException"/>, so the method runs uncached (fail-open), the fault is reported once
/// (<see cref="CacheFaults"/>), and the method finds the real cache as soon as the alias is configured.
/// </summary>
internal sealed class UnconfiguredCache : BaseCache
{
    private static readonly ConcurrentDictionary<string, UnconfiguredCache> s_byAlias = new(StringComparer.Ordinal);

    private UnconfiguredCache(string alias)
    {
        Name = alias;
    }

    /// <summary>The alias no configuration has.</summary>
    public string Name { get; }

    /// <summary>The one placeholder of <paramref name="alias"/>, so its fault is reported once however many methods use it.</summary>
    public static UnconfiguredCache For(string alias) => s_byAlias.GetOrAdd(alias, static a => new UnconfiguredCache(a));

    /// <summary>Forgets the placeholders (<see cref="Caches.Reset"/>), so the next use of a missing alias is reported again.</summary>
    public static void Forget() => s_byAlias.Clear();

    protected override CacheResult<object?> GetEntry(string key) => throw Unknown();

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => throw Unknown();

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => throw Unknown();

    protected override bool ContainsEntry(string key) => throw Unknown();

    protected override long IncrementEntry(string key, string? @namespace, long delta) => throw Unknown();

    protected override int RemoveEntry(string key) => throw Unknown();

    protected override bool ClearEntries(string? @namespace) => throw Unknown();

    protected override bool ExpireEntry(string key, TimeSpan? ttl) => throw Unknown();

    protected override object? ExecuteRaw(string command, object?[] args) => throw Unknown();

    // No raw command runs here, so none refuses the fills open in this process.
    protected override bool RawCommandOnlyReads(string command) => true;

    private UnknownCacheAliasException Unknown() => new(Name);
}
