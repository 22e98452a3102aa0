using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// A body that calls its own cached method for the key it is computing is refused with an exception, instead of
/// joining its own flight and waiting for itself forever; recursion over other keys is untouched.
/// </summary>
public sealed class CachedMethodReentryTests
{
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp() => _cache = new SimpleMemoryCache();

    [TearDown]
    public void TearDown() => _cache.Dispose();

    /// <summary>The path a call takes: plain or resilient (fail-safe), sync or async, with a token that can cancel or not.</summary>
    public enum Shape
    {
        Sync,
        Async,
        AsyncWithToken,
        SyncFailSafe,
        AsyncFailSafe,
    }

    private CachedMethod<int> MethodFor(Shape shape)
        => new(new CachedMethodOptions { Method = "Tests.Numbers.Get", CacheFactory = () => _cache, Ttl = 10, FailSafe = shape is Shape.SyncFailSafe or Shape.AsyncFailSafe ? 60 : 0 });

    /// <summary>Calls <paramref name="method"/> for <paramref name="key"/>; the body is <paramref name="body"/>, run synchronously.</summary>
    private static ValueTask<int> Call(Shape shape, CachedMethod<int> method, string key, Func<int> body)
    {
        if (shape is Shape.Sync or Shape.SyncFailSafe)
        {
            return new ValueTask<int>(method.Invoke(key, body, static b => b(), skipWhen: null));
        }

        using var source = new CancellationTokenSource();
        return method.InvokeAsync(key, body, static (b, _) => new ValueTask<int>(b()), skipWhen: null, shape == Shape.AsyncWithToken ? source.Token : CancellationToken.None);
    }

    /// <summary>Runs <paramref name="call"/> off the test thread, failing rather than hanging if it never ends.</summary>
    private static async Task<Exception?> Outcome(Func<ValueTask<int>> call)
    {
        var running = Task.Run(async () => await call());
        var ended = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.That(ended, Is.SameAs(running), "the call waited for itself");
        return running.Exception?.InnerException;
    }

    [Test]
    public async Task A_body_calling_its_own_method_for_its_own_key_is_refused_and_the_method_works_after([Values] Shape shape)
    {
        var method = MethodFor(shape);
        var depth = 0;
        int Body()
        {
            if (++depth == 1)
            {
                return Call(shape, method, "k", Body).AsTask().GetAwaiter().GetResult() + 1;
            }

            return 100;
        }

        var failure = await Outcome(() => Call(shape, method, "k", Body));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(failure!.Message, Does.Contain("'Tests.Numbers.Get' was called for the key 'k' from within its own body"));
        Assert.That(_cache.Exists("k"), Is.False, "nothing stored");
        Assert.That(await Call(shape, method, "k", () => 7), Is.EqualTo(7), "the next call computes as usual");
    }

    [Test]
    public async Task An_async_body_asking_for_its_own_key_after_an_await_is_refused_too([Values] bool failSafe)
    {
        // The body is noted in its own async flow, which its awaits carry to whatever thread goes on with it.
        var method = MethodFor(failSafe ? Shape.AsyncFailSafe : Shape.Async);
        var depth = 0;
        async ValueTask<int> Body(CancellationToken token)
        {
            if (++depth > 1)
            {
                return 1;
            }

            await Task.Yield();
            return await method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, token) + 1;
        }

        var failure = await Outcome(() => method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, CancellationToken.None));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task Work_a_body_started_that_asks_for_its_key_after_the_body_ended_is_answered_not_refused(
        [Values(Shape.Async, Shape.AsyncWithToken, Shape.AsyncFailSafe)] Shape shape,
        [Values] bool beforeAnAwait)
    {
        // The background task inherits the body's flow, note included; by the time it asks, the body's flight has
        // landed (and its entry is gone), so its call would wait for nobody: it computes anew.
        var method = MethodFor(shape);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int>? background = null;
        using var source = new CancellationTokenSource();
        var token = shape == Shape.AsyncWithToken ? source.Token : CancellationToken.None;
        async ValueTask<int> Body(CancellationToken bodyToken)
        {
            if (!beforeAnAwait)
            {
                await Task.Yield();
            }

            background = Task.Run(async () =>
            {
                await gate.Task;
                return await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(-1), skipWhen: null, token);
            });
            return 5;
        }

        Assert.That(await method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, token), Is.EqualTo(5));
        _cache.Delete("k");
        gate.SetResult();

        Assert.That(await background!.WaitAsync(TimeSpan.FromSeconds(20)), Is.EqualTo(-1), "a miss, computed");
    }

    [Test]
    public async Task A_body_calling_its_own_method_for_other_keys_recurses_as_usual([Values] Shape shape)
    {
        var method = MethodFor(shape);
        var calls = 0;
        int Factorial(int n)
        {
            calls++;
            return n <= 1 ? 1 : n * Call(shape, method, "f" + (n - 1), () => Factorial(n - 1)).AsTask().GetAwaiter().GetResult();
        }

        Assert.That(await Outcome(() => Call(shape, method, "f5", () => Factorial(5))), Is.Null);
        Assert.That(await Call(shape, method, "f5", () => -1), Is.EqualTo(120));
        Assert.That((calls, _cache.Get<int>("f3")), Is.EqualTo((5, 6)));
    }

    [Test]
    public async Task A_GetOrSet_factory_asking_for_its_own_key_is_refused([Values] bool async)
    {
        var failure = await Outcome(async () => async
            ? await _cache.GetOrSetAsync("k", async ct => await _cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), cancellationToken: ct) + 1)
            : _cache.GetOrSet("k", _ => _cache.GetOrSet("k", _ => 1) + 1));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(_cache.Exists("k"), Is.False);
    }
}
