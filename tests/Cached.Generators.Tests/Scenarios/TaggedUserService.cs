namespace Cached.Generators.Tests.Scenarios;

/// <summary>
/// Tagged [Cached] and [MultiCached] methods and the [InvalidateTags] methods that make their entries miss (issue 17),
/// all on the alias "scenario" that each test points at a fresh cache.
/// </summary>
public partial class TaggedUserService(CallCounter calls)
{
    [Cached(Alias = UserService.Alias, Key = "tagged-user:{id}", Tags = new[] { "user:{id}", "users" })]
    public partial User GetUser(int id);

    private User GetUserCore(int id)
    {
        calls.Hit(nameof(GetUser));
        return new User(id, "user" + id);
    }

    [Cached(Alias = UserService.Alias, Key = "tagged-profile:{id}", Tags = new[] { "user:{id:D6}", "users" })]
    public partial Task<string> GetProfileAsync(int id, CancellationToken cancellationToken = default);

    private async Task<string> GetProfileAsyncCore(int id, CancellationToken cancellationToken)
    {
        calls.Hit(nameof(GetProfileAsync));
        await Task.Yield();
        return "profile" + id;
    }

    [MultiCached(KeysFrom = "ids", Alias = UserService.Alias, Namespace = "tagged", Tags = new[] { "user:{ids}", "region:{region}" })]
    public partial Dictionary<int, User> GetUsers(List<int> ids, [CacheKeyIgnore] string region);

    private Dictionary<int, User> GetUsersCore(List<int> ids, string region)
    {
        calls.Hit(nameof(GetUsers));
        Requests.Add([.. ids]);
        return ids.ToDictionary(static id => id, id => new User(id, region + id));
    }

    [MultiCached(KeysFrom = "ids", Alias = UserService.Alias, Namespace = "tagged-async", Tags = new[] { "user:{ids}" })]
    public partial ValueTask<Dictionary<int, User>> GetUsersAsync(int[] ids, CancellationToken cancellationToken);

    private ValueTask<Dictionary<int, User>> GetUsersAsyncCore(int[] ids, CancellationToken cancellationToken)
    {
        calls.Hit(nameof(GetUsersAsync));
        Requests.Add(ids);
        return new(ids.ToDictionary(static id => id, static id => new User(id, "async" + id)));
    }

    /// <summary>The keys each [MultiCached] body was called with, in order.</summary>
    public List<int[]> Requests { get; } = [];

    /// <summary>Invalidates in the caches of this type's tagged methods: it has no Alias.</summary>
    [InvalidateTags("user:{id}")]
    public partial void Rename(int id, string name);

    private void RenameCore(int id, string name)
    {
        calls.Hit(nameof(Rename));
        if (name.Length == 0)
        {
            throw new ArgumentException("A name cannot be empty.", nameof(name));
        }
    }

    [InvalidateTags("user:{id:D6}", Alias = UserService.Alias)]
    public partial Task<bool> RenameAsync(int id, CancellationToken cancellationToken);

    private Task<bool> RenameAsyncCore(int id, CancellationToken cancellationToken) => Task.FromResult(true);

    [InvalidateTags("region:{region}")]
    public partial ValueTask MoveRegionAsync(string region);

    private ValueTask MoveRegionAsyncCore(string region) => default;

    /// <summary>One body for both: the entry of GetUser is deleted, then every entry tagged "users" misses.</summary>
    [InvalidateCache(nameof(GetUser))]
    [InvalidateTags("users")]
    public partial Task DeleteAsync(int id);

    private Task DeleteAsyncCore(int id) => Task.CompletedTask;
}
