using System.Diagnostics;

namespace Cached.Plugins;

/// <summary>
/// What a plugin sees of one command: the same object is passed to every plugin's <see cref="ICachePlugin.Pre"/>
/// hook before the command runs, then, once it has succeeded, with <see cref="Result"/>, <see cref="Hits"/> and
/// <see cref="Elapsed"/> filled in, to every <see cref="ICachePlugin.Post"/> hook.
/// </summary>
public sealed class CacheCommandContext
{
    internal CacheCommandContext(ICache cache, CacheCommand command, string? key, IReadOnlyList<string>? keys, string? @namespace, object? value, TimeSpan? ttl)
    {
        Cache = cache;
        Command = command;
        Key = key;
        Keys = keys;
        Namespace = @namespace;
        Value = value;
        Ttl = ttl;
    }

    /// <summary>The cache that runs the command.</summary>
    public ICache Cache { get; }

    /// <summary>The command.</summary>
    public CacheCommand Command { get; }

    /// <summary>The key as the caller gave it (before the namespace is applied); <c>null</c> for multi-key commands, <see cref="CacheCommand.Clear"/> and <see cref="CacheCommand.Raw"/>.</summary>
    public string? Key { get; }

    /// <summary>The keys of <see cref="CacheCommand.MultiGet"/> and <see cref="CacheCommand.MultiSet"/>, in the caller's order.</summary>
    public IReadOnlyList<string>? Keys { get; }

    /// <summary>The namespace the command runs in, after falling back to the cache's own.</summary>
    public string? Namespace { get; }

    /// <summary>
    /// The value written by <see cref="CacheCommand.Add"/>/<see cref="CacheCommand.Set"/>, the values of
    /// <see cref="CacheCommand.MultiSet"/> (a list in key order), the delta of <see cref="CacheCommand.Increment"/>,
    /// the arguments of <see cref="CacheCommand.Raw"/>.
    /// </summary>
    public object? Value { get; }

    /// <summary>The time to live the command writes with, after falling back to the cache's default; <c>null</c> means no expiry.</summary>
    public TimeSpan? Ttl { get; }

    /// <summary>The command's result (for <see cref="CacheCommand.MultiGet"/>, the list of values). Set before the post hooks run.</summary>
    public object? Result { get; internal set; }

    /// <summary>For reads, how many keys were found (a stored <c>null</c> counts as found). Set before the post hooks run.</summary>
    public int Hits { get; internal set; }

    /// <summary>For telemetry: how many entries a fill of several stored, the refused ones left out; -1 for every key given.</summary>
    internal int Stored { get; set; } = -1;

    /// <summary>
    /// How long the command took, from before its pre hooks to the end of the backend's work (aiocache's <c>took</c>).
    /// Set before the post hooks run.
    /// </summary>
    public TimeSpan Elapsed { get; internal set; }

    internal long StartedAt { get; set; }

    /// <summary>True while telemetry waits for this command's outcome.</summary>
    internal bool Observed { get; set; }

    /// <summary>The command's activity, when someone listens to Cached's activity source.</summary>
    internal Activity? Activity { get; set; }
}
