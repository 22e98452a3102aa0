using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// The task of a <c>Task</c>-returning cached method: hits of the same value share one completed task, so they
/// allocate nothing; anything that could be told apart gets a task of its own.
/// </summary>
[NonParallelizable]
public sealed class CachedMethodTaskTests
{
    private readonly record struct Point(int X, int Y);

    private readonly record struct Named(int Id, string Name);

    private static CachedMethod<T> Method<T>() => new(new CachedMethodOptions { Method = "Test.Get" });

    [Test]
    public void Calls_completed_with_the_same_object_share_one_task_and_allocate_nothing()
    {
        var method = Method<string>();
        var value = new string('v', 3);

        var first = method.AsTask(ValueTask.FromResult(value));
        var second = method.AsTask(ValueTask.FromResult(value));

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.SameAs(first));
            Assert.That(second.Result, Is.SameAs(value));
            Assert.That(Allocations.Fewest(() => method.AsTask(new ValueTask<string>(value))), Is.Zero);
        });
    }

    [Test]
    public void An_equal_but_distinct_object_gets_its_own_task()
    {
        var method = Method<string>();
        var first = method.AsTask(ValueTask.FromResult(new string('v', 3)));
        var other = new string('v', 3);

        var second = method.AsTask(ValueTask.FromResult(other));

        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(second.Result, Is.SameAs(other));
    }

    [Test]
    public void Structs_without_references_share_a_task_when_their_bits_are_equal()
    {
        var method = Method<Point>();
        var first = method.AsTask(ValueTask.FromResult(new Point(1, 2)));

        Assert.Multiple(() =>
        {
            Assert.That(method.AsTask(ValueTask.FromResult(new Point(1, 2))), Is.SameAs(first));
            Assert.That(method.AsTask(ValueTask.FromResult(new Point(1, 3))).Result, Is.EqualTo(new Point(1, 3)));
        });
    }

    [Test]
    public void Structs_with_references_never_share_a_task()
    {
        var method = Method<Named>();
        var first = method.AsTask(ValueTask.FromResult(new Named(1, "ada")));
        var other = new Named(1, new string("ada".AsSpan()));

        var second = method.AsTask(ValueTask.FromResult(other));

        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(second.Result.Name, Is.SameAs(other.Name));
    }

    [Test]
    public async Task A_pending_or_failed_call_gets_its_own_task()
    {
        var method = Method<string>();
        var source = new TaskCompletionSource<string>();

        var pending = method.AsTask(new ValueTask<string>(source.Task));
        var failed = method.AsTask(ValueTask.FromException<string>(new InvalidOperationException("boom")));
        source.SetResult("late");

        Assert.That(await pending, Is.EqualTo("late"));
        Assert.ThrowsAsync<InvalidOperationException>(async () => await failed);
    }
}
