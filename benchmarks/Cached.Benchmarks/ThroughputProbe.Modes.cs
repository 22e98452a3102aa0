using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Cached.Redis;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace Cached.Benchmarks;

/// <summary>The probe's modes: each side of each workload, on its own connection.</summary>
public static partial class ThroughputProbe
{
    /// <summary>One mode: what a call does, and what must be stored before the callers start.</summary>
    private abstract class Mode(Workload workload, Side side, string what) : IAsyncDisposable
    {
        private int _nextMiss = FirstMissId;

        public Workload Workload { get; } = workload;

        public Side Side { get; } = side;

        public string What { get; } = what;

        public static Mode Create(Workload workload, Side side, ConnectionMultiplexer connection) => (workload, side) switch
        {
            (_, Side.Cached) => new CachedMode(workload, connection, given: true),
            (_, Side.CachedOwnConnection) => new CachedMode(workload, connection, given: false),
            (Workload.Hits, _) => new RawHits(connection),
            (_, Side.SameCommands) => new RawFencedMisses(connection),
            _ => new RawGetSetMisses(connection),
        };

        /// <summary>Whether its commands go over the connection it was given, whose profiler sees them.</summary>
        public virtual bool SendsOnGivenConnection => true;

        /// <summary>Makes one call; <paramref name="sequence"/> differs between any two calls of one caller.</summary>
        public abstract ValueTask CallAsync(long sequence);

        public virtual Task PrepareAsync() => Task.CompletedTask;

        public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

        protected int IdFor(long sequence) => Workload == Workload.Hits ? (int)(sequence % Keys) : Interlocked.Increment(ref _nextMiss);

        protected static void Check(User? user, int id)
        {
            if (user is null || user.Id != id)
            {
                throw new InvalidOperationException($"Read {user?.ToString() ?? "nothing"} for id {id}.");
            }
        }

    }

    /// <summary>
    /// The generated method on a <see cref="RedisCache"/> with its default serializer (JSON): on a connection of its own
    /// to the same server, made from the same configuration string, or on the connection given.
    /// </summary>
    private sealed class CachedMode : Mode
    {
        private readonly RedisCache _cache;
        private readonly bool _given;

        public CachedMode(Workload workload, ConnectionMultiplexer connection, bool given)
            : base(workload, given ? Side.Cached : Side.CachedOwnConnection, given
                ? "`[Cached]` `ValueTask<User>` method, `RedisCache` given the application's multiplexer"
                : "`[Cached]` `ValueTask<User>` method, `RedisCache` (its own connection, as configured by `Caches.SetConfig`)")
        {
            _given = given;
            _cache = given ? new RedisCache { Connection = connection } : new RedisCache { ConnectionString = connection.Configuration };
            Caches.AddInstance(Alias, _cache);
        }

        public override bool SendsOnGivenConnection => _given;

        public override async Task PrepareAsync()
        {
            if (Workload == Workload.Hits)
            {
                var misses = new Task<User>[Keys];
                for (var id = 0; id < Keys; id++)
                {
                    misses[id] = GetUserAsync(id).AsTask();
                }

                await Task.WhenAll(misses).ConfigureAwait(false);
            }
        }

        public override async ValueTask CallAsync(long sequence)
        {
            var id = IdFor(sequence);
            Check(await GetUserAsync(id).ConfigureAwait(false), id);
        }

