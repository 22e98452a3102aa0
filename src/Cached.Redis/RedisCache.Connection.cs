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
    private readonly string? _password;
    private readonly string? _user;
    private readonly bool _ssl;

    // The settings a connection string holds itself, given so far: StackExchange.Redis would take the string alone
    // and drop them without a word (a password lost, another server reached), so they are refused beside one.
    private readonly ServerSettings _serverSettings;

    [Flags]
    private enum ServerSettings
    {
        None = 0,
        Endpoint = 1,
        Port = 2,
        Password = 4,
        User = 8,
        Ssl = 16,
    }

    /// <summary>The server's host (127.0.0.1 unless set); ignored when <see cref="Connection"/> is set.</summary>
    /// <exception cref="ArgumentException">Empty or blank, or set beside <see cref="ConnectionString"/>, which names the server itself.</exception>
    public string Endpoint
    {
        get => _endpoint;
        init
        {
            _endpoint = !string.IsNullOrWhiteSpace(value) ? value : throw new ArgumentException("An endpoint names a host; it cannot be empty.", nameof(Endpoint));
            _serverSettings = Given(ServerSettings.Endpoint);
        }
    }

    /// <summary>The server's port (6379 unless set).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not from 1 to 65535.</exception>
    /// <exception cref="ArgumentException">Set beside <see cref="ConnectionString"/>, which names the port itself.</exception>
    public int Port
    {
        get => _port;
        init
        {
            _port = value is > 0 and <= 65535 ? value : throw new ArgumentOutOfRangeException(nameof(Port), value, "A port is from 1 to 65535.");
            _serverSettings = Given(ServerSettings.Port);
        }
    }

    /// <summary>The database number; unset means the connection string's default database, or 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int? Database
    {
        get => _database;
        init => _database = value is null or >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Database), value, "A database number is 0 or more.");
    }

    /// <summary>The password (Redis <c>AUTH</c>); with <see cref="ConnectionString"/>, use its <c>password=</c>.</summary>
    /// <exception cref="ArgumentException">A password set beside <see cref="ConnectionString"/>.</exception>
    public string? Password
    {
        get => _password;
        init
        {
            _password = value;
            _serverSettings = value is null ? _serverSettings : Given(ServerSettings.Password);
        }
    }

    /// <summary>The ACL user name, with <see cref="Password"/>; with <see cref="ConnectionString"/>, use its <c>user=</c>.</summary>
    /// <exception cref="ArgumentException">A user set beside <see cref="ConnectionString"/>.</exception>
    public string? User
    {
        get => _user;
        init
        {
            _user = value;
            _serverSettings = value is null ? _serverSettings : Given(ServerSettings.User);
        }
    }

    /// <summary>Connects over TLS (<c>rediss://</c> URLs set it); with <see cref="ConnectionString"/>, use its <c>ssl=true</c>.</summary>
    /// <exception cref="ArgumentException">Set (to either value) beside <see cref="ConnectionString"/>.</exception>
    public bool Ssl
    {
        get => _ssl;
        init
        {
            _ssl = value;
            _serverSettings = Given(ServerSettings.Ssl);
        }
    }

    /// <summary>
    /// The path of a CA certificate (PEM or DER) to trust for TLS, for a server whose certificate a private or
    /// self-signed authority issued; the server's certificate must still name the host connected to.
    /// </summary>
    public string? TrustIssuer { get; init; }

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>"host1:6379,host2:6379,ssl=true,user=app,password=..."</c>). It
    /// says alone where and how to connect: <see cref="Endpoint"/>, <see cref="Port"/>, <see cref="Password"/>,
    /// <see cref="User"/> and <see cref="Ssl"/> cannot be set beside it (their values go into the string instead);
    /// <see cref="Database"/> and <see cref="TrustIssuer"/> can.
    /// </summary>
    /// <exception cref="ArgumentException">StackExchange.Redis cannot read it, it names no server, or one of the settings above is set too.</exception>
    public string? ConnectionString
    {
        get => _connectionString;
        init
        {
            if (value is not null && WhyUnusable(value) is { } why)
            {
                throw new ArgumentException(why, nameof(ConnectionString));
            }

            if (value is not null && _serverSettings != ServerSettings.None)
            {
                throw new ArgumentException($"ConnectionString cannot be set beside {_serverSettings}: the connection string alone says where and how to connect, so they would be ignored. Put them into the connection string instead ({InConnectionString(_serverSettings)}), or leave ConnectionString unset.", nameof(ConnectionString));
            }

            _connectionString = value;
        }
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
        // The connection string can stand alone here: the settings it would drop are refused beside it when set.
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

    /// <summary>The settings given so far with <paramref name="setting"/>; refused when a connection string was given first.</summary>
    private ServerSettings Given(ServerSettings setting)
        => _connectionString is null
            ? _serverSettings | setting
            : throw new ArgumentException($"{setting} cannot be set beside ConnectionString: the connection string alone says where and how to connect, so {setting} would be ignored. Put it into the connection string instead ({InConnectionString(setting)}), or leave ConnectionString unset.", setting.ToString());

    /// <summary>How the connection string says what <paramref name="settings"/> say, as an example for a message.</summary>
    private static string InConnectionString(ServerSettings settings)
    {
        var parts = new List<string>();
        if ((settings & (ServerSettings.Endpoint | ServerSettings.Port)) != 0)
        {
            parts.Add("host:port first");
        }

        if ((settings & ServerSettings.User) != 0)
        {
            parts.Add("user=...");
        }

        if ((settings & ServerSettings.Password) != 0)
        {
            parts.Add("password=...");
        }

        if ((settings & ServerSettings.Ssl) != 0)
        {
            parts.Add("ssl=true or ssl=false");
        }

        return string.Join(", ", parts);
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
