using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A Microsoft Garnet server (the <c>garnet-server</c> dotnet tool) on a free loopback port, owned by the tests as
/// <see cref="RedisServer"/> owns a redis-server: the port reserved with <see cref="PortReservation"/> for the server's
/// whole life, nothing persisted, the process and its working directory removed at the end. The tool is found through
/// <c>CACHED_GARNET_SERVER</c> (the executable), else on <c>PATH</c>, else in <c>~/.dotnet/tools</c>. Where it is not
/// installed the tests that need it are ignored with the reason, except on CI with <c>CACHED_REQUIRE_GARNET=1</c>,
/// where they fail.
/// </summary>
public sealed class GarnetServer : IDisposable
{
    /// <summary>The version the compatibility table of docs/redis.md was made with, and .ci/run installs.</summary>
    public const string Version = "2.2.12";

    private const string Tool = "garnet-server";

    /// <summary>A readiness wait, not a timing claim: it only ends a wait for a server that will never answer.</summary>
    private static readonly TimeSpan s_startLimit = TimeSpan.FromSeconds(30);

    private readonly string _executable;
    private readonly string _directory;
    private readonly bool _lua;
    private Process? _process;
    private PortReservation _port;

    private GarnetServer(string executable, bool lua)
    {
        _executable = executable;
        _lua = lua;
        _directory = Directory.CreateTempSubdirectory("cached-garnet-").FullName;
        _port = PortReservation.Take();
        try
        {
            // Only a process outside the tests can still hold a reserved port: then the next reserved port is tried.
            for (var attempt = 1; !TryStart(out var failure); attempt++)
            {
                _port.Dispose();
                if (attempt == 5)
                {
                    throw new InvalidOperationException($"garnet-server did not start on any of {attempt} reserved ports: {failure}");
                }

                _port = PortReservation.Take();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Port => _port.Port;

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>
    /// Starts Garnet, with Lua scripting unless <paramref name="lua"/> is false, or ends the calling test (or the
    /// fixture, from a one-time set-up) when the tool is missing: ignored with the reason, failed on a CI that requires it.
    /// </summary>
    public static GarnetServer StartOrIgnore(bool lua = true)
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

        return new GarnetServer(executable!, lua);
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
            .Append(Path.Combine(home, ".dotnet", "tools"));
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

        missing = $"the {Tool} dotnet tool is neither named by CACHED_GARNET_SERVER, nor on PATH, nor in ~/.dotnet/tools.";
        return null;
    }

    private bool TryStart(out string failure)
    {
        failure = string.Empty;
        var start = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Garnet sizes its log for 16 GB and its index for 128 MB unless told: a test server needs a fraction of that.
        string[] arguments =
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--memory", "256m", "--index", "16m", "--logger-level", "Warning",
        ];
        foreach (var argument in _lua ? [.. arguments, "--lua"] : arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var output = new ConcurrentQueue<string>();
        _process = Process.Start(start) ?? throw new InvalidOperationException("garnet-server did not start");
        _process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (WaitUntil(accepting: true))
        {
            return true;
        }

        Stop();
        failure = $"garnet-server on port {Port} did not start within {s_startLimit.TotalSeconds} s:\n{string.Join('\n', output)}";
        return false;
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        // The first lines say why a server did not start ("address already in use"); the rest are not needed.
        if (line is not null && output.Count < 200)
        {
            output.Enqueue(line);
        }
    }

    private void Stop()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        _process = null;
        if (!WaitUntil(accepting: false))
        {
            throw new InvalidOperationException($"port {Port} still accepts connections {s_startLimit.TotalSeconds} s after its garnet-server was killed");
        }
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

    public void Dispose()
    {
        try
        {
            Stop();
        }
        finally
        {
            _port.Dispose();
            Directory.Delete(_directory, recursive: true);
        }
    }

    private bool WaitUntil(bool accepting)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < s_startLimit)
        {
            if (accepting && _process is { HasExited: true })
            {
                return false;
            }

            if (Accepts() == accepting)
            {
                return true;
            }

            Thread.Sleep(20);
        }

        return false;
    }

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            using var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            stream.ReadTimeout = 1000;
            return stream.Read(buffer) > 0 && buffer[0] == (byte)'+';
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return false;
        }
    }
}
