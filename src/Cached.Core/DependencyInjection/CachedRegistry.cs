using Microsoft.Extensions.DependencyInjection;
using Cached.Capabilities;
using Cached.Configuration;
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
    // The logger factories of the containers alive in this process that pointed Cached's logs at theirs, oldest first,
    // and the factory set before the first of them: when a container goes, the logs go back to the newest one still
    // alive rather than stay with a disposed factory (a provider built on the side, a second test host).
    private static readonly List<ILoggerFactory> s_liveLoggers = [];
    private static ILoggerFactory? s_beforeContainers;

    private readonly CachedBuilder _builder;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly List<(string Alias, ICache Cache)> _created = [];
    private readonly List<(string Alias, ICache Cache)> _handedOut = [];
    private readonly HashSet<string> _ownOnly = new(StringComparer.Ordinal);
    private int _disposed;

    public CachedRegistry(IServiceProvider services, CachedBuilder builder)
    {
        _builder = builder;
        if (services.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            _loggerFactory = loggerFactory;
            lock (s_liveLoggers)
            {
                if (s_liveLoggers.Count == 0)
                {
                    s_beforeContainers = CachedLogging.CurrentFactory;
                }

                s_liveLoggers.Add(loggerFactory);
                CachedLogging.LoggerFactory = loggerFactory;
            }
        }

        try
        {
            foreach (var (alias, factory) in builder.Factories)
            {
                var cache = factory(services)
                    ?? throw new InvalidOperationException($"The factory of cache alias '{alias}' returned null.");
                _created.Add((alias, cache));
                if (!Caches.AddInstanceIfCurrent(alias, cache, builder.Configuration))
                {
                    // A later AddCached or SetConfig configured Caches since: this cache serves this container alone.
                    _ownOnly.Add(alias);
                }
            }
        }
        catch
        {
            // The container never gets this registry to dispose: the caches made so far and the logs go back now.
            Dispose();
            throw;
        }
    }

    /// <summary>The cache of <paramref name="alias"/>: the same instance <see cref="Caches.Get"/> and generated methods use.</summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Aliases from CacheConfig entries are created by reflection by design; FromConfiguration carries the warning, and instance and factory aliases are served without reflection.")]
    public ICache Get(string alias)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_ownOnly.Contains(alias))
        {
            return OwnInstance(alias);
        }

        ICache cache;
        bool takenOver;
        try
        {
            cache = Caches.TakeOver(alias, _builder.Configuration, out takenOver);
        }
        catch (UnknownCacheAliasException) when (_builder.Configs.ContainsKey(alias) || Made(alias))
        {
            return OwnInstance(alias);
        }

        if (takenOver)
        {
            lock (_handedOut)
            {
                _handedOut.Add((alias, cache));
            }
        }

        // The container disposes what its factory returns: a hold that its Dispose lets go of, so that the cache is
        // disposed by the last of its holders, not under another container or the owner of an instance still using it.
        (cache as IContainerHeld)?.AddContainerHold();
        return cache;
    }

    /// <summary>Whether a factory of this container made the cache of <paramref name="alias"/>.</summary>
    private bool Made(string alias)
    {
        lock (_created)
        {
            return _created.Exists(made => made.Alias == alias);
        }
    }

    /// <summary>Points Cached's logs away from this container's logger factory, if they still go there.</summary>
    private void StopLogging()
    {
        if (_loggerFactory is not { } mine)
        {
            return;
        }

        lock (s_liveLoggers)
        {
            s_liveLoggers.RemoveAt(s_liveLoggers.LastIndexOf(mine));
            if (ReferenceEquals(CachedLogging.CurrentFactory, mine))
            {
                CachedLogging.LoggerFactory = s_liveLoggers.Count > 0 ? s_liveLoggers[^1] : s_beforeContainers!;
            }
        }
    }

    /// <summary>
    /// This container's own instance of one of its aliases that <see cref="Caches"/> no longer has: another container's
    /// <c>AddCached</c> configured <see cref="Caches"/> since, without it. Made from this container's configuration and
    /// disposed with it; generated methods, which read <see cref="Caches"/>, do not see it.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "As in Get: aliases from CacheConfig entries are created by reflection by design.")]
    private ICache OwnInstance(string alias)
    {
        lock (_created)
        {
            foreach (var (made, cache) in _created)
            {
                if (made == alias)
                {
                    return cache;
                }
            }

            var created = ComponentFactory.CreateCache(_builder.Configs[alias].Clone(), alias);
            (created as IAliasedCache)?.AssignAlias(alias);
            _created.Add((alias, created));
            (created as IContainerHeld)?.AddContainerHold();
            return created;
        }
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

        StopLogging();

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
