using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A server process that speaks the Redis protocol, owned by the tests (redis-server, Garnet): started on a loopback
/// port reserved with <see cref="PortReservation"/> for its whole life, so a restart finds it still free; ready once it
/// answers a PING; stopped by killing it; removed with its working directory at the end.
/// </summary>
internal sealed class LoopbackServer : IDisposable
{
    /// <summary>
    /// A readiness wait, not a timing claim: the limit only ends a wait for a server that will never answer, and a
    /// server whose process has exited is known not to answer at once.
    /// </summary>
    private static readonly TimeSpan s_startLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Every server process running, killed when the test host exits: a fixture whose teardown never ran (a constructor
    /// that threw after starting a node, a setup that failed) must not leave servers behind after the run.
    /// </summary>
    private static readonly ConcurrentDictionary<Process, bool> s_running = new();

    static LoopbackServer() => AppDomain.CurrentDomain.ProcessExit += static (_, _) => KillLeftovers();

    private readonly string _name;
    private readonly Func<string, int, ProcessStartInfo> _startInfo;
    private readonly Func<TcpClient, Stream> _open;
    private Process? _process;
    private PortReservation _port;

    /// <param name="name">The server's program name, for messages.</param>
    /// <param name="startInfo">The process to start, given the working directory and the port.</param>
    /// <param name="open">The stream the readiness probe speaks on (a TLS one for a TLS-only server); plain by default.</param>
    public LoopbackServer(string name, Func<string, int, ProcessStartInfo> startInfo, Func<TcpClient, Stream>? open = null)
    {
        _name = name;
        _startInfo = startInfo;
        _open = open ?? (static client => client.GetStream());
        Directory = System.IO.Directory.CreateTempSubdirectory($"cached-{name}-").FullName;
        _port = PortReservation.Take();
        try
        {
            // Only a process outside the tests can still hold a reserved port: then the server cannot bind, and the
            // next reserved port is tried.
            for (var attempt = 1; !TryStart(out var failure); attempt++)
            {
                _port.Dispose();
                if (attempt == 5)
                {
                    throw new InvalidOperationException($"{name} did not start on any of {attempt} reserved ports: {failure}");
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

    /// <summary>The server's working directory, removed with it.</summary>
    public string Directory { get; }

    public int Port => _port.Port;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server again on its port (after <see cref="Stop"/>).</summary>
    public void Start()
    {
        if (!TryStart(out var failure))
        {
            throw new InvalidOperationException(failure);
        }
    }

    public void Stop()
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

        s_running.TryRemove(_process, out _);
        _process.Dispose();
        _process = null;
        if (!WaitUntil(accepting: false))
        {
            throw new InvalidOperationException($"port {Port} still accepts connections {s_startLimit.TotalSeconds} s after its {_name} was killed");
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
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private bool TryStart(out string failure)
    {
        failure = string.Empty;
        if (IsRunning)
        {
            return true;
        }

        var start = _startInfo(Directory, Port);
        start.WorkingDirectory = Directory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var output = new ConcurrentQueue<string>();
        _process = Process.Start(start) ?? throw new InvalidOperationException($"{_name} did not start");
        s_running[_process] = true;
        _process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (WaitUntil(accepting: true))
        {
            return true;
        }

        Stop();
        failure = $"{_name} on port {Port} did not start within {s_startLimit.TotalSeconds} s:\n{string.Join('\n', output)}";
        return false;
    }

    private static void KillLeftovers()
    {
        foreach (var process in s_running.Keys)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Exited meanwhile: nothing left to stop.
            }
        }
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        // The first lines say why a server did not start ("Address already in use"); the rest are not needed.
        if (line is not null && output.Count < 200)
        {
            output.Enqueue(line);
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
            using var stream = _open(client);
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            stream.ReadTimeout = 1000;
            var read = stream.Read(buffer);
            // +PONG, or -NOAUTH from a server that requires a password: either way it is serving.
            return read > 0 && buffer[0] is (byte)'+' or (byte)'-';
        }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }
}
