using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port, owned by the tests: started, stopped and restarted on the same
/// port, removed with its working directory at the end. Nothing is persisted to disk.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly IReadOnlyList<string> _extraArguments;
    private Process? _process;

    private readonly bool _tls;

    public RedisServer(params string[] extraArguments)
        : this(tls: null, extraArguments)
    {
    }

    private RedisServer((string CertificateFile, string KeyFile)? tls, string[] extraArguments)
    {
        _directory = Directory.CreateTempSubdirectory("cached-redis-").FullName;
        Port = FreePort();
        _tls = tls is not null;
        // With TLS the only listening port is the TLS one: the plain port is switched off.
        _extraArguments = tls is { } files
            ? ["--port", "0", "--tls-port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tls-cert-file", files.CertificateFile, "--tls-key-file", files.KeyFile, "--tls-auth-clients", "no", .. extraArguments]
            : extraArguments;
        Start();
    }

    /// <summary>A server that speaks only TLS on <see cref="Port"/>, with the given PEM certificate and key.</summary>
    public static RedisServer WithTls(string certificateFile, string keyFile, params string[] extraArguments)
        => new((certificateFile, keyFile), extraArguments);

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    public void Start()
    {
        if (IsRunning)
        {
            return;
        }

        var start = new ProcessStartInfo(FindServer())
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", string.Empty, "--appendonly", "no", "--dir", _directory }.Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntil(accepting: true);
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
        WaitUntil(accepting: false);
    }

    public void Dispose()
    {
        Stop();
        Directory.Delete(_directory, recursive: true);
    }

    private void WaitUntil(bool accepting)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (Accepts() == accepting)
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new InvalidOperationException($"redis-server on port {Port} did not {(accepting ? "start" : "stop")} within 10 s");
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
