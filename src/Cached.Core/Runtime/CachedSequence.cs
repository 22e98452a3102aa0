using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace Cached.Runtime;

/// <summary>
/// Sequence results of generated [Cached] methods: what is cached is the items, never an iterator that would run the
/// body again on every enumeration. An <see cref="IEnumerable{T}"/> result is copied into an array before it is
/// stored; an <see cref="IAsyncEnumerable{T}"/> result is read to its end on a miss, stored as an array and replayed
/// on a hit. Both go through <see cref="CachedMethod{TResult}"/> of the array, so single-flight, TTL, skip rules,
/// scopes and fail-open behave as for any cached method. Used by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CachedSequence
{
    /// <summary>
    /// The items of <paramref name="source"/> as a new array, read to the end now, so the body's iterator runs once;
    /// null stays null. An array the body returns is copied too: the body may reuse it as a buffer, and the entry
    /// must not change with it.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(source))]
    public static T[]? ToArray<T>(IEnumerable<T>? source)
        => source switch
        {
            null => null,
            T[] array => array.AsSpan().ToArray(),
            _ => source.ToArray(),
        };

    /// <summary>
    /// The cached form of an async stream: nothing runs until the caller enumerates. Each enumeration then reads the
    /// entry under <paramref name="key"/>; on a miss it calls <paramref name="body"/>, reads its stream to the end,
    /// stores the items (unless <paramref name="skipWhen"/> says not to) and yields them; on a hit it yields the stored
    /// items. <paramref name="cancellationToken"/> (the method's own token) and the enumerator's token
    /// (<c>WithCancellation</c>) both cancel: the body gets the two combined, as its argument and as the token its
    /// stream is enumerated with, and the replay stops at the next item once either is cancelled.
    /// </summary>
    public static IAsyncEnumerable<T> Replay<TState, T>(CachedMethod<T[]> method, string key, TState state, Func<TState, CancellationToken, IAsyncEnumerable<T>> body, Func<TState, T[], bool>? skipWhen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(body);
        return ReplayAsync(method, key, new Call<TState, T>(state, body, skipWhen), cancellationToken);
    }

    /// <summary>A task of the stored array as the task of the sequence type the method declares.</summary>
    /// <typeparam name="TStored">The array that is cached (<c>T[]</c>).</typeparam>
    /// <typeparam name="TSequence">The declared result (<c>IEnumerable&lt;T&gt;</c>).</typeparam>
    public static Task<TSequence> AsTask<TStored, TSequence>(ValueTask<TStored> stored)
        where TStored : TSequence
        => stored.IsCompletedSuccessfully ? Task.FromResult<TSequence>(stored.Result) : Await<TStored, TSequence>(stored);

    /// <inheritdoc cref="AsTask{TStored, TSequence}(ValueTask{TStored})"/>
    /// <remarks>Completes synchronously when <paramref name="stored"/> did: a hit allocates nothing.</remarks>
    public static ValueTask<TSequence> AsValueTask<TStored, TSequence>(ValueTask<TStored> stored)
        where TStored : TSequence
        => stored.IsCompletedSuccessfully ? new ValueTask<TSequence>(stored.Result) : new ValueTask<TSequence>(Await<TStored, TSequence>(stored));

    private static async Task<TSequence> Await<TStored, TSequence>(ValueTask<TStored> stored)
        where TStored : TSequence
        => await stored.ConfigureAwait(false);

    // The compiler combines the method's token with the enumerator's (GetAsyncEnumerator's) for an
    // [EnumeratorCancellation] parameter: one token that either cancels.
    private static async IAsyncEnumerable<T> ReplayAsync<TState, T>(CachedMethod<T[]> method, string key, Call<TState, T> call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var items = await method.InvokeAsync(
            key,
            call,
            static (c, ct) => ReadToEndAsync(c.Body(c.State, ct), ct),
            call.SkipWhen is null ? null : static (c, items) => c.SkipWhen!(c.State, items),
            cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException(
                $"The entry under '{key}' is null, where an IAsyncEnumerable method stores the array of its items: it was written by something else.");
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }
    }

    private static async ValueTask<T[]> ReadToEndAsync<T>(IAsyncEnumerable<T> source, CancellationToken cancellationToken)
    {
        if (source is null)
        {
            throw new InvalidOperationException("The body of a cached IAsyncEnumerable<T> method returned null instead of a sequence.");
        }

        var items = new List<T>();
        await foreach (var item in source.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            items.Add(item);
        }

        return items.ToArray();
    }

    /// <summary>What one call hands to the stream's enumerations, without a closure.</summary>
    private readonly record struct Call<TState, T>(TState State, Func<TState, CancellationToken, IAsyncEnumerable<T>> Body, Func<TState, T[], bool>? SkipWhen);
}
