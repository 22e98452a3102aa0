using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>
/// [Cached] methods returning IEnumerable&lt;T&gt; and IAsyncEnumerable&lt;T&gt;, compiled by the generator and run: the
/// items are cached, so a lazy body runs once however often its result is enumerated.
/// </summary>
public sealed class SequenceBehaviourTests : ScenarioTests<SequenceService>
{
    private const string Prefix = "Cached.Generators.Tests.Scenarios.SequenceService.";

    protected override SequenceService Create(CallCounter calls) => new(calls);

    private static async Task<List<T>> ReadAll<T>(IAsyncEnumerable<T> source, CancellationToken cancellationToken = default)
    {
        var items = new List<T>();
        await foreach (var item in source.WithCancellation(cancellationToken))
        {
            items.Add(item);
        }

        return items;
    }

    [Test]
    public void Memory_arguments_are_keyed_by_their_elements()
    {
        Assert.That(Service.Sum(new[] { 1, 2, 3 }), Is.EqualTo(6));
        Assert.That(Service.Sum(new[] { 4, 5, 6 }), Is.EqualTo(15), "other elements: another entry");
        Assert.That(Service.Sum(new[] { 1, 2, 3 }), Is.EqualTo(6));
        Assert.That(Calls[nameof(SequenceService.Sum)], Is.EqualTo(2));
        Assert.That(Cache.Exists(Prefix + "Sum([1,2,3])"), Is.True, "the elements are the key");

        Assert.That(Service.Length(new byte[] { 1, 2 }), Is.EqualTo(2));
        Assert.That(Service.Length(new byte[] { 3 }), Is.EqualTo(1));
        Assert.That(Calls[nameof(SequenceService.Length)], Is.EqualTo(2));
        Assert.That(Cache.Exists(Prefix + "Length([3])"), Is.True);
    }

    [Test]
    public void A_nullable_memory_is_keyed_by_its_elements_or_as_null()
    {
        Assert.That(Service.Count(new long[] { 1, 2 }), Is.EqualTo(2));
        Assert.That(Service.Count(new long[] { 3, 4 }), Is.EqualTo(2), "other elements of the same length: another entry");
        Assert.That(Service.Count(null), Is.EqualTo(-1));
        Assert.That(Service.Count(new long[] { 1, 2 }), Is.EqualTo(2));
        Assert.That(Service.Count(null), Is.EqualTo(-1));
        Assert.That(Calls[nameof(SequenceService.Count)], Is.EqualTo(3));
        Assert.That(Cache.Exists(Prefix + "Count([3,4])"), Is.True, "the elements are the key");
        Assert.That(Cache.Exists(Prefix + "Count(null)"), Is.True);
    }

    [Test]
    public void A_ReadOnlySequence_is_keyed_by_its_elements_not_by_its_type_and_length()
    {
        Assert.That(Service.Checksum(new System.Buffers.ReadOnlySequence<byte>(new byte[] { 1, 2 })), Is.EqualTo(3));
        Assert.That(Service.Checksum(new System.Buffers.ReadOnlySequence<byte>(new byte[] { 5, 6 })), Is.EqualTo(11), "other bytes of the same length: another entry");
        Assert.That(Service.Checksum(new System.Buffers.ReadOnlySequence<byte>(new byte[] { 1, 2 })), Is.EqualTo(3));
        Assert.That(Calls[nameof(SequenceService.Checksum)], Is.EqualTo(2));
        Assert.That(Cache.Exists(Prefix + "Checksum([5,6])"), Is.True, "the elements are the key");
    }

    [Test]
    public void Dictionary_arguments_are_keyed_entry_by_entry_so_their_strings_cannot_run_together()
    {
        Assert.That(Service.Describe(new() { ["1, a"] = "b" }), Is.EqualTo("1, a=b"));
        Assert.That(Service.Describe(new() { ["1"] = "a, b" }), Is.EqualTo("1=a, b"), "another dictionary: another entry");
        Assert.That(Calls[nameof(SequenceService.Describe)], Is.EqualTo(2));
        Assert.That(Cache.Exists(Prefix + "Describe({\"1\":\"a, b\"})"), Is.True, "each key and value quoted");
    }

