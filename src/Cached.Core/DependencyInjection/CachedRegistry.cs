using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cached.DependencyInjection;

/// <summary>
/// The container's side of <see cref="Caches"/>: created once per container (at host start, or with the first cache
/// resolved), it points Cached's logs at the container's logger factory, creates the factory-made caches and
/// registers them with <see cref="Caches"/>, so generated methods use the very instances the container hands out.
/// It takes over the caches <see cref="Caches"/> made that it hands out (<see cref="Caches.TakeOver"/>): they live as
/// long as the container, even if a later change to <see cref="Caches"/> replaces them there. Disposed with the
/// container, it disposes the caches it is responsible for and forgets them in <see cref="Caches"/>.
/// </summary>
internal sealed class CachedRegistry : IDisposable, IAsyncDisposable
{
    private readonly CachedBuilder _builder;
    private readonly List<(string Alias, ICache Cache)> _created = [];
    private readonly List<(string Alias, ICache Cache)> _handedOut = [];
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
        var cache = Caches.TakeOver(alias, out var takenOver);
        if (takenOver)
        {
            lock (_handedOut)
            {
                _handedOut.Add((alias, cache));
            }
        }

        return cache;
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

    /// <summary>
    /// The caches to dispose, taken out of <see cref="Caches"/>: the factory-made ones, those made from configuration
    /// that the container handed out, and those <see cref="Caches"/> made for its configuration meanwhile (for
    /// generated methods). Instances you gave, to the builder or to <see cref="Caches.AddInstance"/>, and instances
    /// made for a later configuration are left alone.
    /// </summary>
    private List<ICache> Release()
    {
        var released = new List<ICache>();
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return released;
        }

        List<(string Alias, ICache Cache)> handedOut;
        lock (_handedOut)
        {
            handedOut = [.. _handedOut];
        }

        foreach (var (alias, cache) in _created.Concat(handedOut))
        {
            Caches.RemoveInstance(alias, cache);
            released.Add(cache);
        }

        foreach (var alias in _builder.Configs.Keys)
        {
            if (Caches.RemoveMadeInstance(alias, _builder.Configuration) is { } cache)
            {
                released.Add(cache);
            }
        }

        return released;
    }
}