        public override ValueTask DisposeAsync()
        {
            _cache.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A hit by hand: GET of the key built per call, then JSON.</summary>
    private sealed class RawHits(ConnectionMultiplexer connection) : Mode(Workload.Hits, Side.SameCommands, "StackExchange.Redis, `StringGetAsync` + JSON")
    {
        private readonly IDatabase _database = connection.GetDatabase();

        public override async Task PrepareAsync()
        {
            var writes = new Task[Keys];
            for (var id = 0; id < Keys; id++)
            {
                writes[id] = _database.StringSetAsync($"user:{id}", JsonSerializer.SerializeToUtf8Bytes(Body(id)), TimeSpan.FromSeconds(TtlSeconds));
            }

            await Task.WhenAll(writes).ConfigureAwait(false);
        }

        public override async ValueTask CallAsync(long sequence)
        {
            var id = IdFor(sequence);
            Check(Read(await _database.StringGetAsync($"user:{id}").ConfigureAwait(false)), id);
        }

        private static User? Read(RedisValue value) => value.IsNull ? null : JsonSerializer.Deserialize<User>(((ReadOnlyMemory<byte>)value).Span);
    }

    /// <summary>
    /// A miss by hand, sending what Cached's sends: GET; GET again if a miss of a key in the same of 256 stripes stored
    /// meanwhile (as <c>FillCompletions</c> decides); the script that opens the key's fence; the body; JSON; the script
    /// that stores through the fence.
    /// </summary>
    private sealed class RawFencedMisses(ConnectionMultiplexer connection)
        : Mode(Workload.Misses, Side.SameCommands, "StackExchange.Redis, the same commands: GET (again if a miss of the key's stripe stored meanwhile), fence script, body, fill script")
    {
        private static readonly string s_process = Guid.NewGuid().ToString("N")[..12];
        private static readonly RedisValue s_fenceMilliseconds = 60_000L;
        private static readonly RedisValue s_ttlMilliseconds = TtlSeconds * 1_000L;
        private readonly IDatabase _database = connection.GetDatabase();
        private readonly long[] _lastCompletionByStripe = new long[256];
        private long _completions;
        private long _tokens;

        public override async ValueTask CallAsync(long sequence)
        {
            var id = IdFor(sequence);
            var key = $"user:{id}";
            var completions = Volatile.Read(ref _completions);
            var read = await _database.StringGetAsync(key).ConfigureAwait(false);
            var stripe = key.GetHashCode() & 255;
            if (read.IsNull && Volatile.Read(ref _completions) != completions && Volatile.Read(ref _lastCompletionByStripe[stripe]) > completions)
            {
                read = await _database.StringGetAsync(key).ConfigureAwait(false);
            }

            if (!read.IsNull)
            {
                throw new InvalidOperationException($"A miss found {key} stored.");
            }

            RedisKey fence = key + ":__cached:fence";
            RedisKey holders = key + ":__cached:fence:holders";
            var token = s_process + Interlocked.Increment(ref _tokens).ToString(CultureInfo.InvariantCulture);
            var seen = (RedisResult[])(await _database.ScriptEvaluateAsync(OpenFences, [fence, holders], [token, s_fenceMilliseconds]).ConfigureAwait(false))!;
            var user = Body(id);
            var stored = (long)await _database.ScriptEvaluateAsync(FillIfFenced, [key, fence, holders], [s_ttlMilliseconds, (RedisValue)seen[0], JsonSerializer.SerializeToUtf8Bytes(user)]).ConfigureAwait(false);
            var number = Interlocked.Increment(ref _completions);
            var last = Volatile.Read(ref _lastCompletionByStripe[stripe]);
            while (last < number && Interlocked.CompareExchange(ref _lastCompletionByStripe[stripe], number, last) is var was && was != last)
            {
                last = was;
            }

            if (stored != 1)
            {
                throw new InvalidOperationException($"The fill of {key} was refused.");
            }
        }
    }

    /// <summary>A miss by hand with the least a read-through needs: GET, the body, JSON, SET with the TTL.</summary>
    private sealed class RawGetSetMisses(ConnectionMultiplexer connection) : Mode(Workload.Misses, Side.GetSet, "StackExchange.Redis, GET + SET with the TTL")
    {
        private static readonly TimeSpan s_ttl = TimeSpan.FromSeconds(TtlSeconds);
        private readonly IDatabase _database = connection.GetDatabase();

        public override async ValueTask CallAsync(long sequence)
        {
            var id = IdFor(sequence);
            var key = $"user:{id}";
            if (!(await _database.StringGetAsync(key).ConfigureAwait(false)).IsNull)
            {
                throw new InvalidOperationException($"A miss found {key} stored.");
            }

            await _database.StringSetAsync(key, JsonSerializer.SerializeToUtf8Bytes(Body(id)), s_ttl).ConfigureAwait(false);
        }
    }
}
