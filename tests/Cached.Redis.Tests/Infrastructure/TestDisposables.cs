using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>The end of a test that made nodes, caches and connections over servers it may have cut or stopped.</summary>
public static class TestDisposables
{
    /// <summary>
    /// Disposes what the test made, newest first, and empties the list. One whose server or connection is already gone
    /// has nothing left to release: its failure is not the test's.
    /// </summary>
    public static async Task DisposeAllAsync(this List<IAsyncDisposable> disposables)
    {
        foreach (var disposable in Enumerable.Reverse(disposables))
        {
            try
            {
                await disposable.DisposeAsync();
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
            {
                // A server or a connection already gone.
            }
        }

        disposables.Clear();
    }

    /// <inheritdoc cref="DisposeAllAsync"/>
    public static void DisposeAll(this List<IDisposable> disposables)
    {
        foreach (var disposable in Enumerable.Reverse(disposables))
        {
            try
            {
                disposable.Dispose();
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
            {
                // A server or a connection already gone.
            }
        }

        disposables.Clear();
    }

    /// <summary>Adds <paramref name="disposable"/> to the list and returns it.</summary>
    public static T Track<T>(this List<IDisposable> disposables, T disposable)
        where T : IDisposable
    {
        disposables.Add(disposable);
        return disposable;
    }
}
