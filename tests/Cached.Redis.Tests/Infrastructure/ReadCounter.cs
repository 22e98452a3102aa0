using Cached.Plugins;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>Counts the reads that have answered: a test waits on it until a call's read is done and the call boards its key's flight.</summary>
internal sealed class ReadCounter : CachePlugin
{
    public int Reads;

    public override void Post(CacheCommandContext context)
    {
        if (context.Command == CacheCommand.Get)
        {
            Interlocked.Increment(ref Reads);
        }
    }
}
