using Cached.Tests.Backends;

namespace Cached.Tests.Commands;

/// <summary>A fixture that runs on every backend and disposes the caches each test creates.</summary>
public abstract class CommandFixture(CacheBackend backend)
{
    private readonly List<BaseCache> _caches = [];

    protected CacheBackend Backend { get; } = backend;

    /// <summary>The cache of most tests: namespace "test", as aiocache's acceptance fixture.</summary>
    protected BaseCache Cache { get; private set; } = null!;

    [SetUp]
    public void CreateDefaultCache() => Cache = NewCache(new CacheOptions { Namespace = "test" });

    [TearDown]
    public void DisposeCaches()
    {
        foreach (var cache in _caches)
        {
            cache.Clear(string.Empty);
            cache.Dispose();
        }

        _caches.Clear();
    }

    protected BaseCache NewCache(CacheOptions options)
    {
        var cache = Backend.Create(options);
        _caches.Add(cache);
        return cache;
    }
}
