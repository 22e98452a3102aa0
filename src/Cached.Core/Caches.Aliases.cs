namespace Cached;

/// <summary>The check of the aliases generated methods name against the configuration.</summary>
public static partial class Caches
{
    /// <summary>Whether <paramref name="alias"/> has a configuration or an instance.</summary>
    internal static bool IsConfigured(string alias) => s_instances.ContainsKey(alias) || s_config.ContainsKey(alias);

    /// <summary>Every alias with a configuration or an instance, for messages about one that has neither.</summary>
    internal static IReadOnlyCollection<string> ConfiguredAliases() => s_config.Keys.Union(s_instances.Keys, StringComparer.Ordinal).ToList();

    /// <summary>
    /// After <c>SetConfig</c>: names the aliases generated methods use that it lacks, as a warning (event 13). Not an
    /// exception, nor a line on standard error: <see cref="Add"/> or <see cref="AddInstance"/> may still follow.
    /// </summary>
    private static void WarnOfMissingAliases()
    {
        if (Runtime.CachedAliases.DescribeMissing(IsConfigured, ConfiguredAliases()) is not { } problem)
        {
            return;
        }

        // Logged only: without a logger, an alias still missing is told on standard error by the first call that
        // needs it (CacheFaults), where an Add or AddInstance right after this would have made a line here a false alarm.
        Runtime.Log.AliasesMissing(CachedLogging.Logger, problem);
    }
}
