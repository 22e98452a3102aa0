using System.Diagnostics;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>A call's result or exception and how long it took, for tests that assert a failure is prompt.</summary>
internal static class Timed
{
    public static (T? Result, Exception? Error, TimeSpan Elapsed) Call<T>(Func<T> action)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            return (action(), null, watch.Elapsed);
        }
        catch (Exception ex)
        {
            return (default, ex, watch.Elapsed);
        }
    }

    public static async Task<(T? Result, Exception? Error, TimeSpan Elapsed)> CallAsync<T>(Func<Task<T>> action)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            return (await action(), null, watch.Elapsed);
        }
        catch (Exception ex)
        {
            return (default, ex, watch.Elapsed);
        }
    }
}
