using System.Runtime.CompilerServices;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached.Tests.Runtime;

/// <summary>
/// <see cref="CachedSequence"/>: sequence results are cached as their items, and an async stream is read on a miss
/// and replayed on a hit, lazily, single-flight and cancellable by either token.
/// </summary>
public sealed class CachedSequenceTests
{
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _cache = new SimpleMemoryCache();
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        _cache.Dispose();
    }

    private static CachedMethod<T[]> MethodOn<T>(ICache cache)
        => new(new CachedMethodOptions { Method = "Tests.Service.Stream", CacheFactory = () => cache });

    private static IEnumerable<int> Counted(Calls calls, int count)
    {
        calls.Increment();
        for (var i = 1; i <= count; i++)
        {
            yield return i;
        }
    }

    private static async IAsyncEnumerable<int> Stream(Calls calls, int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        calls.Increment();
        for (var i = 1; i <= count; i++)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return i;
        }
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

    private static async Task<List<T>> ReadAll<T>(ConfiguredCancelableAsyncEnumerable<T> source)
    {
        var items = new List<T>();
        await foreach (var item in source)
        {
            items.Add(item);
        }

        return items;
    }

    // ---- ToArray ----

    [Test]
    public void ToArray_runs_a_lazy_sequence_once_and_keeps_its_items()
    {
        var calls = new Calls();

        var items = CachedSequence.ToArray(Counted(calls, 3));

        Assert.That(items, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(items.Concat(items).Count(), Is.EqualTo(6));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void ToArray_copies_an_array_so_that_a_body_reusing_its_buffer_leaves_the_entry_alone_and_keeps_null()
    {
        // Regression: the body's own array was stored, so writing to that buffer later changed the cached items.
        var buffer = new[] { 1, 2 };

        var stored = CachedSequence.ToArray(buffer);
        buffer[0] = 42;

        Assert.That(stored, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(CachedSequence.ToArray<int>(null), Is.Null);
    }

    [Test]
    public void Replay_of_a_null_entry_says_what_is_wrong_instead_of_a_null_reference()
    {
        // Regression: a null stored under the key (by a manual Set, or JSON null) made the replay dereference null.
        var method = MethodOn<int>(_cache);
        _cache.Set<int[]?>("null-entry", null);

        var failure = Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in CachedSequence.Replay(method, "null-entry", 0, static (_, _) => AsyncEnumerable.Empty<int>(), null, default))
            {
            }
        });

        Assert.That(failure!.Message, Does.Contain("null-entry"));
    }

    // ---- Replay ----

    [Test]
    public async Task Replay_runs_nothing_until_enumerated_then_stores_the_items_and_replays_them_without_the_body()
    {
        var method = MethodOn<int>(_cache);
        var calls = new Calls();

        var stream = CachedSequence.Replay(method, "k", calls, static (c, ct) => Stream(c, 3, ct), null, CancellationToken.None);
        Assert.That(calls.Count, Is.Zero, "a call alone runs nothing, as an iterator");

        var first = await ReadAll(stream);
        var second = await ReadAll(stream);
        var again = await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Stream(c, 3, ct), null, CancellationToken.None));

        Assert.That((first, second, again), Is.EqualTo((new List<int> { 1, 2, 3 }, new List<int> { 1, 2, 3 }, new List<int> { 1, 2, 3 })));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_cache.Get<int[]>("k"), Is.EqualTo(new[] { 1, 2, 3 }), "the items are stored, not the iterator");
    }

    [Test]
    public async Task Replay_of_a_stored_entry_yields_it_without_calling_the_body()
    {
        var method = MethodOn<int>(_cache);
        _cache.Set("k", new[] { 7, 8 });
        var calls = new Calls();

        var items = await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Stream(c, 3, ct), null, CancellationToken.None));

        Assert.That(items, Is.EqualTo(new[] { 7, 8 }));
        Assert.That(calls.Count, Is.Zero);
    }

    [Test]
    public async Task Replay_stores_nothing_when_the_skip_rule_says_so()
    {
        var method = MethodOn<int>(_cache);
        var calls = new Calls();

        var items = await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Stream(c, 0, ct), static (c, items) => items.Length == 0, CancellationToken.None));
        await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Stream(c, 0, ct), static (c, items) => items.Length == 0, CancellationToken.None));

        Assert.That(items, Is.Empty);
        Assert.That(calls.Count, Is.EqualTo(2));
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task Concurrent_enumerations_of_a_missing_key_read_the_body_once()
    {
        var method = MethodOn<int>(_cache);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = (Calls: new Calls(), Gate: gate.Task);

        static async IAsyncEnumerable<int> Gated((Calls Calls, Task Gate) state)
        {
            state.Calls.Increment();
            await state.Gate;
            yield return 42;
        }

        var first = ReadAll(CachedSequence.Replay(method, "k", state, static (s, ct) => Gated(s), null, CancellationToken.None));
        var second = ReadAll(CachedSequence.Replay(method, "k", state, static (s, ct) => Gated(s), null, CancellationToken.None));
        gate.SetResult();

        Assert.That(await first, Is.EqualTo(new[] { 42 }));
        Assert.That(await second, Is.EqualTo(new[] { 42 }));
        Assert.That(state.Calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void Replay_with_a_cancelled_method_token_throws_and_stores_nothing()
    {
        var method = MethodOn<int>(_cache);
        var calls = new Calls();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.That(
            async () => await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Stream(c, 3, ct), null, cancelled.Token)),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task The_enumerator_token_reaches_the_body_stream_and_a_cancelled_read_stores_nothing()
    {
        var method = MethodOn<int>(_cache);
        using var cancellation = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = (Started: started, Seen: new List<bool>());

        static async IAsyncEnumerable<int> Waiting((TaskCompletionSource Started, List<bool> Seen) state, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            state.Seen.Add(cancellationToken.CanBeCanceled);
            yield return 1;
            state.Started.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield return 2;
        }

        var stream = CachedSequence.Replay(method, "k", state, static (s, ct) => Waiting(s), null, CancellationToken.None);
        var reading = ReadAll(stream.WithCancellation(cancellation.Token));
        await started.Task;
        await cancellation.CancelAsync();

        Assert.That(async () => await reading, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(state.Seen, Is.EqualTo(new[] { true }), "the stream was enumerated with the caller's token");
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task The_method_token_cancels_the_body_while_the_stream_is_enumerated_with_another_token()
    {
        var method = MethodOn<int>(_cache);
        using var methodToken = new CancellationTokenSource();
        using var enumeratorToken = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = (Started: started, Seen: new List<CancellationToken>());

        static async IAsyncEnumerable<int> Waiting(TaskCompletionSource started, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield return 1;
        }

        var stream = CachedSequence.Replay(method, "k", state, static (s, ct) =>
        {
            s.Seen.Add(ct);
            return Waiting(s.Started);
        }, null, methodToken.Token);
        var reading = ReadAll(stream.WithCancellation(enumeratorToken.Token));
        await started.Task;
        await methodToken.CancelAsync();

        Assert.That(async () => await reading, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(state.Seen, Has.Count.EqualTo(1));
        Assert.That(state.Seen[0], Is.Not.EqualTo(methodToken.Token).And.Not.EqualTo(enumeratorToken.Token), "one token linked to both");
        Assert.That(enumeratorToken.IsCancellationRequested, Is.False);
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task A_replay_stops_at_the_next_item_once_the_enumerator_token_is_cancelled()
    {
        var method = MethodOn<int>(_cache);
        _cache.Set("k", new[] { 1, 2, 3 });
        using var cancellation = new CancellationTokenSource();
        var read = new List<int>();

        var replay = async () =>
        {
            await foreach (var item in CachedSequence.Replay(method, "k", new Calls(), static (c, ct) => Stream(c, 3, ct), null, CancellationToken.None).WithCancellation(cancellation.Token))
            {
                read.Add(item);
                await cancellation.CancelAsync();
            }
        };

        Assert.That(replay, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(read, Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public async Task Items_round_trip_through_a_serializing_cache()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        var method = MethodOn<string>(cache);
        var calls = new Calls();

        static async IAsyncEnumerable<string> Words(Calls calls)
        {
            calls.Increment();
            await Task.Yield();
            yield return "a";
            yield return "b\"c";
        }

        var first = await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Words(c), null, CancellationToken.None));
        var second = await ReadAll(CachedSequence.Replay(method, "k", calls, static (c, ct) => Words(c), null, CancellationToken.None));

        Assert.That(second, Is.EqualTo(first).And.EqualTo(new[] { "a", "b\"c" }));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_null_stream_from_the_body_is_an_error_not_an_empty_entry()
    {
        var method = MethodOn<int>(_cache);

        Assert.That(
            async () => await ReadAll(CachedSequence.Replay(method, "k", 0, static (s, ct) => (IAsyncEnumerable<int>)null!, null, CancellationToken.None)),
            Throws.InvalidOperationException);
        Assert.That(_cache.Exists("k"), Is.False);
    }

    // ---- AsTask / AsValueTask ----

    [Test]
    public async Task A_completed_array_becomes_a_completed_task_of_the_declared_sequence()
    {
        var array = new[] { 1 };

        var task = CachedSequence.AsTask<int[], IEnumerable<int>>(new ValueTask<int[]>(array));
        var valueTask = CachedSequence.AsValueTask<int[], IEnumerable<int>>(new ValueTask<int[]>(array));

        Assert.That(task.IsCompletedSuccessfully && valueTask.IsCompletedSuccessfully, Is.True);
        Assert.That(await task, Is.SameAs(array));
        Assert.That(await valueTask, Is.SameAs(array));
    }

    [Test]
    public async Task A_pending_array_is_awaited_and_its_fault_kept()
    {
        var pending = new TaskCompletionSource<int[]>();
        var failing = new TaskCompletionSource<int[]>();

        var task = CachedSequence.AsTask<int[], IEnumerable<int>>(new ValueTask<int[]>(pending.Task));
        var valueTask = CachedSequence.AsValueTask<int[], IEnumerable<int>>(new ValueTask<int[]>(failing.Task));
        pending.SetResult([2]);
        failing.SetException(new InvalidOperationException("body"));

        Assert.That(await task, Is.EqualTo(new[] { 2 }));
        Assert.That(async () => await valueTask, Throws.InvalidOperationException.With.Message.EqualTo("body"));
    }

    // ---- TypeName ----

    [Test]
    public void TypeName_is_the_type_ToString_made_once()
    {
        Assert.That(TypeName<int>.Value, Is.EqualTo("System.Int32"));
        Assert.That(TypeName<List<string>>.Value, Is.EqualTo(typeof(List<string>).ToString()));
        Assert.That(TypeName<int>.Value, Is.SameAs(TypeName<int>.Value));
    }
}
