using System.Net;
using System.Net.Sockets;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A loopback port held for one test server from before it starts until it is gone, restarts included. Asking the
/// system for port 0 and giving the port to a server afterwards is a race: the port comes from the ephemeral range,
/// where every outgoing connection on the machine (the parallel test projects open many) takes its local port, and
/// nothing holds it while the server starts or between a stop and a restart. So the port is picked below the
/// ephemeral range and reserved through an exclusive lock on a file named after it, which every test process of this
/// repository takes the same way (the Redis, Samples and Benchmarks tests share this file); the lock goes with the
/// process, so a crashed run leaves no reservation behind. Redis Cluster listens on its port + 10000 too, so ports
/// are picked from 10000-19999 and the bus port (20000-29999) is checked free with them.
/// </summary>
public sealed class PortReservation : IDisposable
{
    private const int First = 10_000;
    private const int Count = 10_000;
    private const int BusOffset = 10_000;

    private static readonly string s_folder = Path.Combine(Path.GetTempPath(), "cached-test-ports");

    private FileStream? _lock;

    private PortReservation(int port, FileStream @lock)
    {
        Port = port;
        _lock = @lock;
    }

    public int Port { get; }

    /// <summary>Reserves a port nobody holds and nothing listens on, its cluster bus port included.</summary>
    public static PortReservation Take()
    {
        Directory.CreateDirectory(s_folder);
        var start = Random.Shared.Next(Count);
        for (var i = 0; i < Count; i++)
        {
            var port = First + ((start + i) % Count);
            FileStream file;
            try
            {
                // FileShare.None is an exclusive advisory lock (flock) on Unix: a second holder fails at once.
                file = new FileStream(Path.Combine(s_folder, port.ToString(System.Globalization.CultureInfo.InvariantCulture)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                continue;
            }

            if (CanListen(port) && CanListen(port + BusOffset))
            {
                return new PortReservation(port, file);
            }

            file.Dispose();
        }

        throw new InvalidOperationException($"No free loopback port in {First}-{First + Count - 1}.");
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
