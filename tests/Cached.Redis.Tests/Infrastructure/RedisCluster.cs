using System.Diagnostics;
using System.Globalization;

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
        try
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
        catch
        {
            // Nobody gets this cluster to dispose: stop the nodes already started.
            Dispose();
            throw;
        }
    }

    /// <summary>Every node, so the client discovers the topology from any of them.</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(static n => n.ConnectionString));

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>The hash slot of <paramref name="key"/> (<c>CLUSTER KEYSLOT</c>).</summary>
    public int SlotOf(string key) => int.Parse(Cli(_nodes[0], "cluster", "keyslot", key).Trim(), CultureInfo.InvariantCulture);

    /// <summary>The node that owns <paramref name="slot"/>, in its own view of the cluster.</summary>
    public RedisServer OwnerOf(int slot)
        => _nodes.FirstOrDefault(node => OwnsSlot(node, slot)) ?? throw new InvalidOperationException($"No node owns slot {slot}");

    /// <summary>
    /// Moves <paramref name="slot"/> to <paramref name="target"/> the way <c>redis-cli --cluster reshard</c> does: the
    /// target imports, the owner migrates, the slot's keys travel with <c>MIGRATE</c>, then every node is told the new
    /// owner: by default the target first, then the old owner, then the rest, as <c>redis-cli</c> does; with
    /// <paramref name="oldOwnerLearnsFirst"/> the old owner first, as when the news reaches it before the target.
    /// <paramref name="whileOnlyOneKnows"/>, when given, runs after the first node is told and before the others are,
    /// so that a test can hold the cluster in that state for as long as it needs.
    /// </summary>
    public void MoveSlot(int slot, RedisServer target, bool oldOwnerLearnsFirst = false, Action? whileOnlyOneKnows = null)
    {
        if (OwnerOf(slot) == target)
        {
            return;
        }

        var move = BeginMove(slot, target);
        move.MigrateRest();
        move.Finish(oldOwnerLearnsFirst, whileOnlyOneKnows);
    }

    /// <summary>
    /// Starts moving <paramref name="slot"/> to <paramref name="target"/> as <see cref="MoveSlot"/> does (the target
    /// imports, the owner migrates) and moves no key yet: the test moves the keys it chooses, so that it holds the slot
    /// split between the two nodes (where a command on several of its keys gets <c>TRYAGAIN</c>) for as long as it needs.
    /// </summary>
    public SlotMove BeginMove(int slot, RedisServer target)
    {
        var source = OwnerOf(slot);
        if (source == target)
        {
            throw new ArgumentException($"Slot {slot} is already on the target.", nameof(target));
        }

        var move = new SlotMove(this, slot, source, target);
        Cli(target, "cluster", "setslot", move.Text, "importing", IdOf(source));
        Cli(source, "cluster", "setslot", move.Text, "migrating", IdOf(target));
        return move;
    }

    /// <summary>A slot on its way from one node to another (<see cref="BeginMove"/>).</summary>
    public sealed class SlotMove(RedisCluster cluster, int slot, RedisServer source, RedisServer target)
    {
        internal string Text { get; } = slot.ToString(CultureInfo.InvariantCulture);

        /// <summary>Moves these keys of the slot (as stored) to the target with <c>MIGRATE</c>.</summary>
        public void Migrate(params string[] keys)
            => Cli(source, ["migrate", "127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. keys]);

        /// <summary>Moves every key of the slot still on the source.</summary>
        public void MigrateRest()
        {
            while (Cli(source, "cluster", "getkeysinslot", Text, "100").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } keys)
            {
                Migrate(keys);
            }
        }

        /// <summary>
        /// Tells every node the new owner: by default the target first, then the old owner, then the rest, as
        /// <c>redis-cli</c> does; see <see cref="MoveSlot"/> for the arguments. Moves the keys left first.
        /// </summary>
        public void Finish(bool oldOwnerLearnsFirst = false, Action? whileOnlyOneKnows = null)
        {
            MigrateRest();
            var targetId = IdOf(target);
            var told = 0;
            foreach (var node in cluster._nodes.OrderBy(n => n == target ? (oldOwnerLearnsFirst ? 1 : 0) : n == source ? (oldOwnerLearnsFirst ? 0 : 1) : 2))
            {
                Cli(node, "cluster", "setslot", Text, "node", targetId);
                if (++told == 1)
                {
                    whileOnlyOneKnows?.Invoke();
                }
            }
        }
    }

    /// <summary>Moves <paramref name="slot"/> from its owner to the next node, as <see cref="MoveSlot"/> does.</summary>
    public void MoveSlotToNextNode(int slot, bool oldOwnerLearnsFirst = false, Action? whileOnlyOneKnows = null)
        => MoveSlot(slot, _nodes[(_nodes.IndexOf(OwnerOf(slot)) + 1) % _nodes.Count], oldOwnerLearnsFirst, whileOnlyOneKnows);

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

    private static string IdOf(RedisServer node) => Cli(node, "cluster", "myid").Trim();

    private static bool OwnsSlot(RedisServer node, int slot)
    {
        // redis-cli prints CLUSTER SLOTS flattened, one value a line: a range's first and last slot, then its primary's
        // address and port.
        var lines = Cli(node, "cluster", "slots").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (var i = 0; i + 3 < lines.Length; i++)
        {
            if (int.TryParse(lines[i], CultureInfo.InvariantCulture, out var from) && int.TryParse(lines[i + 1], CultureInfo.InvariantCulture, out var to)
                && lines[i + 2] == "127.0.0.1" && int.TryParse(lines[i + 3], CultureInfo.InvariantCulture, out var port)
                && from <= slot && slot <= to && port == node.Port)
            {
                return true;
            }
        }

        return false;
    }

    private static string Cli(RedisServer node, params string[] arguments)
        => RedisCli(["-p", node.Port.ToString(CultureInfo.InvariantCulture), .. arguments]);

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
