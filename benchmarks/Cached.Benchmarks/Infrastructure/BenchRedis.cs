using System.Globalization;
using StackExchange.Redis;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>The Redis server the Redis benchmarks run against, named by <see cref="Variable"/>.</summary>
public static class BenchRedis
{
    /// <summary>The environment variable that names the server, <c>host:port</c> (<c>127.0.0.1:6379</c>).</summary>
    public const string Variable = "CACHED_BENCH_REDIS";

    // Only what the benchmarks send: the client's own heartbeats and INFO itself are left out.
    private static readonly string[] s_dataCommands = ["get", "mget", "set", "mset", "setex", "psetex", "multi", "exec", "del", "unlink", "exists", "evalsha", "eval"];

    /// <summary>The configured server, or <c>null</c> when the variable is unset or empty.</summary>
    public static string? Endpoint => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } endpoint ? endpoint : null;

    /// <summary>What the program prints when the Redis benchmarks are left out.</summary>
    public static string SkipNotice => $"Redis benchmarks skipped: {Variable} is not set (give it a server as host:port, e.g. 127.0.0.1:6379; benchmarks/run.sh starts its own).";

    /// <summary>
    /// Connects to the configured server; fails with <see cref="SkipNotice"/> when there is none. An
    /// <paramref name="admin"/> connection may send INFO, for <see cref="CommandCalls"/>.
    /// </summary>
    public static ConnectionMultiplexer Connect(bool admin = false)
    {
        var endpoint = Endpoint ?? throw new InvalidOperationException(SkipNotice);
        var options = ConfigurationOptions.Parse(endpoint);
        options.AbortOnConnectFail = true;
        options.AllowAdmin = admin;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>Calls of each data command the server has answered so far (INFO commandstats), through an admin connection.</summary>
    public static Dictionary<string, long> CommandCalls(IConnectionMultiplexer admin)
    {
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in server.Info("commandstats"))
        {
            foreach (var (name, value) in group)
            {
                // cmdstat_get: calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,failed_calls=0
                var command = name.StartsWith("cmdstat_", StringComparison.Ordinal) ? name["cmdstat_".Length..] : name;
                if (Array.IndexOf(s_dataCommands, command) < 0)
                {
                    continue;
                }

                // A script is one command whether sent as EVAL or by its hash (the client switches once the server
                // knows it); the GET, SET and DEL a fence script runs inside Redis are counted by Redis as well.
                var field = value.Split(',')[0];
                var key = command == "evalsha" ? "eval" : command;
                calls[key] = calls.GetValueOrDefault(key) + long.Parse(field["calls=".Length..], CultureInfo.InvariantCulture);
            }
        }

        return calls;
    }

    /// <summary>The commands sent between two <see cref="CommandCalls"/> readings: <c>1 MGET</c>, <c>100 GET + 100 SET</c>.</summary>
    public static string Describe(Dictionary<string, long> before, Dictionary<string, long> after)
    {
        var parts = new List<string>();
        foreach (var command in s_dataCommands)
        {
            var sent = after.GetValueOrDefault(command) - before.GetValueOrDefault(command);
            if (sent > 0)
            {
                parts.Add($"{sent.ToString(CultureInfo.InvariantCulture)} {command.ToUpperInvariant()}");
            }
        }

        return parts.Count == 0 ? "none" : string.Join(" + ", parts);
    }
}
