using Cached;

namespace WebApp;

/// <summary>
/// The application's service, registered in the container like any other. The source generator writes the bodies
/// of its partial methods: read the "default" cache, and call the <c>Core</c> method only on a miss.
/// </summary>
public sealed partial class UserService(UserStore store)
{
    /// <summary>One user, cached for a minute under <c>user:{id}</c>. Unknown ids are not cached, so new users show up.</summary>
    [Cached(Ttl = 60, Key = "user:{id}", SkipCacheWhen = nameof(IsMissing))]
    public partial Task<User?> GetUserAsync(int id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Several users in one call, under the same keys as <see cref="GetUserAsync"/>: ids already cached by either
    /// method are not read again; the store is asked only for the others.
    /// </summary>
    [MultiCached(KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(UserKey))]
    public partial Task<Dictionary<int, User>> GetUsersAsync(int[] ids, CancellationToken cancellationToken = default);

    /// <summary>Renames a user, then drops <c>user:{id}</c> so the next read sees the new name.</summary>
    [InvalidateCache(nameof(GetUserAsync))]
    public partial Task RenameUserAsync(int id, string name, CancellationToken cancellationToken = default);

    private static string UserKey(int id) => $"user:{id}";

    private static bool IsMissing(User? user) => user is null;

    private Task<User?> GetUserAsyncCore(int id, CancellationToken cancellationToken) => store.FindAsync(id, cancellationToken);

    private Task<Dictionary<int, User>> GetUsersAsyncCore(int[] ids, CancellationToken cancellationToken) => store.FindManyAsync(ids, cancellationToken);

    private Task RenameUserAsyncCore(int id, string name, CancellationToken cancellationToken) => store.RenameAsync(id, name, cancellationToken);
}
