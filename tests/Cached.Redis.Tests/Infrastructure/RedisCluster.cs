using System.Diagnostics;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A 3-primary Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> on free ports, joined with
/// <c>redis-cli --cluster create</c>, every slot covered before the tests start.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    private readonly List<RedisServer> _nodes = [];

    public RedisCluster()
    {
        for (var i = 0; i < 3; i++)
        {
            _nodes.Add(new RedisServer("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"));
        }

        var create = new List<string> { "--cluster", "create" };
        create.AddRange(_nodes.Select(static n => $"127.0.0.1:{n.Port}"));
        create.AddRange(["--cluster-replicas", "0", "--cluster-yes"]);
        RedisCli(create);
        WaitUntilReady();
    }

    /// <summary>Every node, so the client discovers the topology from any of them.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(static n => n.ConnectionString));

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    private void WaitUntilReady()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_nodes.All(node => RedisCli(["-p", node.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "cluster", "info"]).Contains("cluster_state:ok", StringComparison.Ordinal)))
            {
                return;
            }

            Thread.Sleep(100);
        }

        throw new InvalidOperationException("The Redis Cluster did not reach cluster_state:ok within 20 s");
    }

    private static string RedisCli(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', start.ArgumentList)} failed: {output}");
        }

        return output;
    }
}
