using Cached.Plugins;
using Cached.Runtime;
using Cached.Tests.Leaks;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests;

/// <summary>
/// A late hit that read the entry before another refresh stored, and that starts its own refresh only after that
/// refresh has landed, must not call the body again: the entry it would refresh is already fresh. Seen on a Garnet
/// cluster, where a slow read widened the window: the second refresh overwrote the first one's value.
/// </summary>
[NonParallelizable]
public sealed class EagerRefreshLateBoardingTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_hit_that_read_before_a_refresh_stored_does_not_refresh_again_after_it_landed([Values] bool async)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var pause = new PauseAfterRead();
        using var cache = new SimpleMemoryCache { TimeProvider = time, Plugins = [pause] };
        var method = new CachedMethod<string>(new CachedMethodOptions
        {
            Method = "Review.EagerLate",
            Ttl = 10,
            EagerRefresh = 0.5,
            CacheFactory = () => cache,
        });
        var refreshes = 0;
        string Body(string answer)
        {
            Interlocked.Increment(ref refreshes);
            return answer;
        }

        Assert.That(method.Invoke("k", "v1", Body), Is.EqualTo("v1"));
        time.Advance(TimeSpan.FromSeconds(6));

        // The late hit reads v1 and stops before it boards its refresh.
        pause.Arm();
        var late = Task.Run(async () => async
            ? await method.InvokeAsync("k", "late", (answer, _) => new ValueTask<string>(Body(answer)), null, CancellationToken.None)
            : method.Invoke("k", "late", Body));
        await pause.Paused.Task.WaitAsync(s_limit);

        // Meanwhile another late hit refreshes the entry, and its flight lands.
        Assert.That(method.Invoke("k", "v2", Body), Is.EqualTo("v1"));
        await Internals.SettleAsync(() => Internals.Flights(method) == 0 && method.Invoke("k", "unused", Body) == "v2");

        pause.Release();
        Assert.That(await late.WaitAsync(s_limit), Is.EqualTo("v1"), "the late hit answers what it read");
        await Internals.SettleAsync(() => Internals.Flights(method) == 0);
        Assert.Multiple(() =>
        {
            Assert.That(method.Invoke("k", "unused", Body), Is.EqualTo("v2"), "the refreshed value stays");
            Assert.That(refreshes, Is.EqualTo(2), "the first fill and one refresh; the late hit's refresh found the entry fresh");
        });
    }

    /// <summary>Holds the first read after <see cref="Arm"/> once it has its answer, until <see cref="Release"/>.</summary>
    private sealed class PauseAfterRead : ICachePlugin
    {
        private readonly ManualResetEventSlim _gate = new(initialState: true);
        private int _armed;

        public TaskCompletionSource Paused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arm()
        {
            _gate.Reset();
            Volatile.Write(ref _armed, 1);
        }

        public void Release() => _gate.Set();

        public void Pre(CacheCommandContext context)
        {
        }

        public void Post(CacheCommandContext context)
        {
            if (context.Command == CacheCommand.Get && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Paused.TrySetResult();
                _gate.Wait(s_limit);
            }
        }
    }
}
