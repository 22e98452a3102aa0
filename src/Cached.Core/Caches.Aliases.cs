namespace Cached;

/// <summary>The check of the aliases generated methods name against the configuration.</summary>
public static partial class Caches
{
    /// <summary>Whether <paramref name="alias"/> has a configuration or an instance.</summary>
    internal static bool IsConfigured(string alias) => s_instances.ContainsKey(alias) || s_config.ContainsKey(alias);

    /// <summary>
    /// After <c>SetConfig</c>: names the aliases generated methods use that it lacks, as a warning (and once on standard
    /// error without a logger). Not an exception: <see cref="Add"/> or <see cref="AddInstance"/> may still follow.
    /// </summary>
    private static void WarnOfMissingAliases()
    {
        if (Runtime.CachedAliases.DescribeMissing(IsConfigured) is not { } problem)
        {
            return;
        }

        Runtime.Log.AliasesMissing(CachedLogging.Logger, problem);
        if (Interlocked.Exchange(ref s_missingAliasesToldOnce, 1) == 0)
        {
            Runtime.CacheFaults.WriteToStandardError("Cached: " + problem);
        }
    }

    private static int s_missingAliasesToldOnce;
}
