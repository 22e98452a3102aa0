using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Cached.Redis.Tests.Infrastructure;

// In no namespace, so that NUnit runs its one-time teardown after every test of the assembly and no server outlives the run.

/// <summary>
/// The redis-server the samples run against, started on a free loopback port the first time a test needs it and
/// stopped at the end, with a few raw commands for the tests' own checks (the tests do not use Cached to check Cached).
/// </summary>
[SetUpFixture]
public sealed class SampleRedis
{
    private static RedisServer? s_server;

    public static RedisServer Server => s_server ??= new RedisServer();

    /// <summary>The URL a sample is given: <c>redis://127.0.0.1:PORT/DATABASE</c>.</summary>
    public static string Url(int database = 0) => string.Create(CultureInfo.InvariantCulture, $"redis://127.0.0.1:{Server.Port}/{database}");

    /// <summary>How many keys the database holds.</summary>
    public static long KeyCount(int database = 0) => long.Parse(Send(database, "DBSIZE").TrimStart(':'), CultureInfo.InvariantCulture);

    /// <summary>The database's keys, sorted.</summary>
    public static IReadOnlyList<string> Keys(int database = 0)
    {
        using var connection = Connect(database);
        Write(connection.Stream, "KEYS", "*");
        var count = int.Parse(ReadLine(connection.Reader).AsSpan(1), CultureInfo.InvariantCulture);
        var keys = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            ReadLine(connection.Reader);          // $<length>
            keys.Add(ReadLine(connection.Reader));
        }

        keys.Sort(StringComparer.Ordinal);
        return keys;
    }

    /// <summary>Empties the database.</summary>
    public static void Flush(int database = 0) => Send(database, "FLUSHDB");

    [OneTimeTearDown]
    public void StopServer()
    {
        s_server?.Dispose();
        s_server = null;
    }

    /// <summary>Runs one command in <paramref name="database"/> and returns its one-line reply (<c>+OK</c>, <c>:3</c>).</summary>
    private static string Send(int database, params string[] command)
    {
        using var connection = Connect(database);
        Write(connection.Stream, command);
        var reply = ReadLine(connection.Reader);
        return reply.StartsWith('-') ? throw new InvalidOperationException($"redis-server answered {reply} to {string.Join(' ', command)}") : reply;
    }

    private static Connection Connect(int database)
    {
        var client = new TcpClient();
        client.Connect(IPAddress.Loopback, Server.Port);
        var stream = client.GetStream();
        stream.ReadTimeout = 5000;
        var connection = new Connection(client, stream, new StreamReader(stream, Encoding.UTF8));
        Write(stream, "SELECT", database.ToString(CultureInfo.InvariantCulture));
        var selected = ReadLine(connection.Reader);
        return selected == "+OK" ? connection : throw new InvalidOperationException($"SELECT {database}: {selected}");
    }

    private static void Write(Stream stream, params string[] command)
    {
        var text = new StringBuilder().Append(CultureInfo.InvariantCulture, $"*{command.Length}\r\n");
        foreach (var part in command)
        {
            text.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
        }

        stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private static string ReadLine(StreamReader reader)
        => reader.ReadLine() ?? throw new InvalidOperationException("redis-server closed the connection");

    private sealed record Connection(TcpClient Client, NetworkStream Stream, StreamReader Reader) : IDisposable
    {
        public void Dispose()
        {
            Reader.Dispose();
            Client.Dispose();
        }
    }
}
