using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>What the circuit breaker's tests check on a real server: refusals, what reached the server, a probe.</summary>
internal static class BreakerChecks
{
    /// <summary>How many times <paramref name="server"/> has run the commands named (<c>INFO commandstats</c>).</summary>
    public static long CommandCalls(IServer server, params string[] commands)
    {
        var stats = server.Info("commandstats").SelectMany(static s => s).ToArray();
        return commands.Sum(command => stats.FirstOrDefault(p => p.Key == "cmdstat_" + command).Value is { } line
            ? long.Parse(line.Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture)
            : 0);
    }

    /// <summary>Asserts the call was refused at once by the breaker, without waiting for the backend.</summary>
    public static CacheBackendException RefusedAtOnce<T>(ValueTask<T> call)
    {
        Assert.That(call.IsCompleted, Is.True, "refused at once, without waiting for the backend");
        var refusal = Assert.ThrowsAsync<CacheBackendException>(async () => await call)!;
        Assert.That((refusal.CircuitOpen, refusal.Unreachable), Is.EqualTo((true, true)), refusal.Message);
        return refusal;
    }

    /// <summary>
    /// Holds what the client sends through <paramref name="proxy"/> and opens the breaker with one read of
    /// <paramref name="key"/> that times out on the test clock; then, unless told not to, checks that the next is refused.
    /// </summary>
    public static async Task OpenWithATimeout(RedisCache cache, LoopbackProxy proxy, FakeTimeProvider time, TimeSpan timeout, string key, bool thenRefused = true)
    {
        proxy.Hold();
        var opener = cache.GetAsync<string>(key);
        Assert.That(opener.IsCompleted, Is.False);
        time.Advance(timeout);
        Assert.ThrowsAsync<TimeoutException>(async () => await opener);
        if (thenRefused)
        {
            RefusedAtOnce(cache.GetAsync<string>(key));
        }
        else
        {
            await Task.Yield();
        }
    }

    /// <summary>Reads on the real clock until a read is not refused (the first after the duration is the probe).</summary>
    public static async Task<string?> ProbeUntilClosed(ICache cache, string key, TimeSpan? limit = null)
    {
        var waited = Stopwatch.StartNew();
        var until = limit ?? TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await cache.GetAsync<string>(key);
            }
            catch (Exception down) when (down is TimeoutException or CacheBackendException { Unreachable: true } && waited.Elapsed < until)
            {
                await Task.Delay(20);
            }
        }
    }
}
