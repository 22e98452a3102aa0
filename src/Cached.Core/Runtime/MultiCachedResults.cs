using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>Adapts the task shapes of multi-cached methods without closures. Used by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class MultiCachedResults
{
    /// <summary>The entries an async implementation returned, as the runtime reads them.</summary>
    public static async ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?> From<TDictionary, TKey, TValue>(Task<TDictionary> task)
        where TDictionary : IEnumerable<KeyValuePair<TKey, TValue>>?
    {
        ArgumentNullException.ThrowIfNull(task);
        return await task.ConfigureAwait(false);
    }

    /// <inheritdoc cref="From{TDictionary, TKey, TValue}(Task{TDictionary})"/>
    public static async ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?> From<TDictionary, TKey, TValue>(ValueTask<TDictionary> task)
        where TDictionary : IEnumerable<KeyValuePair<TKey, TValue>>?
        => await task.ConfigureAwait(false);

    /// <summary>The result as the <c>Task</c> of an interface type the method declares.</summary>
    public static async Task<TResult> AsTask<TKey, TValue, TResult>(ValueTask<Dictionary<TKey, TValue>> result)
        where TKey : notnull
        where TResult : class
        => (TResult)(object)await result.ConfigureAwait(false);

    /// <summary>The result as the <c>ValueTask</c> of an interface type the method declares; synchronous when the result is.</summary>
    public static ValueTask<TResult> AsValueTask<TKey, TValue, TResult>(ValueTask<Dictionary<TKey, TValue>> result)
        where TKey : notnull
        where TResult : class
        => result.IsCompletedSuccessfully ? new ValueTask<TResult>((TResult)(object)result.Result) : new ValueTask<TResult>(AsTask<TKey, TValue, TResult>(result));
}
