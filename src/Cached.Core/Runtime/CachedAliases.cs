using System.Collections.Concurrent;
using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>
/// The aliases that generated methods name, registered by the generator's module initializer of each assembly, so that
/// configuration can name the missing ones at start-up instead of a method finding out on its first call.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CachedAliases
{
    private static readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> s_used = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="method"/> uses the cache of <paramref name="alias"/>; called by generated code.</summary>
    public static void Register(string alias, string method)
    {
        ArgumentException.ThrowIfNullOrEmpty(alias);
        ArgumentException.ThrowIfNullOrEmpty(method);
        s_used.GetOrAdd(alias, static _ => new(StringComparer.Ordinal)).TryAdd(method, 0);
    }

    /// <summary>Forgets a registration, for tests that register aliases of their own.</summary>
    internal static void Forget(string alias, string method)
    {
        if (s_used.TryGetValue(alias, out var methods) && methods.TryRemove(method, out _) && methods.IsEmpty)
        {
            s_used.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, byte>>(alias, methods));
        }
    }

    /// <summary>The used aliases that <paramref name="isConfigured"/> does not know, each with the methods that use it, sorted.</summary>
    internal static IReadOnlyList<(string Alias, string[] Methods)> Missing(Func<string, bool> isConfigured)
        => s_used
            .Where(pair => !isConfigured(pair.Key))
            .OrderBy(static pair => pair.Key, StringComparer.Ordinal)
            .Select(static pair => (pair.Key, pair.Value.Keys.Order(StringComparer.Ordinal).ToArray()))
            .ToList();

    /// <summary>
    /// One sentence naming the missing aliases, their methods, the configured alias each was most likely meant to be
    /// among <paramref name="configured"/>, and the ways to add them; null when none is missing.
    /// </summary>
    internal static string? DescribeMissing(Func<string, bool> isConfigured, IReadOnlyCollection<string> configured)
    {
        var missing = Missing(isConfigured);
        if (missing.Count == 0)
        {
            return null;
        }

        var list = string.Join("; ", missing.Select(m => $"'{m.Alias}' (used by {string.Join(", ", m.Methods)}"
            + (AliasSuggestions.Closest(m.Alias, configured) is { } closest ? $"; did you mean '{closest}'?)" : ")")));
        return $"Cached methods use cache aliases that are not configured: {list}. {UnknownCacheAliasException.HowToAdd}";
    }
}
