using System.Reflection;
using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// The frame an async cached method's call needs when the cache answers later (a remote hit) or the body does (a miss)
/// comes from the runtime's pool: it goes back once the caller has the result, and the next call on that thread takes
/// it again instead of allocating one. Each test completes everything inline on its own thread, so the thread's own
/// slot of the pool is what each call finds.
/// </summary>
public sealed class PooledFrameTests
{
    private const string Method = "Tests.Service.GetUser";

    private TestBackend _backend = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        // No timeout: the read is then awaited as it is, not through the pipeline's timer.
        _backend = new TestBackend { Timeout = null };
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        _backend.Dispose();
    }

    private CachedMethod<string> MethodOnBackend() => new(new CachedMethodOptions { Method = Method, CacheFactory = () => _backend });

    /// <summary>What a pending <see cref="ValueTask{TResult}"/> completes through: its frame, for a call of an async method.</summary>
    private static object? FrameOf<T>(ValueTask<T> pending)
        => typeof(ValueTask<T>).GetField("_obj", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(pending);

    /// <summary>A hit of <c>user:1</c> whose read waits for <paramref name="reply"/>.</summary>
    private ValueTask<string> StartRemoteHit(CachedMethod<string> method, out TaskCompletionSource reply)
    {
        reply = new TaskCompletionSource(); // continuations inline: the whole call completes on this thread
        _backend.ReadGate = reply.Task;
        return method.InvokeAsync("user:1".AsSpan(), 0, static (_, _) => new ValueTask<string>("body"), null, CancellationToken.None);
    }

    /// <summary>One hit whose read waits at a gate, then the gate opened on this thread; returns the call's frame.</summary>
    private object RemoteHit(CachedMethod<string> method)
    {
        var pending = StartRemoteHit(method, out var reply);
        Assert.That(pending.IsCompleted, Is.False, "the read waits for its reply");
        var frame = FrameOf(pending)!;

        reply.SetResult();
        Assert.That(pending.IsCompletedSuccessfully, Is.True);
        Assert.That(pending.Result, Is.EqualTo("stored"));
        return frame;
    }

    [Test]
    public void Remote_hits_one_after_another_on_one_thread_take_the_same_frame()
    {
        _backend.Set("user:1", "stored");
        var method = MethodOnBackend();

        var first = RemoteHit(method);
        var second = RemoteHit(method);

        Assert.That(second, Is.SameAs(first), "the second hit took the frame the first one gave back");
    }

    [Test]
    public void Misses_one_after_another_on_one_thread_take_the_same_frame()
    {
        var method = MethodOnBackend();
        object Miss(int id)
        {
            var body = new TaskCompletionSource<string>();
            var pending = method.InvokeAsync($"user:{id}".AsSpan(), body, static (b, _) => new ValueTask<string>(b.Task), null, CancellationToken.None);
            Assert.That(pending.IsCompleted, Is.False, "the body is still running");
            var frame = FrameOf(pending)!;

            body.SetResult($"computed {id}");
            Assert.That(pending.Result, Is.EqualTo($"computed {id}"));
            return frame;
        }

        var first = Miss(1);
        var second = Miss(2);

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.SameAs(first), "the second miss took the frame the first one gave back");
            Assert.That(_backend.Get<string>("user:2"), Is.EqualTo("computed 2"), "the miss stored its value");
        });
    }

    [Test]
    public void A_call_awaited_a_second_time_throws_instead_of_answering_with_a_later_call()
    {
        // The .NET rule for a ValueTask: await it once. A second await of a pooled frame is refused by the frame's
        // version, never answered with whatever call holds the frame by then.
        _backend.Set("user:1", "stored");
        var method = MethodOnBackend();
        var pending = StartRemoteHit(method, out var reply);
        reply.SetResult();
        Assert.That(pending.Result, Is.EqualTo("stored"));

        RemoteHit(method);

        Assert.Throws<InvalidOperationException>(() => _ = pending.Result);
    }

    [Test]
    public void A_task_returning_method_gets_a_task_of_its_own_that_may_be_awaited_any_number_of_times()
    {
        _backend.Set("user:1", "stored");
        var method = MethodOnBackend();
        var task = method.AsTask(StartRemoteHit(method, out var reply));
        reply.SetResult();

        RemoteHit(method);

        Assert.Multiple(() =>
        {
            Assert.That(task.Result, Is.EqualTo("stored"));
            Assert.That(task.Result, Is.EqualTo("stored"));
        });
    }

    [Test]
    public void A_remote_hit_completes_through_the_reads_own_frame_with_no_frame_of_the_method_around_it()
    {
        // The call's miss, or its fail-open, would follow in that same frame (IEntryReadEnd): a hit pays for one frame.
        _backend.Set("user:1", "stored");
        var method = MethodOnBackend();

        var frame = RemoteHit(method);

        var stateMachine = frame.GetType().GetGenericArguments()[^1];
        Assert.That(stateMachine.Name, Does.Contain("DecodeThenEnd"));
    }

    [Test]
    public async Task A_remote_read_that_fails_after_its_wait_fails_open_to_the_body_in_the_reads_frame()
    {
        var method = MethodOnBackend();
        var reply = new TaskCompletionSource();
        _backend.ReadGate = reply.Task;
        var bodyCalls = 0;

        var pending = method.InvokeAsync("user:1".AsSpan(), 0, (_, _) => new ValueTask<string>($"body {++bodyCalls}"), null, CancellationToken.None);
        reply.SetException(new InvalidOperationException("the server went away"));

        Assert.That(await pending, Is.EqualTo("body 1"));
        Assert.That(bodyCalls, Is.EqualTo(1));
    }

    [Test]
    public void A_caller_cancelled_while_its_read_waits_is_cancelled_and_its_body_never_runs()
    {
        var method = MethodOnBackend();
        _backend.ReadGate = new TaskCompletionSource().Task;
        using var cancellation = new CancellationTokenSource();
        var bodyCalls = 0;

        var pending = method.InvokeAsync("user:1".AsSpan(), 0, (_, _) => new ValueTask<string>($"body {++bodyCalls}"), null, cancellation.Token);
        cancellation.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await pending);
        Assert.That(bodyCalls, Is.Zero);
    }
}
