using System.Diagnostics;
using System.Net.Sockets;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port, owned by the tests: started, stopped and restarted on the same
/// port, removed with its working directory at the end. Nothing is persisted to disk. The port is reserved with
/// <see cref="PortReservation"/> for the server's whole life, so a restart finds it still free.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly IReadOnlyList<string> _tlsArguments;
    private readonly bool _tls;
    private readonly LoopbackServer _server;

    public RedisServer(params string[] extraArguments)
        : this(tls: null, extraArguments)
    {
    }

    private RedisServer((string CertificateFile, string KeyFile)? tls, string[] extraArguments)
    {
        _tls = tls is not null;
        _extraArguments = extraArguments;
        _tlsArguments = tls is { } files
            ? ["--tls-cert-file", files.CertificateFile, "--tls-key-file", files.KeyFile, "--tls-auth-clients", "no"]
            : [];
        _server = new LoopbackServer("redis-server", StartInfo, _tls ? TlsStream : null);
    }

    /// <summary>A server that speaks only TLS on <see cref="Port"/>, with the given PEM certificate and key.</summary>
    public static RedisServer WithTls(string certificateFile, string keyFile, params string[] extraArguments)
        => new((certificateFile, keyFile), extraArguments);

    public int Port => _server.Port;

    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _server.IsRunning;

    /// <summary>Starts the server again on its port (after <see cref="Stop"/>).</summary>
    public void Start() => _server.Start();

    public void Stop() => _server.Stop();

    public void Dispose() => _server.Dispose();

    private ProcessStartInfo StartInfo(string directory, int port)
    {
        var start = new ProcessStartInfo(FindServer());
        var text = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // With TLS the only listening port is the TLS one: the plain port is switched off.
        string[] ports = _tls ? ["--port", "0", "--tls-port", text, .. _tlsArguments] : ["--port", text];
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", directory }.Concat(ports).Concat(_extraArguments))
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>A TLS stream for the readiness probe only, which accepts the test's own certificate as it is.</summary>
    private static Stream TlsStream(TcpClient client)
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
