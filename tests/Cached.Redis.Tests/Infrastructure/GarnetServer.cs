using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A Microsoft Garnet server (the <c>garnet-server</c> dotnet tool) on a free loopback port, owned by the tests as
/// <see cref="RedisServer"/> owns a redis-server: the port reserved with <see cref="PortReservation"/> for the server's
/// whole life, nothing persisted, the process and its working directory removed at the end. The tool is found through
/// <c>CACHED_GARNET_SERVER</c> (the executable), else on <c>PATH</c>, else in <c>~/.dotnet/tools</c> or
/// <c>~/.cached-tools</c> (where .ci/run installs it). Where it is not
/// installed the tests that need it are ignored with the reason, except on CI with <c>CACHED_REQUIRE_GARNET=1</c>,
/// where they fail.
/// </summary>
public sealed class GarnetServer : IDisposable
{
    /// <summary>The version the compatibility table of docs/redis.md was made with, and .ci/run installs.</summary>
    public const string Version = "2.2.12";

    private const string Tool = "garnet-server";

    private readonly string _executable;
    private readonly bool _lua;
    private readonly bool _cluster;
    private readonly LoopbackServer _server;

    private GarnetServer(string executable, bool lua, bool cluster)
    {
        _executable = executable;
        _lua = lua;
        _cluster = cluster;
        _server = new LoopbackServer(Tool, StartInfo);
    }

    public int Port => _server.Port;

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>
    /// Starts Garnet, with Lua scripting unless <paramref name="lua"/> is false, or ends the calling test (or the
    /// fixture, from a one-time set-up) when the tool is missing: ignored with the reason, failed on a CI that requires it.
    /// With <paramref name="cluster"/> it starts in cluster mode, owning no slot yet (see <see cref="GarnetCluster"/>).
    /// </summary>
    public static GarnetServer StartOrIgnore(bool lua = true, bool cluster = false)
    {
        var executable = Find(out var missing);
        if (executable is null)
        {
            var reason = $"{missing} Install it with `dotnet tool install --global {Tool} --version {Version}` (.ci/run does), or set CACHED_GARNET_SERVER to the executable.";
            if (Required)
            {
                Assert.Fail("Garnet is required here (CI=true, CACHED_REQUIRE_GARNET=1): " + reason);
            }

            Assert.Ignore("Garnet tests skipped: " + reason);
        }

        return new GarnetServer(executable!, lua, cluster);
    }

    /// <summary>Ends the calling test or fixture: ignored with <paramref name="reason"/>, failed on a CI that requires Garnet.</summary>
    internal static void IgnoreOrFail(string reason)
    {
        if (Required)
        {
            Assert.Fail("Garnet is required here (CI=true, CACHED_REQUIRE_GARNET=1): " + reason);
        }

        Assert.Ignore(reason);
    }

    /// <summary>Whether a missing Garnet fails the run: only a CI that asks for it.</summary>
    private static bool Required
        => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            && Environment.GetEnvironmentVariable("CACHED_REQUIRE_GARNET") == "1";

    /// <summary>The tool's executable, or null with what was looked for.</summary>
    private static string? Find(out string missing)
    {
        missing = string.Empty;
        if (Environment.GetEnvironmentVariable("CACHED_GARNET_SERVER") is { Length: > 0 } named)
        {
            if (File.Exists(named))
            {
                return named;
            }

            missing = $"CACHED_GARNET_SERVER names '{named}', which does not exist.";
            return null;
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(home, ".dotnet", "tools"))
            .Append(Path.Combine(home, ".cached-tools")); // where .ci/run installs it, so a later plain `dotnet test` finds it too
        foreach (var folder in folders)
        {
            foreach (var name in OperatingSystem.IsWindows() ? new[] { Tool + ".exe", Tool } : [Tool])
            {
                var candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        missing = $"the {Tool} dotnet tool is neither named by CACHED_GARNET_SERVER, nor on PATH, nor in ~/.dotnet/tools or ~/.cached-tools.";
        return null;
    }

    private ProcessStartInfo StartInfo(string directory, int port)
    {
        var start = new ProcessStartInfo(_executable);
        // Garnet sizes its log for 16 GB and its index for 128 MB unless told: a test server needs a fraction of that.
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--memory", "256m", "--index", "16m", "--logger-level", "Warning",
        ];
        if (_cluster)
        {
            // Cluster mode opens a storage device for its checkpoints: the native one needs libaio, which a host may lack.
            arguments = [.. arguments, "--cluster", "--device-type", "RandomAccess", "--checkpointdir", directory];
        }

        foreach (var argument in _lua ? [.. arguments, "--lua"] : arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>
    /// Lets <paramref name="duration"/> pass for every key of database 0: each keeps its time to live less the duration,
    /// and one with nothing left gets an expiry in the past, which Garnet itself must then honour. Time is moved, not
    /// waited for.
    /// </summary>
    public void Advance(TimeSpan duration)
    {
        using var admin = ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true,name=cached-garnet-clock");
        var database = admin.GetDatabase();
        foreach (var key in admin.GetServer(admin.GetEndPoints()[0]).Keys(pattern: "*", pageSize: 1_000))
        {
            if (database.KeyTimeToLive(key) is { } left)
            {
                _ = left > duration ? database.KeyExpire(key, left - duration) : database.KeyExpire(key, DateTime.UnixEpoch.AddSeconds(1));
            }
        }
    }

    /// <summary>Kills the server; <see cref="Start"/> starts it again on the same port and directory.</summary>
    public void Stop() => _server.Stop();

    public void Start() => _server.Start();

    public bool IsRunning => _server.IsRunning;

    public void Dispose() => _server.Dispose();
}
