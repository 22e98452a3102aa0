namespace Cached;

/// <summary>
/// The outcome of a read that tells a miss from a stored value, including a stored <c>null</c> or default:
/// what <see cref="ICache.TryGetAsync{T}"/> returns where the sync twin uses an <c>out</c> parameter.
/// </summary>
/// <typeparam name="T">The type of the value.</typeparam>
/// <param name="Found">True when the key holds a value.</param>
/// <param name="Value">The value when found, else <c>default</c>.</param>
public readonly record struct CacheResult<T>(bool Found, T? Value)
{
    /// <summary>A miss.</summary>
    public static CacheResult<T> Miss => default;

    /// <summary>A hit holding <paramref name="value"/>.</summary>
    public static CacheResult<T> Hit(T? value) => new(true, value);
}
