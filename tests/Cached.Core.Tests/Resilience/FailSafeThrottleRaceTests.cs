using Cached.Tests.MultiLevel;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>
/// Fail-safe writes a last value back, fresh for the throttle, only if the backend still holds it: a write made between
/// the call's read and its fill's open is one the fence cannot see, and must not be overwritten by the older value. From a
/// review of resilience on two levels; the reads are held with gates, on one level and two, for [Cached]/GetOrSet and
/// [MultiCached].
/// </summary>
public sealed class FailSafeThrottleRaceTests
{
    private static readonly CacheEntryOptions s_failSafe = new() { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60) };

    [Test]
    public async Task The_throttled_last_value_does_not_overwrite_a_write_made_after_it_was_read([Values] bool async)
    {
        var time = new FakeTimeProvider();
        var hold = new ReadHold("k");
        hold.Release.Set();
        using var cache = new SimpleMemoryCache { TimeProvider = time, Plugins = [hold] };
        cache.GetOrSet("k", _ => "v1", s_failSafe);
        time.Advance(TimeSpan.FromSeconds(11));

        // The call reads the stale v1 (its last value) and is held; another writer stores v2; then the source fails.
        hold.Release.Reset();
        var call = Task.Run(async () => async
            ? await cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe)
            : cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe));
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True);
        cache.Set("k", "v2", s_failSafe);
        hold.Release.Set();
        Assert.That(await call, Is.EqualTo("v1"), "the caller read before the write: its last value is fine for it");

        Assert.That(cache.GetOrSet("k", _ => "v3", s_failSafe), Is.EqualTo("v2"), "the write made after the read must survive");
    }

    [Test]
    public async Task On_two_levels_the_throttled_last_value_does_not_overwrite_another_node_s_write([Values] bool async)
    {
        var time = new FakeTimeProvider();
        var hold = new ReadHold("k");
        hold.Release.Set();
        using var nodes = new Nodes(new SimpleMemoryCache { TimeProvider = time, Plugins = [hold] }, time);
        nodes.A.GetOrSet("k", _ => "v1", s_failSafe);
        nodes.A.L1.Delete("k");
        time.Advance(TimeSpan.FromSeconds(11));

        hold.Release.Reset();
        var call = Task.Run(async () => async
            ? await nodes.A.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe)
            : nodes.A.GetOrSet<string>("k", _ => throw new InvalidOperationException("down"), s_failSafe));
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True);
        nodes.B.Set("k", "v2", s_failSafe);
        hold.Release.Set();
        await call;

        Assert.That(nodes.B.GetOrSet("k", _ => "v3", s_failSafe), Is.EqualTo("v2"), "B's own write must survive A's failure");
    }

    private sealed class MultiGetHold : Cached.Plugins.CachePlugin
    {
        public readonly ManualResetEventSlim Reached = new(false);
        public readonly ManualResetEventSlim Release = new(true);

        public override void Post(Cached.Plugins.CacheCommandContext context)
        {
            if (context.Command == Cached.Plugins.CacheCommand.MultiGet && !Release.IsSet)
            {
                Reached.Set();
                Release.Wait(TimeSpan.FromSeconds(10));
            }
        }
    }

    [Test]
    public async Task Multi_cached_throttled_last_values_do_not_overwrite_a_write_made_after_the_read([Values] bool async)
    {
        var time = new FakeTimeProvider();
        var hold = new MultiGetHold();
        using var cache = new SimpleMemoryCache { TimeProvider = time, Plugins = [hold] };
        var method = new Cached.Runtime.MultiCachedMethod<int, string>(new Cached.Runtime.CachedMethodOptions { Method = "Tests.Throttle.GetMany", CacheFactory = () => cache, Ttl = 10, FailSafe = 60 });
        var down = false;
        IEnumerable<KeyValuePair<int, string>> Load(List<int> ids) => down ? throw new InvalidOperationException("down") : ids.ToDictionary(static id => id, static id => "v1");
        method.Invoke(new[] { 1 }, 0, static (_, id) => "price:" + id, (_, missing) => Load(missing));
        time.Advance(TimeSpan.FromSeconds(11));
        down = true;

        hold.Release.Reset();
        var call = Task.Run(async () => async
            ? await method.InvokeAsync(new[] { 1 }, 0, static (_, id) => "price:" + id, (_, missing, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(Load(missing)), null, CancellationToken.None)
            : method.Invoke(new[] { 1 }, 0, static (_, id) => "price:" + id, (_, missing) => Load(missing)));
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True);
        // Another writer stores v2, stamped as the method stores it.
        cache.Set("price:1", "v2", s_failSafe);
        hold.Release.Set();
        Assert.That((await call)[1], Is.EqualTo("v1"));

        down = true;
        Assert.That(method.Invoke(new[] { 1 }, 0, static (_, id) => "price:" + id, (_, missing) => Load(missing))[1], Is.EqualTo("v2"), "the write made after the read must survive");
    }
}
