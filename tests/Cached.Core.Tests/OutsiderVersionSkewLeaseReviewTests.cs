using Cached.Capabilities;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached.Tests.Outsider;

/// <summary>
/// <see cref="OutsiderVersionSkewMemoryReviewTests"/> with a stampede lease: a tagged call that finds an untagged entry
/// leads a miss, and the reads it makes around the lease (the recheck once it holds the lock, the poll while another
/// process holds it) take that entry as absent too. Before, they were plain reads that answered it: the call returned
/// the untagged value, wrote nothing, and did so on every call, out of reach of the tags' invalidation.
/// </summary>
[TestFixture]
public sealed class OutsiderVersionSkewLeaseReviewTests
{
    private static readonly CacheEntryOptions s_tagged = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"], Lease = TimeSpan.FromSeconds(10) };

    [Test]
    public async Task A_tagged_call_with_a_lease_replaces_an_untagged_entry([Values] bool async, [Values] bool getOrSet, [Values] bool bytes)
    {
        await using var cache = bytes ? new SimpleMemoryCache { Serializer = new JsonSerializer() } : new SimpleMemoryCache();
        cache.Set("k", "untagged");
        var read = Reader(cache, async, getOrSet);

        Assert.That(read(), Is.EqualTo("tagged1"), "the untagged entry is a miss, also to the recheck under the lease");
        Assert.That(read(), Is.EqualTo("tagged1"), "the tagged value replaced it");

        cache.InvalidateTags(["t"]);

        Assert.That(read(), Is.EqualTo("tagged2"));
    }

    /// <summary>
    /// Another process holds the key's lease; the call polls, and its poll finds the untagged entry. The lease is let go
    /// at the call's first poll read: the number of reads a leased call makes on a free lock, its reads before the lease
    /// and its recheck, counted on another key that holds an untagged entry too.
    /// </summary>
    [Test]
    public async Task A_tagged_call_polling_another_holder_s_lease_does_not_take_an_untagged_entry([Values] bool async, [Values] bool getOrSet)
    {
        var release = new ReleaseAtRead();
        await using var cache = new SimpleMemoryCache { Plugins = [release] };
        cache.Set("free", "untagged");
        cache.Set("k", "untagged");
        Reader(cache, async, getOrSet, key: "free")();
        var readsOnAFreeLock = release.Reads("free");

        // A lock token as a lease's: a lock key holding anything else is no lock, and the call would not poll.
        var locks = (ILockingCache)cache;
        var token = Guid.NewGuid().ToString("N");
        Assert.That(locks.TryAcquireLock("k", null, token, TimeSpan.FromMinutes(10)), Is.True);
        release.At("k", readsOnAFreeLock, () => locks.ReleaseLock("k", null, token));

        Assert.That(Reader(cache, async, getOrSet)(), Is.EqualTo("tagged1"), "the poll took the untagged entry as absent");
        Assert.That(release.Reads("k"), Is.EqualTo(readsOnAFreeLock + 1), "the call polled once, then took the lease and read again");
        Assert.That(cache.GetOrSet("k", _ => "computed", s_tagged), Is.EqualTo("tagged1"));
    }

    /// <summary>A tagged read of <paramref name="key"/>: a <c>[Cached(Tags, Lease)]</c> method's, or GetOrSet's with both.</summary>
    private static Func<string> Reader(SimpleMemoryCache cache, bool async, bool getOrSet, string key = "k")
    {
        var calls = 0;
        if (getOrSet)
        {
            return async
                ? () => cache.GetOrSetAsync(key, _ => new ValueTask<string>("tagged" + ++calls), s_tagged).AsTask().GetAwaiter().GetResult()
                : () => cache.GetOrSet(key, _ => "tagged" + ++calls, s_tagged);
        }

        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Test.Get", CacheFactory = () => cache, Ttl = 60, Lease = 10, Tagged = true });
        return async
            ? () => method.InvokeAsync(key, 0, (_, _) => new ValueTask<string>("tagged" + ++calls), null, static _ => ["t"], CancellationToken.None).AsTask().GetAwaiter().GetResult()
            : () => method.Invoke(key, 0, _ => "tagged" + ++calls, null, static _ => ["t"]);
    }

    /// <summary>Counts the reads of each key, and runs an action after the read of a key it waits for.</summary>
    private sealed class ReleaseAtRead : CachePlugin
    {
        private readonly Dictionary<string, int> _reads = [];
        private (string Key, int Read, Action Action)? _at;

        public int Reads(string key)
        {
            lock (_reads)
            {
                return _reads.GetValueOrDefault(key);
            }
        }

        public void At(string key, int read, Action action) => _at = (key, read, action);

        protected override void PostGet(CacheCommandContext context)
        {
            if (context.Key is not { } key)
            {
                return;
            }

            int read;
            lock (_reads)
            {
                read = _reads[key] = _reads.GetValueOrDefault(key) + 1;
            }

            if (_at is { } at && at.Key == key && at.Read == read)
            {
                at.Action();
            }
        }
    }
}
