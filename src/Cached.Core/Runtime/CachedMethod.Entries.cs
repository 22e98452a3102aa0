namespace Cached.Runtime;

/// <summary>
/// What generated code calls in its commonest shapes, written to be cheap to compile (issue 14): a constructor for a
/// method whose only option is its time to live, and for a key built in a stack buffer, entry points each under a
/// name of its own. The compiler binds a call's static lambda once for every overload of the name it calls (and
/// infers <c>TState</c> for each), so a name with one overload is the cheapest call to compile.
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>Creates the shared state of a method whose only option is its time to live.</summary>
    /// <param name="method">The method's full name, for logs (<see cref="CachedMethodOptions.Method"/>).</param>
    /// <param name="ttl">Time to live in seconds; 0 for the cache's default (<see cref="CachedMethodOptions.Ttl"/>).</param>
    public CachedMethod(string method, double ttl)
        : this(new CachedMethodOptions { Method = method, Ttl = ttl })
    {
    }

    /// <summary>Runs a sync cached method: <see cref="Invoke{TState}(ReadOnlySpan{char}, TState, Func{TState, TResult}, Func{TState, TResult, bool}?)"/> under a name of its own.</summary>
    public TResult Call<TState>(ReadOnlySpan<char> key, TState state, Func<TState, TResult> body, Func<TState, TResult, bool>? skipWhen)
        => Invoke(key, state, body, skipWhen);

    /// <summary>Runs a <see cref="ValueTask{TResult}"/> cached method: <see cref="InvokeAsync{TState}(ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{TResult}}, Func{TState, TResult, bool}?, CancellationToken)"/> under a name of its own.</summary>
    public ValueTask<TResult> CallAsync<TState>(ReadOnlySpan<char> key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> body, Func<TState, TResult, bool>? skipWhen, CancellationToken cancellationToken)
        => InvokeAsync(key, state, body, skipWhen, cancellationToken);

    /// <summary>
    /// Runs a <see cref="Task{TResult}"/> cached method, whose body returns its task as written: the task is wrapped
    /// in a <see cref="ValueTask{TResult}"/> here rather than in each generated lambda, and the result is
    /// <see cref="AsTask"/> of <see cref="InvokeAsync{TState}(ReadOnlySpan{char}, TState, Func{TState, CancellationToken, ValueTask{TResult}}, Func{TState, TResult, bool}?, CancellationToken)"/>,
    /// so a hit of the same value returns the same completed task.
    /// </summary>
    public Task<TResult> CallTaskAsync<TState>(ReadOnlySpan<char> key, TState state, Func<TState, CancellationToken, Task<TResult>> body, Func<TState, TResult, bool>? skipWhen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var call = new TaskCall<TState>(state, body, skipWhen);
        return AsTask(InvokeAsync(
            key,
            call,
            static (call, ct) => new ValueTask<TResult>(call.Body(call.State, ct)),
            skipWhen is null ? null : static (call, result) => call.SkipWhen!(call.State, result),
            cancellationToken));
    }

    /// <summary>A Task method's state, body and skip rule, carried as the state of the ValueTask path: no closure.</summary>
    private readonly record struct TaskCall<TState>(TState State, Func<TState, CancellationToken, Task<TResult>> Body, Func<TState, TResult, bool>? SkipWhen);
}
