using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port, owned by the tests: started, stopped and restarted on the same
/// port, removed with its working directory at the end. Nothing is persisted to disk. The port is reserved with
/// <see cref="PortReservation"/> for the server's whole life, so a restart finds it still free.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly IReadOnlyList<string> _tlsArguments;
    private readonly bool _tls;
    private Process? _process;
    private PortReservation _port;

    public RedisServer(params string[] extraArguments)
        : this(tls: null, extraArguments)
    {
    }

    private RedisServer((string CertificateFile, string KeyFile)? tls, string[] extraArguments)
    {
        _directory = Directory.CreateTempSubdirectory("cached-redis-").FullName;
        _tls = tls is not null;
        _extraArguments = extraArguments;
        _tlsArguments = tls is { } files
            ? ["--tls-cert-file", files.CertificateFile, "--tls-key-file", files.KeyFile, "--tls-auth-clients", "no"]
            : [];
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
                    throw new InvalidOperationException($"redis-server did not start on any of {attempt} reserved ports: {failure}");
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


    /// <summary>A server that speaks only TLS on <see cref="Port"/>, with the given PEM certificate and key.</summary>
    public static RedisServer WithTls(string certificateFile, string keyFile, params string[] extraArguments)
        => new((certificateFile, keyFile), extraArguments);

    public int Port => _port.Port;

    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server again on its port (after <see cref="Stop"/>).</summary>
    public void Start()
    {
        if (!TryStart(out var failure))
        {
            throw new InvalidOperationException(failure);
        }
    }

    private bool TryStart(out string failure)
    {
        failure = string.Empty;
        if (IsRunning)
        {
            return true;
        }

        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo(FindServer())
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // With TLS the only listening port is the TLS one: the plain port is switched off.
        string[] ports = _tls ? ["--port", "0", "--tls-port", port, .. _tlsArguments] : ["--port", port];
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", _directory }.Concat(ports).Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (WaitUntil(accepting: true))
        {
            return true;
        }

        Stop();
        failure = $"redis-server on port {port} did not start within {s_startLimit.TotalSeconds} s:\n{string.Join('\n', output)}";
        return false;
    }

    private static void Keep(System.Collections.Concurrent.ConcurrentQueue<string> output, string? line)
    {
        // The last lines say why a server did not start ("Address already in use"); the rest are not needed.
        if (line is not null && output.Count < 200)
        {
            output.Enqueue(line);
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

        _process.Dispose();
        _process = null;
        if (!WaitUntil(accepting: false))
        {
            throw new InvalidOperationException($"port {Port} still accepts connections {s_startLimit.TotalSeconds} s after its redis-server was killed");
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

    /// <summary>
    /// A readiness wait, not a timing claim: the limit only ends a wait for a server that will never answer, and a
    /// server whose process has exited is known not to answer at once.
    /// </summary>
    private static readonly TimeSpan s_startLimit = TimeSpan.FromSeconds(30);

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
            using Stream stream = _tls ? TlsStream(client) : client.GetStream();
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

    /// <summary>A TLS stream for the readiness probe only, which accepts the test's own certificate as it is.</summary>
    private static System.Net.Security.SslStream TlsStream(TcpClient client)
    {
        var stream = new System.Net.Security.SslStream(client.GetStream(), leaveInnerStreamOpen: false, static (_, _, _, _) => true);
        stream.AuthenticateAsClient("127.0.0.1");
        return stream;
    }

    private static string FindServer()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            var candidate = Path.Combine(folder, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("redis-server is not installed: run `apt-get install -y redis-server` (.ci/run does).");
    }
}
