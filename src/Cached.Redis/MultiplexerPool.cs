using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>
/// One <see cref="ConnectionMultiplexer"/> per configuration, shared by every <see cref="RedisCache"/> that uses it:
/// created on the first command that needs it, counted by the caches that hold it, disposed with the last one.
/// </summary>
internal static class MultiplexerPool
{
    private static readonly Dictionary<string, Shared> s_shared = new(StringComparer.Ordinal);
    private static readonly object s_gate = new();

    public static Lease Acquire(ConfigurationOptions options)
    {
        var key = options.ToString(includePassword: true);
        lock (s_gate)
        {
            if (!s_shared.TryGetValue(key, out var shared))
            {
                shared = new Shared(key, options);
                s_shared[key] = shared;
            }

            shared.References++;
            return new Lease(shared);
        }
    }

    private static void Release(Shared shared)
    {
        lock (s_gate)
        {
            if (--shared.References > 0)
            {
                return;
            }

            s_shared.Remove(shared.Key);
        }

        shared.Dispose();
    }

    /// <summary>A cache's hold on a shared multiplexer; disposing it releases the hold once.</summary>
    internal sealed class Lease(Shared shared) : IDisposable
    {
        private int _released;

        public ConnectionMultiplexer Get() => shared.Get();

        public ValueTask<ConnectionMultiplexer> GetAsync(CancellationToken cancellationToken) => shared.GetAsync(cancellationToken);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Release(shared);
            }
        }
    }

    internal sealed class Shared(string key, ConfigurationOptions options) : IDisposable
    {
        private readonly SemaphoreSlim _connecting = new(1, 1);
        private volatile ConnectionMultiplexer? _connection;

        public string Key { get; } = key;

        public int References { get; set; }

        public ConnectionMultiplexer Get()
        {
            if (_connection is { } connection)
            {
                return connection;
            }

            _connecting.Wait();
            try
            {
                return _connection ??= ConnectionMultiplexer.Connect(options.Clone());
            }
            finally
            {
                _connecting.Release();
            }
        }

        public ValueTask<ConnectionMultiplexer> GetAsync(CancellationToken cancellationToken)
            => _connection is { } connection ? ValueTask.FromResult(connection) : ConnectAsync(cancellationToken);

        public void Dispose()
        {
            _connection?.Dispose();
            _connecting.Dispose();
        }

        private async ValueTask<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
        {
            await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return _connection ??= await ConnectionMultiplexer.ConnectAsync(options.Clone()).ConfigureAwait(false);
            }
            finally
            {
                _connecting.Release();
            }
        }
    }
}
