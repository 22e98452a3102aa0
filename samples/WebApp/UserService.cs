using Cached;

namespace WebApp;

/// <summary>
/// The application's service, registered in the container like any other. The source generator writes the bodies
/// of its partial methods: read the "default" cache, and call the <c>Core</c> method only on a miss.
/// </summary>
/// <remarks>
/// Each user's entry is tagged <c>user:{id}</c> and the list is tagged <c>users</c>, so a save invalidates exactly
/// what it changed: that user and the list miss, the other users' entries still hit.
/// </remarks>
public sealed partial class UserService(UserStore store)
{
    /// <summary>One user, cached for a minute under <c>user:{id}</c>. Unknown ids are not cached, so new users show up.</summary>
    [Cached(Ttl = 60, Key = "user:{id}", Tags = new[] { "user:{id}" }, SkipCacheWhen = nameof(IsMissing))]
    public partial Task<User?> GetUserAsync(int id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Several users in one call, under the same keys and tags as <see cref="GetUserAsync"/>: ids already cached by
    /// either method are not read again; the store is asked only for the others.
    /// </summary>
    [MultiCached(KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(UserKey), Tags = new[] { "user:{ids}" })]
    public partial Task<Dictionary<int, User>> GetUsersAsync(int[] ids, CancellationToken cancellationToken = default);

    /// <summary>Every user, in id order, cached for a minute under <c>users:all</c>; any save makes it miss.</summary>
    [Cached(Ttl = 60, Key = "users:all", Tags = new[] { "users" })]
    public partial Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Renames a user, or adds one, then invalidates <c>user:{id}</c> and <c>users</c>: the next read of that user
    /// and of the list sees the new name.
    /// </summary>
    [InvalidateTags("user:{id}", "users")]
    public partial Task SaveUserAsync(int id, string name, CancellationToken cancellationToken = default);

    private static string UserKey(int id) => $"user:{id}";

    private static bool IsMissing(User? user) => user is null;

    private Task<User?> GetUserAsyncCore(int id, CancellationToken cancellationToken) => store.FindAsync(id, cancellationToken);

    private Task<Dictionary<int, User>> GetUsersAsyncCore(int[] ids, CancellationToken cancellationToken) => store.FindManyAsync(ids, cancellationToken);

    private Task<IReadOnlyList<User>> ListUsersAsyncCore(CancellationToken cancellationToken) => store.ListAsync(cancellationToken);

    private Task SaveUserAsyncCore(int id, string name, CancellationToken cancellationToken) => store.SaveAsync(id, name, cancellationToken);
}
