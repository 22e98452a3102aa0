using StackExchange.Redis;

namespace Cached.Redis;

// Where the server is and how to reach it: the connection settings, each checked as it is set, and the client
// configuration made of them.
public sealed partial class RedisCache
{
    // Checked when set, so that a bad setting fails where it is given (SetConfig names its path), not at every command.
    private readonly string _endpoint = "127.0.0.1";
    private readonly int _port = 6379;
    private readonly int? _database;
    private readonly string? _connectionString;

    /// <summary>The server's host (127.0.0.1 unless set); ignored when <see cref="ConnectionString"/> or <see cref="Connection"/> is set.</summary>
    /// <exception cref="ArgumentException">Empty or blank.</exception>
    public string Endpoint
    {
        get => _endpoint;
        init => _endpoint = !string.IsNullOrWhiteSpace(value) ? value : throw new ArgumentException("An endpoint names a host; it cannot be empty.", nameof(Endpoint));
    }

    /// <summary>The server's port (6379 unless set); not used when <see cref="ConnectionString"/> or <see cref="Connection"/> is set.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not from 1 to 65535.</exception>
    public int Port
    {
        get => _port;
        init => _port = value is > 0 and <= 65535 ? value : throw new ArgumentOutOfRangeException(nameof(Port), value, "A port is from 1 to 65535.");
    }

    /// <summary>The database number; unset means the connection string's default database, or 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int? Database
    {
        get => _database;
        init => _database = value is null or >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Database), value, "A database number is 0 or more.");
    }

    /// <summary>The password (Redis <c>AUTH</c>); not used when <see cref="ConnectionString"/> is set: put it into the string (<c>password=...</c>).</summary>
    public string? Password { get; init; }

    /// <summary>The ACL user name, with <see cref="Password"/>; not used when <see cref="ConnectionString"/> is set: put it into the string (<c>user=...</c>).</summary>
    public string? User { get; init; }

    /// <summary>Connects over TLS (<c>rediss://</c> URLs set it); with <see cref="ConnectionString"/>, use its <c>ssl=true</c>.</summary>
    public bool Ssl { get; init; }

    /// <summary>
    /// The path of a CA certificate (PEM or DER) to trust for TLS, for a server whose certificate a private or
    /// self-signed authority issued; the server's certificate must still name the host connected to.
    /// </summary>
    public string? TrustIssuer { get; init; }

    /// <summary>A StackExchange.Redis configuration string (<c>"host1:6379,host2:6379,ssl=true,user=app,password=..."</c>).</summary>
    /// <exception cref="ArgumentException">StackExchange.Redis cannot read it, or it names no server.</exception>
    public string? ConnectionString
    {
        get => _connectionString;
        init => _connectionString = value is not null && WhyUnusable(value) is { } why ? throw new ArgumentException(why, nameof(ConnectionString)) : value;
    }

    /// <summary>An existing multiplexer to use; the caller keeps ownership and disposes it.</summary>
    public IConnectionMultiplexer? Connection { get; init; }

    // SE.Redis fails a late async command at its next heartbeat, not at its deadline: the beat that keeps that delay
    // within a tenth of the timeout, when it is not more often than every 250 ms.
    private TimeSpan? TimeoutBeat => Timeout is { } timeout && timeout / 10 >= TimeSpan.FromMilliseconds(250)
        ? TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, (timeout / 10).Ticks))
        : null;

    /// <summary>A backplane on this cache's server: on its connection when it was given one, else on a connection of its own.</summary>
    public ICacheBackplane CreateBackplane() => Connection is { } connection ? new RedisBackplane(connection) : new RedisBackplane(Options());

    /// <summary>The client configuration this cache connects with: timeouts from <see cref="BaseCache.Timeout"/>, fail-fast while disconnected.</summary>
    internal ConfigurationOptions Options()
    {
        var options = ConnectionString is not null
            ? ConfigurationOptions.Parse(ConnectionString)
            : new ConfigurationOptions { EndPoints = { { Endpoint, Port } }, Password = Password, User = User, Ssl = Ssl };
        if (TrustIssuer is not null)
        {
            options.TrustIssuer(TrustIssuer);
        }

        options.AbortOnConnectFail = false;
        // AllowAdmin stays as the connection string says (off unless allowAdmin=true): Raw("FLUSHALL") from any cache
        // must not be able to wipe a server.
        // Commands fail at once while the server is unreachable, instead of queuing until their timeout.
        options.BacklogPolicy = BacklogPolicy.FailFast;
        if (Timeout is { } timeout)
        {
            var milliseconds = (int)Math.Min(int.MaxValue, Math.Ceiling(timeout.TotalMilliseconds));
            options.SyncTimeout = milliseconds;
            options.AsyncTimeout = milliseconds;
        }

        if (TimeoutBeat is { } beat && beat < options.HeartbeatInterval)
        {
            options.HeartbeatInterval = beat;
        }

        // A connect attempt ends within the first command's wait, so that command reports the client's own reason
        // (refused, authentication failed...) rather than only that the connection is not there yet.
        if (ConnectionString is null || !ConnectionString.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectTimeout = (int)Math.Max(50, FirstConnectionWait.TotalMilliseconds * 0.75);
        }

        return options;
    }

    /// <summary>Why StackExchange.Redis cannot use a connection string, or null when it can: it reads it and finds a server.</summary>
    private static string? WhyUnusable(string connectionString)
    {
        try
        {
            return ConfigurationOptions.Parse(connectionString).EndPoints.Count > 0
                ? null
                : "The connection string names no server: give at least one host:port.";
        }
        catch (ArgumentException ex)
        {
            return $"StackExchange.Redis cannot read the connection string: {ex.Message}";
        }
    }
}
