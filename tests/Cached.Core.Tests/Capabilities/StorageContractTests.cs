using Cached.Plugins;
using Cached.Tests.Runtime;

namespace Cached.Tests.Capabilities;

/// <summary>
/// The storage contract: a backend that implements only the nine required sync operations is a whole cache. The async
/// twins, the batches and the pipeline (plugins, error mapping) come from BaseCache; locks are refused up front.
/// </summary>
public sealed class StorageContractTests
{
    [Test]
    public async Task A_backend_of_nine_sync_operations_serves_every_command_sync_and_async()
    {
        using var cache = new ShortBackend { Namespace = "ns" };

        Assert.That(cache.Set("a", "1"), Is.True);
        Assert.That(await cache.SetAsync("b", "2"), Is.True);
        Assert.That(cache.Get<string>("a"), Is.EqualTo("1"));
        Assert.That(await cache.GetAsync<string>("b"), Is.EqualTo("2"));
        Assert.That(await cache.ExistsAsync("a"), Is.True);
        Assert.That(cache.Add("c", "3"), Is.True);
        Assert.ThrowsAsync<KeyExistsException>(async () => await cache.AddAsync("c", "again"));
        Assert.That(await cache.DeleteAsync("c"), Is.EqualTo(1));
        Assert.That(await cache.IncrementAsync("n", 5), Is.EqualTo(5));
        Assert.That(cache.BuildKey("a"), Is.EqualTo("ns:a"));
        Assert.That(await cache.ClearAsync(), Is.True);
        Assert.That(await cache.ExistsAsync("a"), Is.False);
    }

    [Test]
    public async Task Batches_default_to_one_single_operation_per_key_in_order()
    {
        using var cache = new ShortBackend();

        Assert.That(await cache.MultiSetAsync([new KeyValuePair<string, string>("x", "1"), new("y", "2")]), Is.True);
        Assert.That(cache.SingleWrites, Is.EqualTo(2));
        Assert.That(cache.MultiSet([new KeyValuePair<string, string>("z", "3")]), Is.True);
        Assert.That(cache.SingleWrites, Is.EqualTo(3));

        Assert.That(await cache.MultiGetAsync<string>(["y", "missing", "x"]), Is.EqualTo(new[] { "2", null, "1" }));
        Assert.That(cache.MultiGet<string>(["z", "x"]), Is.EqualTo(new[] { "3", "1" }));
        Assert.That(cache.SingleReads, Is.EqualTo(5));
    }

    [Test]
    public void The_backend_maps_its_client_errors_once_for_every_command_and_plugins_see_the_mapped_one()
    {
        var plugin = new CountingPlugin();
        using var cache = new ShortBackend
        {
            Mapping = static (ex, subject) => ex is InvalidOperationException ? new CacheBackendException($"mapped for {subject}", ex) : null,
            Plugins = [plugin],
        };
        cache.Fault = new InvalidOperationException("client said no");

        var sync = Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"));
        Assert.That(sync!.Message, Is.EqualTo("mapped for k"));
        Assert.That(sync.InnerException, Is.SameAs(cache.Fault));
        var async = Assert.ThrowsAsync<CacheBackendException>(async () => await cache.SetAsync("k", "v"));
        Assert.That(async!.InnerException, Is.SameAs(cache.Fault));
        var batch = Assert.ThrowsAsync<CacheBackendException>(async () => await cache.MultiGetAsync<string>(["first", "second"]));
        Assert.That(batch!.Message, Is.EqualTo("mapped for first"));
        Assert.That(plugin.Gets, Is.Zero, "post hooks do not run for a failed command");
    }

    [Test]
    public void An_error_the_backend_does_not_map_passes_as_it_is()
    {
        using var cache = new ShortBackend { Mapping = static (_, _) => null };
        var fault = new InvalidOperationException("as is");
        cache.Fault = fault;

        Assert.That(Assert.Throws<InvalidOperationException>(() => cache.Exists("k")), Is.SameAs(fault));
    }

    [Test]
    public void Locks_refuse_a_backend_without_atomic_conditional_operations_before_taking_anything()
    {
        using var cache = new ShortBackend();

        var error = Assert.Throws<NotSupportedException>(() => _ = new RedLock(cache, "k", TimeSpan.FromSeconds(1)));
        Assert.That(error!.Message, Does.Contain(nameof(ShortBackend)));
        Assert.That(cache.Exists("k-lock"), Is.False, "no lock entry was left behind");
        Assert.Throws<NotSupportedException>(() => _ = new OptimisticLock(cache, "k"));
    }
}
