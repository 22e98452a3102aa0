using Cached.Runtime;

namespace Cached.Tests.Review;

/// <summary>
/// A review of 7d3d27e ("Scopes and boards"). A call inside <c>CacheScope.SkipWrite()</c> or <c>Bypass()</c> no longer
/// boards its flight (<c>CachedMethod.Board</c>), and a sync call is refused as a body's own call only when it would
/// join a flight (<c>ThrowIfOwnFlight</c>, reached only for a flight found on the board): a sync body inside such a
/// scope that calls its own method for its own key finds no flight of its own on the board, leads again, and recurses
/// instead of being refused (docs/decorators.md; CachedMethod.Reentry.cs). Each body here stops itself a few levels
/// down with a marker exception, so the recursion shows as that marker rather than as a crashed test host.
/// </summary>
[NonParallelizable]
public sealed class LateReviewTests
{
    private const int DeepEnough = 4;

    public enum Scope
    {
        SkipRead,
        SkipWrite,
        Bypass,
    }

    private sealed class RecursedException() : Exception("the body ran again inside itself: the call was not refused");

    private static IDisposable Open(Scope scope) => scope switch
    {
        Scope.SkipRead => CacheScope.SkipRead(),
        Scope.SkipWrite => CacheScope.SkipWrite(),
        _ => CacheScope.Bypass(),
    };

    private static CachedMethod<int> Method(ICache cache, bool failSafe)
        => new(new CachedMethodOptions
        {
            Method = "Late.Review.Numbers",
            Ttl = 10,
            FailSafe = failSafe ? 60 : 0,
            CacheFactory = () => cache,
        });

    [Test]
    public async Task A_sync_body_inside_any_scope_calling_its_own_key_is_refused_not_run_again([Values] Scope scope, [Values] bool failSafe)
    {
        using var cache = new SimpleMemoryCache();
        var method = Method(cache, failSafe);
        var depth = 0;

        int Body()
        {
            if (++depth >= DeepEnough)
            {
                throw new RecursedException();
            }

            return method.Invoke("k", 0, _ => Body()) + 1;
        }

        var run = Task.Run(() =>
        {
            using (Open(scope))
            {
                return method.Invoke("k", 0, _ => Body());
            }
        });

        var ended = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.That(ended, Is.SameAs(run), "the call never ended");
        var failure = run.Exception?.InnerException;

        Assert.That(failure, Is.Not.InstanceOf<RecursedException>(), $"the body ran {depth} times nested: its own call was not refused");
        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(failure!.Message, Does.Contain("from within its own body"));
        Assert.That(depth, Is.EqualTo(1));
    }

    [Test]
    public async Task An_async_body_inside_any_scope_calling_its_own_key_is_refused([Values] Scope scope, [Values] bool failSafe)
    {
        // The control: an async call is refused before its read (IsOwnKey), boarded or not.
        using var cache = new SimpleMemoryCache();
        var method = Method(cache, failSafe);
        var depth = 0;

        async ValueTask<int> Body(CancellationToken token)
        {
            if (++depth >= DeepEnough)
            {
                throw new RecursedException();
            }

            await Task.Yield();
            return await method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, token) + 1;
        }

        var run = Task.Run(async () =>
        {
            using (Open(scope))
            {
                return await method.InvokeAsync("k", 0, (_, t) => Body(t), skipWhen: null, CancellationToken.None);
            }
        });

        var ended = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.That(ended, Is.SameAs(run), "the call never ended");
        Assert.That(run.Exception?.InnerException, Is.InstanceOf<InvalidOperationException>());
        Assert.That(depth, Is.EqualTo(1));
    }
}
