using System.Diagnostics;
using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A 3-primary Microsoft Garnet cluster on loopback: three <see cref="GarnetServer"/>s in cluster mode (with Lua), each
/// given a third of the slots with <c>CLUSTER ADDSLOTSRANGE</c>, introduced with <c>CLUSTER MEET</c>, and ready once
/// every node knows the three and all 16384 slots. Without the garnet-server tool, or when the nodes do not form a
/// cluster, the calling fixture is ignored with the reason (failed on a CI that requires Garnet), as
/// <see cref="GarnetServer.StartOrIgnore"/> does.
/// </summary>
public sealed class GarnetCluster : IDisposable
{
    /// <summary>A readiness wait, not a timing claim: gossip among three nodes takes a few seconds at most.</summary>
    private static readonly TimeSpan s_formLimit = TimeSpan.FromSeconds(30);

    private readonly List<GarnetServer> _nodes = [];

    private GarnetCluster()
    {
    }

    /// <summary>Every node, so the client discovers the topology from any of them.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(static n => n.ConnectionString));

    public IReadOnlyList<GarnetServer> Nodes => _nodes;

    public static GarnetCluster StartOrIgnore()
    {
        var cluster = new GarnetCluster();
        string? failure;
        // Garnet takes seconds to start: the three start together.
        var starts = Enumerable.Range(0, 3).Select(static _ => Task.Run(static () => GarnetServer.StartOrIgnore(cluster: true))).ToArray();
        try
        {
            Task.WaitAll(starts);
            cluster._nodes.AddRange(starts.Select(static s => s.Result));
            failure = cluster.Form();
        }
        catch (AggregateException ex)
        {
            foreach (var started in starts.Where(static s => s.IsCompletedSuccessfully))
            {
                started.Result.Dispose();
            }

            if (ex.InnerException is IgnoreException or AssertionException)
            {
                throw ex.InnerException;
            }

            failure = ex.InnerException?.Message ?? ex.Message;
        }
        catch (Exception ex) when (ex is InvalidOperationException or RedisException)
        {
            failure = ex.Message;
        }

        if (failure is not null)
        {
            cluster.Dispose();
            GarnetServer.IgnoreOrFail("Garnet cluster tests skipped: the three garnet-server nodes did not form a cluster: " + failure);
        }

        return cluster;
    }

    /// <summary>The index in <see cref="Nodes"/> of the node that owns <paramref name="slot"/>, in the first node's view.</summary>
    public int OwnerOf(int slot)
    {
        // CLUSTER NODES: "<id> <ip:port@bus,host> <flags> <primary> <ping> <pong> <epoch> <link> <slot ranges...>".
        foreach (var line in ((string)Execute(_nodes[0], "CLUSTER", "NODES")!).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var port = int.Parse(fields[1].Split('@')[0].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            foreach (var range in fields.Skip(8).Where(static f => !f.StartsWith('[')))
            {
                var bounds = range.Split('-').Select(static b => int.Parse(b, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                if (bounds[0] <= slot && slot <= bounds[^1])
                {
                    return _nodes.FindIndex(n => n.Port == port);
                }
            }
        }

        throw new InvalidOperationException($"No node owns slot {slot}");
    }

    /// <summary>Starts moving <paramref name="slot"/> from its owner to node <paramref name="to"/>; moves no key yet.</summary>
    public void BeginMove(int slot, int to)
    {
        var from = OwnerOf(slot);
        Execute(_nodes[to], "CLUSTER", "SETSLOT", slot, "IMPORTING", IdOf(from));
        Execute(_nodes[from], "CLUSTER", "SETSLOT", slot, "MIGRATING", IdOf(to));
    }

    /// <summary>Moves these keys (as stored) from node <paramref name="from"/> to node <paramref name="to"/> with <c>MIGRATE</c>.</summary>
    public void Migrate(int from, int to, params string[] keys)
        => Execute(_nodes[from], "MIGRATE", ["127.0.0.1", _nodes[to].Port, "", 0, 5000, "KEYS", .. keys]);

    /// <summary>Moves the slot's keys left, then tells every node (the target first) that <paramref name="to"/> owns it.</summary>
    public void FinishMove(int slot, int from, int to)
    {
        while (Execute(_nodes[from], "CLUSTER", "GETKEYSINSLOT", slot, 100) is { Length: > 0 } keys)
        {
            Migrate(from, to, [.. ((RedisResult[])keys!).Select(static k => (string)k!)]);
        }

        foreach (var node in _nodes.OrderBy(n => n == _nodes[to] ? 0 : 1))
        {
            Execute(node, "CLUSTER", "SETSLOT", slot, "NODE", IdOf(to));
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    /// <summary>Starts a stopped node again, which reads its cluster configuration back, and waits until the cluster is whole.</summary>
    public void Restart(GarnetServer node)
    {
        node.Start();
        if (WaitUntilFormed() is { } failure)
        {
            throw new InvalidOperationException("The Garnet cluster did not form again: " + failure);
        }
    }

    /// <summary>Assigns the slots, introduces the nodes, and waits until each sees the whole cluster; the failure, or null.</summary>
    private string? Form()
    {
        const int slots = 16384;
        for (var i = 0; i < _nodes.Count; i++)
        {
            Execute(_nodes[i], "CLUSTER", "ADDSLOTSRANGE", i * slots / _nodes.Count, ((i + 1) * slots / _nodes.Count) - 1);
            Execute(_nodes[i], "CLUSTER", "SET-CONFIG-EPOCH", i + 1);
        }

        foreach (var node in _nodes.Skip(1))
        {
            Execute(_nodes[0], "CLUSTER", "MEET", "127.0.0.1", node.Port);
        }

        return WaitUntilFormed();
    }

    private string? WaitUntilFormed()
    {
        var waited = Stopwatch.StartNew();
        var info = string.Empty;
        while (waited.Elapsed < s_formLimit)
        {
            var infos = _nodes.Select(node => (string)Execute(node, "CLUSTER", "INFO")!).ToArray();
            if (infos.All(static i => i.Contains("cluster_state:ok", StringComparison.Ordinal)
                && i.Contains("cluster_slots_assigned:16384", StringComparison.Ordinal)
                && i.Contains("cluster_known_nodes:3", StringComparison.Ordinal)))
            {
                return null;
            }

            info = string.Join(" | ", infos.Select(static i => i.ReplaceLineEndings(" ")));
            Thread.Sleep(100);
        }

        return $"not formed within {s_formLimit.TotalSeconds} s: {info}";
    }

    private string IdOf(int node) => ((string)Execute(_nodes[node], "CLUSTER", "MYID")!).Trim();

    /// <summary>One command on <paramref name="node"/> alone, on a connection of its own that does not follow the cluster.</summary>
    public static RedisResult Execute(GarnetServer node, string command, params object[] arguments)
    {
        using var connection = ConnectionMultiplexer.Connect($"{node.ConnectionString},allowAdmin=true,name=cached-garnet-cluster-admin");
        return connection.GetServer(connection.GetEndPoints()[0]).Execute(command, arguments);
    }
}