    [Test]
    public void A_lazy_IEnumerable_body_enumerated_twice_runs_once_and_its_items_are_stored()
    {
        var numbers = Service.Numbers(3);
        var first = numbers.ToList();
        var second = numbers.ToList();
        var again = Service.Numbers(3).ToList();

        Assert.That(first, Is.EqualTo(new[] { 1, 2, 3 }).And.EqualTo(second).And.EqualTo(again));
        Assert.That(Calls[nameof(SequenceService.Numbers)], Is.EqualTo(1));
        Assert.That(Cache.Get<int[]>(Prefix + "Numbers(3)"), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public async Task A_Task_of_a_lazy_IEnumerable_is_read_once_before_it_is_stored()
    {
        var words = await Service.WordsAsync("x");
        var first = words.ToList();
        var second = words.ToList();
        var again = (await Service.WordsAsync("x")).ToList();

        Assert.That(first, Is.EqualTo(new[] { "xa", "xb" }).And.EqualTo(second).And.EqualTo(again));
        Assert.That((Calls[nameof(SequenceService.WordsAsync)], Calls["Words"]), Is.EqualTo((1, 1)));
        Assert.That(Cache.Get<string[]>("words:x"), Is.EqualTo(new[] { "xa", "xb" }));
    }

    [Test]
    public async Task An_async_stream_runs_nothing_until_enumerated_then_is_read_once_and_replayed()
    {
        var stream = Service.Stream(3);
        Assert.That(Calls[nameof(SequenceService.Stream)], Is.Zero, "calling the method alone runs nothing");
        Assert.That(Cache.Exists(Prefix + "Stream(3)"), Is.False);

        var first = await ReadAll(stream);
        var second = await ReadAll(stream);
        var again = await ReadAll(Service.Stream(3));

        Assert.That(first, Is.EqualTo(new[] { 1, 2, 3 }).And.EqualTo(second).And.EqualTo(again));
        Assert.That(Calls[nameof(SequenceService.Stream)], Is.EqualTo(1));
        Assert.That(Cache.Get<int[]>(Prefix + "Stream(3)"), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public async Task Concurrent_enumerations_of_a_missing_stream_share_one_run_of_the_body()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Service.Gate = gate.Task;

        var first = ReadAll(Service.Stream(2));
        var second = ReadAll(Service.Stream(2));
        gate.SetResult();

        Assert.That(await first, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(await second, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(Calls[nameof(SequenceService.Stream)], Is.EqualTo(1));
    }

    [Test]
    public async Task Cancelling_the_method_token_mid_stream_stores_nothing_and_the_next_enumeration_runs_the_body()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Service.Gate = gate.Task;
        using var cancellation = new CancellationTokenSource();

        var reading = ReadAll(Service.Stream(2, cancellation.Token));
        await cancellation.CancelAsync();

        Assert.That(async () => await reading, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Cache.Exists(Prefix + "Stream(2)"), Is.False);
        Service.Gate = Task.CompletedTask;
        Assert.That(await ReadAll(Service.Stream(2)), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(Calls[nameof(SequenceService.Stream)], Is.EqualTo(2));
    }

    [Test]
    public async Task Cancelling_the_enumerator_token_mid_stream_stores_nothing()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Service.Gate = gate.Task;
        using var cancellation = new CancellationTokenSource();

        var reading = ReadAll(Service.Stream(2), cancellation.Token);
        await cancellation.CancelAsync();

        Assert.That(async () => await reading, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Cache.Exists(Prefix + "Stream(2)"), Is.False);
    }

    [Test]
    public async Task The_skip_rule_judges_the_items_so_an_empty_stream_is_not_stored()
    {
        await ReadAll(Service.Stream(0));
        await ReadAll(Service.Stream(0));

        Assert.That(Calls[nameof(SequenceService.Stream)], Is.EqualTo(2));
        Assert.That(Cache.Exists(Prefix + "Stream(0)"), Is.False);
    }

    [Test]
    public async Task Items_round_trip_through_a_serializing_cache()
    {
        var first = await ReadAll(SequenceService.SerializedUsers(1));
        var second = await ReadAll(SequenceService.SerializedUsers(1));

        Assert.That(first, Is.EqualTo(new[] { new User(1, "user1"), new User(2, "user2") }));
        Assert.That(second, Is.EqualTo(first));
        Assert.That(second[0], Is.Not.SameAs(first[0]), "the second read is a deserialized copy");
    }

    [Test]
    public async Task An_invalidation_drops_the_stored_items_of_both_shapes()
    {
        Service.Numbers(2).ToList();
        await ReadAll(Service.Stream(2));

        Service.Forget(2);
        Service.Numbers(2).ToList();
        await ReadAll(Service.Stream(2));

        Assert.That((Calls[nameof(SequenceService.Numbers)], Calls[nameof(SequenceService.Stream)]), Is.EqualTo((2, 2)));
    }
}
