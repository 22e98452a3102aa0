using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Cached.Diagnostics;
using Cached.Plugins;

namespace Cached.Pipeline;

/// <summary>
/// The plugins' pre and post hooks and Cached's telemetry around one command: the one place a command is observed.
/// When a cache has no plugins and nobody listens, <see cref="Begin"/> answers <c>null</c> at the cost of a few field
/// reads and the command runs unobserved.
/// </summary>
internal static class CommandObserver
{
    /// <summary>Opens a command: runs every pre hook and starts the activity. <c>null</c> when nothing observes it.</summary>
    public static CacheCommandContext? Begin(BaseCache cache, ICachePlugin[] plugins, in CommandRequest request)
    {
        var observed = CacheTelemetry.IsObserved;
        if (!request.Observed || (plugins.Length == 0 && !observed))
        {
            return null;
        }

        var context = new CacheCommandContext(cache, request.Command, request.Key, request.Keys, request.Namespace, request.Value, request.Ttl);
        // From before the pre hooks, as aiocache's `took`: what a post hook sees is the whole command, its hooks included.
        context.StartedAt = cache.TimeProvider.GetTimestamp();
        foreach (var plugin in plugins)
        {
            plugin.Pre(context);
        }

        if (observed)
        {
            context.Observed = true;
            context.Activity = CacheTelemetry.StartActivity(cache, request.Command, request.Key);
        }

        return context;
    }

    /// <summary>
    /// <see cref="Begin"/> for a command that is not an async method of its own but hands out a task: what a pre hook
    /// throws comes back as <paramref name="refused"/>, for the task, as an async method's exception does.
    /// </summary>
    public static bool TryBegin(BaseCache cache, ICachePlugin[] plugins, in CommandRequest request, out CacheCommandContext? context, [NotNullWhen(false)] out Exception? refused)
    {
        try
        {
            context = Begin(cache, plugins, request);
            refused = null;
            return true;
        }
        catch (Exception ex)
        {
            context = null;
            refused = ex;
            return false;
        }
    }

    /// <summary>
    /// Hands a command that goes on asynchronously back to its caller, from a method that is not async itself: the
    /// caller's current activity is again the one it had before <see cref="Begin"/>. The command's own stays current in
    /// the frame that ends it, which captured it; left current here, it would be the parent of the caller's next span
    /// after it ended.
    /// </summary>
    public static void HandOver(CacheCommandContext? context)
    {
        if (context?.Activity is { } activity && Activity.Current == activity)
        {
            Activity.Current = activity.Parent;
        }
    }

    /// <summary>Closes a command that succeeded: fills in its outcome, runs every post hook, records telemetry (even when a post hook throws).</summary>
    public static void End(BaseCache cache, ICachePlugin[] plugins, CacheCommandContext context, CommandOutcome outcome)
    {
        context.Elapsed = cache.TimeProvider.GetElapsedTime(context.StartedAt);
        context.Result = outcome.Result;
        context.Hits = outcome.Hits;
        context.Stored = outcome.Stored;
        try
        {
            foreach (var plugin in plugins)
            {
                plugin.Post(context);
            }
        }
        catch
        {
            // The command succeeded even though a post hook threw: it is recorded as such before the hook's exception
            // (which passes to the caller as it is) reaches the pipeline's filters, so it is not counted as the
            // command's fault. A catch, not a finally: the filters up the stack run before a finally here would.
            Completed(cache, context);
            throw;
        }

        Completed(cache, context);
    }

    private static void Completed(BaseCache cache, CacheCommandContext context)
    {
        if (context.Observed)
        {
            context.Observed = false;
            CacheTelemetry.Completed(cache, context);
        }
    }

    /// <summary>Records a command that threw; post hooks do not run for it.</summary>
    public static void Failed(BaseCache cache, CacheCommandContext? context, Exception exception)
    {
        if (context is { Observed: true })
        {
            context.Observed = false;
            CacheTelemetry.Failed(cache, context, exception);
        }
    }
}
