namespace Cached;

/// <summary>
/// What two levels refuse before anything else, in the order a single cache does (docs/caches.md): a bad key or
/// namespace (null, empty, or one either level's store of UTF-8 keys cannot hold), then a disposed cache, then the
/// caller's token. Each level refuses a bad key too, but only once it is reached: an async command that looked at its
/// token first answered a bad key with a cancellation, and one that took a write's turn or wrote L1 first did so for a
/// key L2 then refused.
/// </summary>
public sealed partial class MultiLevelCache
{
    /// <summary>The levels that keep keys as UTF-8, which refuse more than a null or empty key; found at the first call.</summary>
    private Utf8Levels? _utf8Levels;

    private sealed record Utf8Levels(BaseCache? Near, BaseCache? Far)
    {
        public bool Any => Near is not null || Far is not null;
    }

    /// <summary>Whether a level keeps keys as UTF-8, so that a key with a lone surrogate can have no entry here.</summary>
    internal bool KeysAsUtf8 => Utf8.Any;

    private Utf8Levels Utf8 => Volatile.Read(ref _utf8Levels) ?? (_utf8Levels = new Utf8Levels(
        L1 is BaseCache { KeysAsUtf8: true } near ? near : null,
        L2 is BaseCache { KeysAsUtf8: true } far ? far : null));

    /// <summary>
    /// The exception a command refuses <paramref name="key"/> or <paramref name="namespace"/> with; null when both are
    /// good. Every read asks it, so a level that keeps keys as they are (memory) costs it nothing past the null check.
    /// </summary>
    private ArgumentException? KeyProblem(string key, string? @namespace)
    {
        if (Runtime.Guard.KeyProblem(key) is { } problem)
        {
            return problem;
        }

        var utf8 = Utf8;
        return utf8.Any ? utf8.Far?.KeyProblem(key, @namespace) ?? utf8.Near?.KeyProblem(key, L1Space(@namespace)) : null;
    }

    /// <summary>What a method that is not <c>async</c> fails its task with: a bad key or namespace, then a disposed cache.</summary>
    private Exception? CallProblem(string key, string? @namespace) => (Exception?)KeyProblem(key, @namespace) ?? DisposedProblem();

    /// <summary>The exception a disposed cache refuses a call with, for a method that returns it in its task; null while open.</summary>
    private ObjectDisposedException? DisposedProblem() => Volatile.Read(ref _disposed) != 0 ? new ObjectDisposedException(GetType().FullName) : null;

    /// <summary>Refuses a bad key or namespace.</summary>
    private void CheckKey(string key, string? @namespace)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            throw problem;
        }
    }

    /// <summary>Refuses a bad key or namespace, then a disposed cache.</summary>
    private void CheckCall(string key, string? @namespace)
    {
        CheckKey(key, @namespace);
        ThrowIfDisposed();
    }

    /// <summary>Refuses a bad key or namespace, then a disposed cache, then a cancelled call.</summary>
    private void CheckCall(string key, string? @namespace, CancellationToken cancellationToken)
    {
        CheckCall(key, @namespace);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Refuses a namespace either level's store cannot hold, then a disposed cache.</summary>
    private void CheckClear(string? @namespace)
    {
        (L2 as BaseCache)?.CheckNamespace(@namespace);
        (L1 as BaseCache)?.CheckNamespace(L1Space(@namespace));
        ThrowIfDisposed();
    }

    /// <summary>A batch's keys, refused as each level refuses them (naming <c>keys</c> and the index), then a disposed cache.</summary>
    private string[] CheckBatch(IEnumerable<string> keys, string? @namespace)
    {
        var given = CheckKeys(keys, @namespace);
        ThrowIfDisposed();
        return given;
    }

    /// <summary>A batch's keys, refused as each level refuses them (naming <c>keys</c> and the index).</summary>
    private string[] CheckKeys(IEnumerable<string> keys, string? @namespace)
    {
        var given = Keys(keys);
        Runtime.Guard.BatchKeys(given, nameof(keys));
        if (L2 is BaseCache level)
        {
            level.CheckKeys(given);
            level.CheckNamespace(@namespace);
        }

        if (L1 is BaseCache near)
        {
            near.CheckKeys(given);
            near.CheckNamespace(L1Space(@namespace));
        }

        return given;
    }

    /// <summary>A batch write's pairs, refused as each level refuses them (naming <c>pairs</c> and the index), then a disposed cache.</summary>
    private KeyValuePair<string, T>[] CheckBatch<T>(IEnumerable<KeyValuePair<string, T>> pairs, string? @namespace)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var given = pairs.ToArray();
        Runtime.Guard.PairKeys(given, nameof(pairs));
        (L2 as BaseCache)?.CheckPairs(given, @namespace);
        (L1 as BaseCache)?.CheckPairs(given, L1Space(@namespace));
        ThrowIfDisposed();
        return given;
    }
}
