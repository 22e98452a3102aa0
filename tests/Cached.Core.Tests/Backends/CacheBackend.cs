using Cached.Plugins;
using Cached.Serializers;

namespace Cached.Tests.Backends;

/// <summary>What a test asks of a cache it creates; every backend honours the same options.</summary>
public sealed record CacheOptions
{
    public string? Namespace { get; init; }

    public TimeSpan? Ttl { get; init; }

    public ISerializer? Serializer { get; init; }

    public IReadOnlyList<ICachePlugin> Plugins { get; init; } = [];

    public Func<string, string?, string>? KeyBuilder { get; init; }
}

/// <summary>
/// One backend under test. The command fixture runs once per backend (TestFixtureSource), so a new backend only
/// has to say how to create a cache and how to let time pass.
/// </summary>
public abstract class CacheBackend : IDisposable
{
    public abstract string Name { get; }

    /// <summary>A new, empty cache for one test.</summary>
    public abstract BaseCache Create(CacheOptions options);

    /// <summary>Lets <paramref name="duration"/> pass for the cache's clock (moved on a fake clock, waited for on a server).</summary>
    public abstract void Advance(TimeSpan duration);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    public override string ToString() => Name;
}
