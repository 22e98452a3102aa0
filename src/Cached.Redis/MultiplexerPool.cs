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

        /// <summary>The refusal of the connection's login or certificate that no connection has mended since, if any.</summary>
        public RedisConnectionException? Refusal => shared.Refusal;

        /// <summary>The multiplexer once it is made, without waiting for it; null before.</summary>
        public ConnectionMultiplexer? Connected => shared.Connected;

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
        private ConnectFailureLog? _failures;

        // Once one command has waited out the connection, the others fail at once until it is made.
        private volatile bool _waitedOut;

        public string Key { get; } = key;

        public int References { get; set; }

        public bool IsConnected => _connecting is { IsCompletedSuccessfully: true };

        public RedisConnectionException? Refusal => _failures?.Refusal;

        public ConnectionMultiplexer? Connected => _connecting is { IsCompletedSuccessfully: true } made ? made.Result : null;

        public ConnectionMultiplexer Get(TimeSpan wait)
        {
            var connecting = Connecting(out var failures);
            if (!connecting.IsCompleted)
            {
                ThrowIfRefused(failures, connecting);
                if (!_waitedOut)
                {
                    // A refused login ends the wait too: the connect goes on, but nothing it tries will change that.
                    Task.WaitAny([connecting, failures.Refused], wait);
                    ThrowIfRefused(failures, connecting);
                }

                if (!connecting.IsCompleted)
                {
                    _waitedOut = true;
                    throw NotConnectedYet(failures);
                }
            }

            return Result(connecting);
        }

        public async ValueTask<ConnectionMultiplexer> GetAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            var connecting = Connecting(out var failures);
            if (!connecting.IsCompleted)
            {
                ThrowIfRefused(failures, connecting);
                if (!_waitedOut)
                {
                    try
                    {
                        // A refused login ends the wait too: the connect goes on, but nothing it tries will change that.
                        await Task.WhenAny(connecting, failures.Refused).WaitAsync(wait, cancellationToken).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        // Said below, as when an earlier command waited it out.
                    }

                    ThrowIfRefused(failures, connecting);
                }

                if (!connecting.IsCompleted)
                {
                    _waitedOut = true;
                    throw NotConnectedYet(failures);
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

        private Task<ConnectionMultiplexer> Connecting(out ConnectFailureLog failures)
        {
            lock (_gate)
            {
                // A connect that failed outright (a bad configuration) is tried again by the next command.
                if (_connecting is null || _connecting.IsFaulted)
                {
                    _waitedOut = false;
                    var attempt = options.Clone();
                    // What the connect meets, heard as the client logs it: a command waiting for it can name it.
                    _failures = new ConnectFailureLog(attempt.LoggerFactory);
                    attempt.LoggerFactory = _failures;
                    _connecting = ConnectAsync(attempt, _failures);
                }

                failures = _failures!;
                return _connecting;
            }
        }

        private static async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions attempt, ConnectFailureLog failures)
        {
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(attempt).ConfigureAwait(false);
            // A connection made mends a refusal (a password or certificate fixed on the server's side): it is not named after.
            multiplexer.ConnectionRestored += (_, _) => failures.Forget();
            if (multiplexer.IsConnected)
            {
                failures.Forget();
            }

            return multiplexer;
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

        /// <summary>
        /// While the connect goes on, a login the server refused fails a command at once, naming the refusal: it is a
        /// wrong password, user or certificate, which waiting will not mend (the client keeps trying, so a fixed server
        /// side is picked up).
        /// </summary>
        private void ThrowIfRefused(ConnectFailureLog failures, Task<ConnectionMultiplexer> connecting)
        {
            if (!connecting.IsCompleted && failures.Refusal is { } refusal)
            {
                var message = $"Redis at {Endpoints()} refused the connection's login ({ConnectFailureLog.Describe(refusal)}). "
                    + "Check the user, password and TLS settings the cache connects with; the client keeps trying in the background.";
                throw new CacheBackendException(message, refusal, unreachable: true);
            }
        }

        private CacheBackendException NotConnectedYet(ConnectFailureLog failures)
        {
            var last = failures.Last;
            var message = $"Redis at {Endpoints()} is not reachable yet; the client keeps connecting in the background."
                + (last is null ? string.Empty : $" Its last attempt failed: {ConnectFailureLog.Describe(last)}.");
            // Unreachable, as a connection that failed is: a two-level cache keeps such a write and retries it (it did not
            // when this said only "backend fault", and threw).
            return new(message, last ?? new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, message, null!, CommandStatus.WaitingToBeSent), unreachable: true);
        }

        private string Endpoints() => string.Join(",", options.EndPoints.Select(static e => e.ToString()));
    }
}
