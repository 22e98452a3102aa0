using Cached.Plugins;

namespace Cached.Tests.MultiLevel;

/// <summary>A plugin that takes its cache down: while <see cref="Down"/>, every command fails as an unreachable server does.</summary>
internal sealed class Outage : CachePlugin
{
    public volatile bool Down;

    public override void Pre(CacheCommandContext context)
    {
        if (Down)
        {
            throw new CacheBackendException($"L2 is down ({context.Command})", null);
        }
    }
}

/// <summary>A plugin that holds a read of one key after it has read the value and before it returns: a race, forced.</summary>
internal sealed class ReadHold(string key) : CachePlugin
{
    public readonly ManualResetEventSlim Reached = new(false);

    public readonly ManualResetEventSlim Release = new(false);

    public override void Post(CacheCommandContext context)
    {
        if (context.Command == CacheCommand.Get && context.Key == key && !Release.IsSet)
        {
            Reached.Set();
            Release.Wait(TimeSpan.FromSeconds(10));
        }
    }
}

/// <summary>Nodes of one deployment in one process: each with its own L1, all sharing one L2 and one backplane.</summary>
internal sealed class Nodes : IDisposable
{
    public Nodes(ICache l2, TimeProvider? time = null, TimeSpan? l1Ttl = null, int count = 2)
    {
        L2 = l2;
        var backplane = new MemoryBackplane();
        Backplane = backplane;
        All = Enumerable.Range(0, count)
            .Select(_ => new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time ?? TimeProvider.System }, l2, backplane) { L1Ttl = l1Ttl })
            .ToArray();
    }

    public ICache L2 { get; }

    public MemoryBackplane Backplane { get; }

    public MultiLevelCache[] All { get; }

    public MultiLevelCache A => All[0];

    public MultiLevelCache B => All[1];

    public void Dispose()
    {
        foreach (var node in All)
        {
            node.L1.Dispose();
        }

        L2.Dispose();
    }
}
