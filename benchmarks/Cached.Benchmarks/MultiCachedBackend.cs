using Cached.Benchmarks.Infrastructure;
using Cached.Benchmarks.Model;
using Cached.Redis;
using StackExchange.Redis;

namespace Cached.Benchmarks;

/// <summary>
/// A cache and the two generated methods the MultiCached benchmarks compare on it: <c>[MultiCached]</c> over a list
/// of ids and <c>[Cached]</c> over one id, in the same namespace, so that they share entries.
/// </summary>
public abstract partial class MultiCachedBackend : IDisposable
{
    /// <summary>
    /// The alias both methods read. A backend registers its cache under it when made: a benchmark process makes one
    /// backend, and the in-process dry run makes them one after the other.
    /// </summary>
    protected const string Alias = "bench-multi";

    /// <summary>The cache both methods use.</summary>
    public abstract ICache Cache { get; }

    /// <summary>Empties the namespace before keys are prepared; a backend whose clearing finishes later overrides it.</summary>
    public virtual void Empty() => Cache.Clear(MultiCachedBenchmarks.Namespace);

    /// <summary>Removes what the benchmarks stored.</summary>
    public void Clear() => Cache.Clear(MultiCachedBenchmarks.Namespace);

    /// <inheritdoc />
    public abstract void Dispose();

    /// <summary>The generated <c>[MultiCached(KeysFrom = "ids")]</c> method.</summary>
    [MultiCached(KeysFrom = "ids", Alias = Alias, Namespace = MultiCachedBenchmarks.Namespace)]
    public partial Dictionary<int, User> GetUsers(IReadOnlyList<int> ids);

    /// <summary>The body of both methods: one value per missing id.</summary>
    private Dictionary<int, User> GetUsersCore(IReadOnlyList<int> ids)
    {
        var users = new Dictionary<int, User>(ids.Count);
        foreach (var id in ids)
        {
            users[id] = new User(id, "ada");
        }

        return users;
    }

    /// <summary>The generated <c>[Cached(Key = "{id}")]</c> method.</summary>
    [Cached(Key = "{id}", Alias = Alias, Namespace = MultiCachedBenchmarks.Namespace)]
    public partial User GetUser(int id);

    private User GetUserCore(int id) => new(id, "ada");
}

/// <summary>The methods on <see cref="SimpleMemoryCache"/>.</summary>
public sealed class MemoryMultiCachedBackend : MultiCachedBackend
{
    private readonly SimpleMemoryCache _cache = new();

    public MemoryMultiCachedBackend() => Caches.AddInstance(Alias, _cache);

    public override ICache Cache => _cache;

    public override void Dispose() => _cache.Dispose();
}

/// <summary>The methods on <see cref="RedisCache"/>, on the server of <see cref="BenchRedis.Variable"/>.</summary>
public sealed class RedisMultiCachedBackend : MultiCachedBackend
{
    private readonly ConnectionMultiplexer _connection;
    private readonly RedisCache _cache;

    public RedisMultiCachedBackend()
    {
        _connection = BenchRedis.Connect();
        _cache = new RedisCache { Connection = _connection };
        Caches.AddInstance(Alias, _cache);
        // A cache's first write or fill first asks the server, once, whether it runs scripts (a server without them is
        // refused before anything is sent): asked here, so that the commands counted per call are those of every call.
        _cache.Delete("warm-up");
    }

    public override ICache Cache => _cache;

    /// <summary>The connection the cache uses, for the raw client's rows.</summary>
    public ConnectionMultiplexer Connection => _connection;

    /// <summary>
    /// Empties the benchmark's database synchronously. <c>Clear</c> unlinks, and the server frees unlinked keys on a
    /// background thread, which would run during the measured calls on this 2-core machine and be charged to them.
    /// </summary>
    public override void Empty()
    {
        using var admin = BenchRedis.Connect(admin: true);
        admin.GetDatabase().Execute("FLUSHDB", "SYNC");
    }

    public override void Dispose()
    {
        _cache.Dispose();
        _connection.Dispose();
    }
}
