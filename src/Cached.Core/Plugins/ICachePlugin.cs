namespace Cached.Plugins;

/// <summary>
/// Hooks that run around every command of a cache, in the order the cache lists its plugins: all pre hooks before
/// the command, all post hooks after it has succeeded (a command that throws runs no post hook). Hooks run on the
/// caller's thread and add to the command's latency, so keep them short; they must be thread-safe.
/// </summary>
public interface ICachePlugin
{
    /// <summary>Runs before the command.</summary>
    void Pre(CacheCommandContext context);

    /// <summary>Runs after the command has succeeded, with its result and elapsed time.</summary>
    void Post(CacheCommandContext context);
}
