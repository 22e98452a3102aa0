using System.Runtime.CompilerServices;
using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;

namespace Cached.Redis.Tests;

/// <summary>
/// Sequence results through Redis: the items are stored as an array (JSON), so another process replays them without
/// running the body, and they come back equal.
/// </summary>
public sealed class RedisSequenceTests
{
    public sealed record Post(int Id, string Title);

    private static RedisCache Process(string name) => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString + ",name=" + name,
        Namespace = "sequences",
    };

    private static CachedMethod<T[]> MethodOn<T>(ICache cache)
        => new(new CachedMethodOptions { Method = "Demo.Feed.Posts", Ttl = 60, CacheFactory = () => cache });

    private static async IAsyncEnumerable<Post> Posts(StrongBox<int> calls)
    {
        Interlocked.Increment(ref calls.Value);
        await Task.Yield();
        yield return new Post(1, "first");
        yield return new Post(2, "with \"quotes\"");
    }

    private static IEnumerable<Post> LazyPosts(StrongBox<int> calls)
    {
        Interlocked.Increment(ref calls.Value);
        yield return new Post(3, "lazy");
    }

    private static async Task<List<T>> ReadAll<T>(IAsyncEnumerable<T> source)
    {
        var items = new List<T>();
        await foreach (var item in source)
        {
            items.Add(item);
        }

        return items;
    }

    [Test]
    public async Task A_stream_read_in_one_process_is_replayed_in_another_without_the_body()
    {
        using var first = Process("sequence-first");
        using var second = Process("sequence-second");
        var calls = new StrongBox<int>();

        var written = await ReadAll(CachedSequence.Replay(MethodOn<Post>(first), "posts:1", calls, static (c, ct) => Posts(c), null, CancellationToken.None));
        var replayed = await ReadAll(CachedSequence.Replay(MethodOn<Post>(second), "posts:1", calls, static (c, ct) => Posts(c), null, CancellationToken.None));

        Assert.That(replayed, Is.EqualTo(written).And.EqualTo(new[] { new Post(1, "first"), new Post(2, "with \"quotes\"") }));
        Assert.That(calls.Value, Is.EqualTo(1));
        Assert.That(second.Get<Post[]>("posts:1"), Is.EqualTo(written), "stored as an array");
        first.Clear();
    }

    [Test]
    public void A_lazy_IEnumerable_is_stored_as_its_items()
    {
        using var cache = Process("sequence-lazy");
        var method = MethodOn<Post>(cache);
        var calls = new StrongBox<int>();

        var stored = method.Invoke("lazy:1", calls, static c => CachedSequence.ToArray(LazyPosts(c)));
        var hit = method.Invoke("lazy:1", calls, static c => CachedSequence.ToArray(LazyPosts(c)));

        Assert.That(hit, Is.EqualTo(stored).And.EqualTo(new[] { new Post(3, "lazy") }));
        Assert.That(calls.Value, Is.EqualTo(1));
        cache.Clear();
    }
}
