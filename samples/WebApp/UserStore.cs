namespace WebApp;

/// <summary>A user as the API returns it.</summary>
public sealed record User(int Id, string Name);

/// <summary>
/// Stands in for a database: slow to read, and it counts its reads, so /stats shows how many requests the cache
/// answered without it.
/// </summary>
public sealed class UserStore
{
    private readonly Dictionary<int, string> _names = new()
    {
        [1] = "Ada Lovelace",
        [2] = "Grace Hopper",
        [3] = "Alan Turing",
    };

    private readonly Lock _gate = new();
    private int _reads;

    /// <summary>How many times the store was read.</summary>
    public int Reads => Volatile.Read(ref _reads);

    public async Task<User?> FindAsync(int id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        await Task.Delay(50, cancellationToken);
        lock (_gate)
        {
            return _names.TryGetValue(id, out var name) ? new User(id, name) : null;
        }
    }

    public async Task<Dictionary<int, User>> FindManyAsync(IReadOnlyCollection<int> ids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        await Task.Delay(50, cancellationToken);
        lock (_gate)
        {
            return ids.Where(_names.ContainsKey).ToDictionary(id => id, id => new User(id, _names[id]));
        }
    }

    public async Task<IReadOnlyList<User>> ListAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        await Task.Delay(50, cancellationToken);
        lock (_gate)
        {
            return _names.OrderBy(static pair => pair.Key).Select(static pair => new User(pair.Key, pair.Value)).ToList();
        }
    }

    /// <summary>Renames the user, or adds one under an id not seen before.</summary>
    public async Task SaveAsync(int id, string name, CancellationToken cancellationToken)
    {
        await Task.Delay(10, cancellationToken);
        lock (_gate)
        {
            _names[id] = name;
        }
    }
}
