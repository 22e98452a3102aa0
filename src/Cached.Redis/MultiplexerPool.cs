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

    /// <summary>
    /// A hold on the multiplexer of <paramref name="options"/>. The key is the configuration text plus what the text
    /// cannot say (the trusted issuer), so caches that differ only there never share a connection.
    /// </summary>
    public static Lease Acquire(ConfigurationOptions options, string? trustIssuer = null)
    {
        var key = options.ToString(includePassword: true) + (trustIssuer is null ? string.Empty : "|trust-issuer=" + trustIssuer);
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

        public ConnectionMultiplexer Get(TimeSpan wait) => shared.Get(wait);

        public ValueTask<ConnectionMultiplexer> GetAsync(TimeSpan wait, CancellationToken cancellationToken) => shared.GetAsync(wait, cancellationToken);

        /// <summary>Whether the multiplexer is made: commands then go straight to the client, with no wait for it first.</summary>
        public bool IsConnected => shared.IsConnected;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Release(shared);
            }
        }
    }

    /// <summary>
    /// One multiplexer, connecting in the background from the first command on. Commands wait for the connection at
    /// most <c>wait</c>; past it they fail fast while the client keeps trying, so a cache created while the server is
    /// down answers at once instead of after the connect timeout.
    /// </summary>
    internal sealed class Shared(string key, ConfigurationOptions options) : IDisposable
    {
        private readonly object _gate = new();
        private Task<ConnectionMultiplexer>? _connecting;

        // Once one command has waited out the connection, the others fail at once until it is made.
        private volatile bool _waitedOut;

        public string Key { get; } = key;

        public int References { get; set; }

        public bool IsConnected => _connecting is { IsCompletedSuccessfully: true };

        public ConnectionMultiplexer Get(TimeSpan wait)
        {
            var connecting = Connecting();
            if (!connecting.IsCompleted && !((IAsyncResult)connecting).AsyncWaitHandle.WaitOne(_waitedOut ? TimeSpan.Zero : wait))
            {
                _waitedOut = true;
                throw NotConnectedYet(null);
            }

            return Result(connecting);
        }

        public async ValueTask<ConnectionMultiplexer> GetAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            var connecting = Connecting();
            if (!connecting.IsCompleted)
            {
                try
                {
                    await connecting.WaitAsync(_waitedOut ? TimeSpan.Zero : wait, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException ex)
                {
                    _waitedOut = true;
                    throw NotConnectedYet(ex);
                }
                catch (Exception) when (connecting.IsFaulted)
                {
                    // Reported by Result below.
                }
            }

            return Result(connecting);
        }

        public void Dispose()
        {
            Task<ConnectionMultiplexer>? connecting;
            lock (_gate)
            {
                connecting = _connecting;
            }

            _ = connecting?.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private Task<ConnectionMultiplexer> Connecting()
        {
            lock (_gate)
            {
                // A connect that failed outright (a bad configuration) is tried again by the next command.
                if (_connecting is null || _connecting.IsFaulted)
                {
                    _waitedOut = false;
                    _connecting = ConnectionMultiplexer.ConnectAsync(options.Clone());
                }

                return _connecting;
            }
        }

        private ConnectionMultiplexer Result(Task<ConnectionMultiplexer> connecting)
        {
            if (connecting.IsFaulted)
            {
                var error = connecting.Exception!.GetBaseException();
                throw new CacheBackendException($"Redis at {Endpoints()} could not be connected to: {error.Message}", error, unreachable: true);
            }

            return connecting.Result;
        }

        private CacheBackendException NotConnectedYet(Exception? waited)
        {
            var message = $"Redis at {Endpoints()} is not reachable yet; the client keeps connecting in the background.";
            // Unreachable, as a connection that failed is: a two-level cache keeps such a write and retries it (it did not
            // when this said only "backend fault", and threw).
            return new(message, new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, message, waited!, CommandStatus.WaitingToBeSent), unreachable: true);
        }

        private string Endpoints() => string.Join(",", options.EndPoints.Select(static e => e.ToString()));
    }
}
