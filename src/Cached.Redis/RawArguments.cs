using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>
/// The arguments of <see cref="ICache.Raw"/> that StackExchange.Redis can send. The client writes a null as a null bulk
/// string, which no server takes as a request (it answers "invalid bulk length" and closes the socket), and throws
/// inside its writer on a type it cannot encode: either breaks the multiplexer every cache of the configuration
/// shares. So each argument is checked before anything is sent, and the small integers and <see cref="char"/>, which
/// the client refuses but which have one exact form it takes, are widened to it.
/// </summary>
internal static class RawArguments
{
    /// <summary>
    /// Commands that change no key, told apart so that they do not refuse the fills open in this process (every other raw
    /// command does, as it may change any key). Case-insensitive, as Redis takes command names.
    /// </summary>
    private static readonly HashSet<string> s_readingCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "GET", "MGET", "GETRANGE", "STRLEN", "EXISTS", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "TYPE", "DUMP", "OBJECT",
        "HGET", "HMGET", "HGETALL", "HKEYS", "HVALS", "HLEN", "HEXISTS", "HSTRLEN", "HSCAN",
        "LRANGE", "LLEN", "LINDEX", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SSCAN",
        "ZRANGE", "ZCARD", "ZSCORE", "ZRANK", "ZCOUNT", "ZRANGEBYSCORE", "ZSCAN", "XRANGE", "XLEN", "BITCOUNT", "GETBIT",
        "DBSIZE", "KEYS", "SCAN", "RANDOMKEY", "PING", "ECHO", "TIME", "INFO", "LASTSAVE", "ROLE", "MEMORY",
    };

    /// <summary>Whether a raw command only reads (see <see cref="s_readingCommands"/>).</summary>
    public static bool OnlyReads(string command) => s_readingCommands.Contains(command);

    private const string Sendable =
        "a string, byte[], ReadOnlyMemory<byte>, Memory<byte>, RedisValue, RedisKey, RedisChannel, bool, int, uint, long, " +
        "ulong, float or double (an sbyte, byte, short or ushort is sent as a long, a char as a string)";

    /// <summary>The arguments to send, in a new array; throws for the first one the client cannot send.</summary>
    /// <exception cref="ArgumentException">An argument is null, a null <see cref="RedisValue"/>, <see cref="RedisKey"/> or <see cref="RedisChannel"/>, or of another type; <c>ParamName</c> is <c>args</c>.</exception>
    public static object?[] Prepare(string command, object?[] args)
    {
        var sent = new object?[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            sent[i] = ToSendable(args[i]) ?? throw new ArgumentException(Refusal(command, i, args[i]), nameof(args));
        }

        return sent;
    }

    /// <summary>The argument as the client takes it, or null when it cannot send it.</summary>
    private static object? ToSendable(object? arg) => arg switch
    {
        RedisValue { IsNull: true } => null,
        RedisKey key when (string?)key is null => null,
        RedisChannel channel when (string?)channel is null => null,
        string or byte[] or ReadOnlyMemory<byte> or Memory<byte> or RedisValue or RedisKey or RedisChannel => arg,
        bool or int or uint or long or ulong or float or double => arg,
        sbyte n => (long)n,
        byte n => (long)n,
        short n => (long)n,
        ushort n => (long)n,
        char c => c.ToString(),
        _ => null,
    };

    private static string Refusal(string command, int index, object? arg)
    {
        var what = arg switch
        {
            null => "null",
            RedisValue or RedisKey or RedisChannel => $"a null {arg.GetType().Name}",
            _ => $"a {arg.GetType().FullName}",
        };
        return $"Raw command '{command}' cannot send its argument at index {index}, {what}: StackExchange.Redis sends {Sendable}. Nothing was sent.";
    }
}
