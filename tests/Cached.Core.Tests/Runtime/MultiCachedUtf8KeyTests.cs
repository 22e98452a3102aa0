using Cached.Runtime;
using Cached.Tests.Capabilities;

namespace Cached.Tests.Runtime;

/// <summary>
/// On a store of UTF-8 keys (Redis; here <see cref="ShortBackend"/> with <c>KeysAsUtf8</c>, on one level or as L2), a
/// batch key whose cache key holds a lone surrogate can have no entry: it goes to the body on every call, as a null or
/// empty key does, and the other keys of the batch are cached (an outside check: the store refused the whole batch, so
/// every key ran uncached on every call). A store that holds such keys (memory) caches them as before.
/// </summary>
public sealed class MultiCachedUtf8KeyTests : RecordedLogsFixture
{
    private const string Lone = "s\ud800";

    private sealed class Source
    {
        public List<string> Calls { get; } = [];

        public Dictionary<string, string> Load(List<string> keys)
        {
            Calls.Add(string.Join(";", keys.Select(static key => key == Lone ? "lone" : key)));
            return keys.ToDictionary(static key => key, static key => "v" + key);
        }
    }

    private static MultiCachedMethod<string, string> MethodOn(ICache cache)
        => new(new CachedMethodOptions { Method = "Tests.Names.Get", CacheFactory = () => cache, Ttl = 10 });

    private static async Task<int> Call(bool async, MultiCachedMethod<string, string> method, Source source, params string[] keys)
    {
        var result = async
            ? await method.InvokeAsync(keys, source, static (_, key) => key, static (s, missing, _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(s.Load(missing)), null, CancellationToken.None)
            : method.Invoke(keys, source, static (_, key) => key, static (s, missing) => s.Load(missing));
        Assert.That(result.Keys, Is.EquivalentTo(keys.Distinct()));
        return result.Count;
    }

    [Test]
    public async Task A_key_the_store_cannot_hold_goes_to_the_body_every_time_and_the_other_keys_are_cached([Values] bool async, [Values] bool twoLevels)
    {
        using var store = new ShortBackend { KeysAsUtf8 = true };
        using var levels = new MultiLevelCache(new SimpleMemoryCache(), store);
        ICache cache = twoLevels ? levels : store;
        var method = MethodOn(cache);
        var source = new Source();

        await Call(async, method, source, "a", Lone, "b");
        await Call(async, method, source, "a", Lone, "b");
        await Call(async, method, source, "c", Lone, "a");

        Assert.That(source.Calls, Is.EqualTo(new[] { "a;lone;b", "lone", "c;lone" }));
        Assert.That(store.Exists("a") && store.Exists("b") && store.Exists("c"), Is.True);
        Assert.That(Logs.Entries.Where(static e => e.Exception is not null).Select(static e => e.Exception!.Message), Is.Empty, "nothing failed");
    }

    [Test]
    public async Task Invalidating_such_a_key_deletes_the_others_and_logs_no_fault([Values] bool async)
    {
        using var store = new ShortBackend { KeysAsUtf8 = true };
        var method = MethodOn(store);
        await Call(async, method, new Source(), "a", Lone);

        if (async)
        {
            await method.InvalidateAsync(new[] { Lone, "a" }, 0, static (_, key) => key, CancellationToken.None);
        }
        else
        {
            method.Invalidate(new[] { Lone, "a" }, 0, static (_, key) => key);
        }

        Assert.That(store.Exists("a"), Is.False);
        Assert.That(Logs.Entries.Where(static e => e.Exception is not null).Select(static e => e.Exception!.Message), Is.Empty);
    }

    [Test]
    public async Task A_memory_cache_caches_such_a_key_as_any_other([Values] bool async)
    {
        using var memory = new SimpleMemoryCache();
        var method = MethodOn(memory);
        var source = new Source();

        await Call(async, method, source, "a", Lone);
        await Call(async, method, source, "a", Lone);

        Assert.That(source.Calls, Is.EqualTo(new[] { "a;lone" }));
    }

    [Test]
    public void IsInL1_refuses_a_key_a_level_cannot_hold_as_every_command_does()
    {
        // Regression (outside check of two levels): it answered false where Get, Set and Exists refuse the key.
        using var levels = new MultiLevelCache(new SimpleMemoryCache(), new ShortBackend { KeysAsUtf8 = true });

        Assert.That(() => levels.IsInL1(Lone), Throws.ArgumentException.With.Property("ParamName").EqualTo("key"));
        Assert.That(() => levels.Exists(Lone), Throws.ArgumentException.With.Property("ParamName").EqualTo("key"));
    }
}
