using System.Collections.Concurrent;
using Cached.Capabilities;

namespace Cached.Tests.Capabilities;

/// <summary>
/// The one-key fill of a store shared across processes (what a miss's leader opens and stores through): the backend's
/// fence noted at the open reaches the store, a fence moved in this process refuses the value without a round trip, and
/// a backend that notes the wrong number of fences is an error, as for a batch.
/// </summary>
public sealed class OneKeyFillTests
{
    [Test]
    public async Task The_fence_the_backend_noted_at_the_open_reaches_its_store()
    {
        using var backend = new RemoteFencingBackend();
        IFencedFillCache fills = backend;

        using var ticket = await fills.OpenFillAsync("user:1", "ns");
        Assert.That(await fills.TryFillAsync(ticket, "ada"), Is.True);

        Assert.That(backend.Opened, Is.EqualTo(new[] { "ns:user:1" }));
        Assert.That(backend.Filled, Is.EqualTo(new[] { ("ns:user:1", (object?)"fence of ns:user:1", "ns") }));
        Assert.That(await backend.GetAsync<string>("user:1", @namespace: "ns"), Is.EqualTo("ada"));
    }

    [Test]
    public async Task A_write_in_this_process_after_the_open_refuses_the_fill_without_a_round_trip()
    {
        using var backend = new RemoteFencingBackend();
        IFencedFillCache fills = backend;

        using var ticket = await fills.OpenFillAsync("user:1");
        await backend.SetAsync("user:1", "newer");

        Assert.That(await fills.TryFillAsync(ticket, "older"), Is.False);
        Assert.That(backend.Filled, Is.Empty, "the backend's store was not asked");
        Assert.That(await backend.GetAsync<string>("user:1"), Is.EqualTo("newer"));
    }

    [Test]
    public void A_backend_that_notes_two_fences_for_one_key_fails_the_open()
    {
        using var backend = new RemoteFencingBackend { FencesPerKey = 2 };
        IFencedFillCache fills = backend;

        var error = Assert.ThrowsAsync<CacheException>(async () => await fills.OpenFillAsync("user:1"));
        Assert.That(error!.Message, Does.Contain("2 fences for one key"));
    }

    [Test]
    public async Task A_cancelled_token_fails_the_fill_before_anything_is_stored()
    {
        using var backend = new RemoteFencingBackend();
        IFencedFillCache fills = backend;
        using var ticket = await fills.OpenFillAsync("user:1");

        Assert.ThrowsAsync<TaskCanceledException>(async () => await fills.TryFillAsync(ticket, "ada", cancellationToken: new CancellationToken(canceled: true)));
        Assert.That(backend.Filled, Is.Empty);
    }

    /// <summary>A store that keeps fences of its own, as one shared across processes does, and notes what it is asked.</summary>
    private sealed class RemoteFencingBackend : BaseCache
    {
        private readonly ConcurrentDictionary<string, object?> _store = new(StringComparer.Ordinal);

        public int FencesPerKey { get; init; } = 1;

        public ConcurrentQueue<string> Opened { get; } = new();

        public ConcurrentQueue<(string Key, object? Fence, string? Namespace)> Filled { get; } = new();

        protected override ValueTask<object?[]> OpenFillEntriesAsync(string[] fullKeys, string? @namespace, CancellationToken cancellationToken)
        {
            foreach (var key in fullKeys)
            {
                Opened.Enqueue(key);
            }

            return new(fullKeys.SelectMany(key => Enumerable.Repeat<object?>($"fence of {key}", FencesPerKey)).ToArray());
        }

        protected override ValueTask<int> FillEntriesAsync(KeyValuePair<string, object?>[] entries, object?[] fences, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
        {
            for (var i = 0; i < entries.Length; i++)
            {
                Filled.Enqueue((entries[i].Key, fences[i], @namespace));
                _store[entries[i].Key] = entries[i].Value;
            }

            return new(entries.Length);
        }

        protected override CacheResult<object?> GetEntry(string key) => _store.TryGetValue(key, out var value) ? CacheResult<object?>.Hit(value) : CacheResult<object?>.Miss;

        protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => _store.TryAdd(key, payload);

        protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
        {
            _store[key] = payload;
            return true;
        }

        protected override bool ContainsEntry(string key) => _store.ContainsKey(key);

        protected override long IncrementEntry(string key, string? @namespace, long delta) => (long)_store.AddOrUpdate(key, delta, (_, old) => (long)old! + delta)!;

        protected override int RemoveEntry(string key) => _store.TryRemove(key, out _) ? 1 : 0;

        protected override bool ClearEntries(string? @namespace)
        {
            _store.Clear();
            return true;
        }

        protected override bool ExpireEntry(string key, TimeSpan? ttl) => _store.ContainsKey(key);

        protected override object? ExecuteRaw(string command, object?[] args) => null;
    }
}
