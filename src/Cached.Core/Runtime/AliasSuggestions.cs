namespace Cached.Runtime;

/// <summary>
/// What a message about an alias that has no configuration adds: the configured alias it was most likely meant to be
/// (<c>redis-alt</c> for <c>redis_alt</c>, <c>Redis</c> for <c>redis</c>: aliases are matched as written), and the
/// aliases there are.
/// </summary>
internal static class AliasSuggestions
{
    /// <summary>
    /// The configured alias closest to <paramref name="alias"/>: the same once case and the separators <c>-</c>,
    /// <c>_</c>, <c>.</c> and <c>:</c> are set aside, or else at most two edits away (one for an alias of up to four
    /// characters, none for one of two); null when none is that close.
    /// </summary>
    public static string? Closest(string alias, IEnumerable<string> configured)
    {
        var wanted = Normalized(alias);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in configured)
        {
            if (string.Equals(candidate, alias, StringComparison.Ordinal))
            {
                continue;
            }

            var distance = Normalized(candidate) == wanted ? 0 : EditDistance.Between(alias.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance || (distance == bestDistance && string.CompareOrdinal(candidate, best) < 0))
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return bestDistance <= (alias.Length <= 2 ? 0 : alias.Length <= 4 ? 1 : 2) ? best : null;
    }

    /// <summary>" Did you mean 'x'?" when one is close, then the configured aliases, for an exception's message.</summary>
    public static string Describe(string alias, IReadOnlyCollection<string> configured)
    {
        var closest = Closest(alias, configured);
        var guess = closest is null ? string.Empty : $" Did you mean '{closest}'?";
        var known = configured.Count == 0 ? "none" : string.Join(", ", configured.Order(StringComparer.Ordinal).Select(static a => $"'{a}'"));
        return $"{guess} Configured aliases: {known}.";
    }

    private static string Normalized(string alias)
        => string.Concat(alias.Where(static c => c is not ('-' or '_' or '.' or ':'))).ToLowerInvariant();
}
