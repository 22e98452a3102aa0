namespace Cached.Pipeline;

/// <summary>
/// How an async read of one entry ends, inside the read's own frame (<c>BaseCache.RunReadAsync</c>): what a found
/// entry becomes, and what follows a miss, or a fault that the reader takes instead of throwing it. A cached method's
/// read goes on to its miss there, so that a remote hit costs one async frame, not a frame of the reader's around the
/// read's own.
/// </summary>
/// <typeparam name="T">The entry's type.</typeparam>
/// <typeparam name="TOut">What the read answers.</typeparam>
internal interface IEntryReadEnd<T, TOut>
{
    /// <summary>The answer for an entry found holding <paramref name="value"/>.</summary>
    TOut Found(T? value);

    /// <summary>
    /// What follows a miss (<paramref name="fault"/> is <c>null</c>) or a fault this end <see cref="Takes"/>: observed and
    /// counted already, as any read's.
    /// </summary>
    ValueTask<TOut> Otherwise(Exception? fault);

    /// <summary>Whether <paramref name="fault"/>, which failed the read, goes to <see cref="Otherwise"/> rather than to the caller.</summary>
    bool Takes(Exception fault);

    /// <summary>What the read reports to the post hooks and telemetry: its result and whether it hit.</summary>
    CommandOutcome Outcome(CacheResult<T> result);
}

/// <summary>The read's own answer, as <c>TryGetAsync</c> gives it: every fault goes to the caller.</summary>
internal readonly struct AsRead<T> : IEntryReadEnd<T, CacheResult<T>>
{
    public CacheResult<T> Found(T? value) => new(true, value);

    public ValueTask<CacheResult<T>> Otherwise(Exception? fault) => new(CacheResult<T>.Miss);

    public bool Takes(Exception fault) => false;

    public CommandOutcome Outcome(CacheResult<T> result) => BaseCache.ReadOutcome(result);
}

/// <summary>
/// <c>GetAsync</c>'s answer: the value found, else the caller's default, which the post hooks see as the result too
/// (aiocache's <c>post_get</c> gets the value after default substitution). Every fault goes to the caller.
/// </summary>
internal readonly struct AsValue<T>(T? @default) : IEntryReadEnd<T, T?>
{
    public T? Found(T? value) => value;

    public ValueTask<T?> Otherwise(Exception? fault) => new(@default);

    public bool Takes(Exception fault) => false;

    public CommandOutcome Outcome(CacheResult<T> result)
        => result.Found ? BaseCache.ReadOutcome(result) : BaseCache.ReadOutcome(result) with { Result = @default };
}
