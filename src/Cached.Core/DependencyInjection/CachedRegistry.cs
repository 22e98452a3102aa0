using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cached.DependencyInjection;

/// <summary>
/// The container's side of <see cref="Caches"/>: created once per container (at host start, or with the first cache
/// resolved), it points Cached's logs at the container's logger factory, creates the factory-made caches and
/// registers them with <see cref="Caches"/>, so generated methods use the very instances the container hands out.
/// Disposed with the container, it disposes the caches it is responsible for and forgets them in <see cref="Caches"/>.
/// </summary>
internal sealed class CachedRegistry : IDisposable, IAsyncDisposable
{
    private readonly CachedBuilder _builder;
    private readonly List<(string Alias, ICache Cache)> _created = [];
    private int _disposed;

    public CachedRegistry(IServiceProvider services, CachedBuilder builder)
    {
        _builder = builder;
        if (services.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            CachedLogging.LoggerFactory = loggerFactory;
        }

        foreach (var (alias, factory) in builder.Factories)
        {
            var cache = factory(services)
                ?? throw new InvalidOperationException($"The factory of cache alias '{alias}' returned null.");
            _created.Add((alias, cache));
            Caches.AddInstance(alias, cache);
        }
    }

    /// <summary>The cache of <paramref name="alias"/>: the same instance <see cref="Caches.Get"/> and generated methods use.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Aliases from CacheConfig entries are created by reflection by design; FromConfiguration carries the warning, and instance and factory aliases are served without reflection.")]
    public ICache Get(string alias)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Caches.Get(alias);
    }

    public void Dispose()
    {
        foreach (var cache in Release())
        {
            cache.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var cache in Release())
        {
            await cache.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The caches to dispose (the factory-made ones and those created from configuration), taken out of <see cref="Caches"/>.</summary>
    private List<ICache> Release()
    {
        var released = new List<ICache>();
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return released;
        }

        foreach (var (alias, cache) in _created)
        {
            Caches.RemoveInstance(alias, cache);
            released.Add(cache);
        }

        foreach (var alias in _builder.Configs.Keys)
        {
            if (Caches.TryGetInstance(alias) is { } cache && Caches.RemoveInstance(alias, cache))
            {
                released.Add(cache);
            }
        }

        return released;
    }
}
