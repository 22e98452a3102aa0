namespace Cached.Memory;

/// <summary>
/// The interpreter of <see cref="ICache.Raw"/> for <see cref="SimpleMemoryCache"/>: named operations on backend keys
/// (no namespace), as aiocache's memory backend offers its dict's methods.
/// </summary>
internal static class MemoryRawCommands
{
    /// <summary>What the interpreter needs of the cache: its primitives, so raw reads and writes follow the same rules.</summary>
    public interface ITarget
    {
        MemoryStore Store { get; }

        CacheResult<object?> Read(string key);

        /// <summary>Stores <paramref name="payload"/> unless the key holds a live value, in one step; the value that stands.</summary>
        object? SetDefault(string key, object? payload);

        /// <summary>Removes the entry of <paramref name="key"/> and returns it if it was live, in one step: two pops never both get it, and a pop never removes a value written after it read.</summary>
        CacheResult<object?> Take(string key);

        bool Contains(string key);
    }

    /// <summary>Whether <paramref name="command"/> leaves every entry as it is (the others move the cache's fences first).</summary>
    public static bool OnlyReads(string command) => command.ToLowerInvariant() is "get" or "contains" or "exists" or "keys" or "count" or "len";

    public static object? Execute(ITarget target, string command, object?[] args)
    {
        switch (command.ToLowerInvariant())
        {
            case "get":
                {
                    var entry = target.Read(Key(command, args, 1));
                    return entry.Found ? entry.Value : null;
                }

            case "set":
                Arity(command, args, 2);
                target.Store.Store(Key(command, args, 2), target.Store.CreateEntry(args[1], null, null));
                return true;

            case "setdefault":
                return target.SetDefault(Key(command, args, 2), args[1]);

            case "pop":
            case "delete":
                {
                    var entry = target.Take(Key(command, args, 1));
                    return entry.Found ? entry.Value : null;
                }

            case "contains":
            case "exists":
                return target.Contains(Key(command, args, 1));

            case "keys":
                Arity(command, args, 0);
                return target.Store.LiveKeys(target.Store.Now);

            case "count":
            case "len":
                Arity(command, args, 0);
                target.Store.RemoveExpired();
                return target.Store.Count;

            case "clear":
                Arity(command, args, 0);
                target.Store.Clear(null);
                return true;

            default:
                throw Unknown(command);
        }
    }

    /// <summary>
    /// Refuses an unknown command, a wrong count of arguments or a key that is not a non-empty string, before the command
    /// reaches the pipeline (where one that may write would refuse every open fill first, for nothing).
    /// </summary>
    public static void Check(string command, object?[] args)
    {
        var arity = command.ToLowerInvariant() switch
        {
            "get" or "pop" or "delete" or "contains" or "exists" => 1,
            "set" or "setdefault" => 2,
            "keys" or "count" or "len" or "clear" => 0,
            _ => throw Unknown(command),
        };
        if (arity == 0)
        {
            Arity(command, args, 0);
        }
        else
        {
            Key(command, args, arity);
        }
    }

    private static ArgumentException Unknown(string command)
        => new($"SimpleMemoryCache has no raw command '{command}'; use get, set, setdefault, pop, contains, keys, count or clear.", nameof(command));

    private static string Key(string command, object?[] args, int arity)
    {
        Arity(command, args, arity);
        return args[0] as string is { Length: > 0 } key
            ? key
            : throw new ArgumentException($"Raw command '{command}' takes a non-empty string key first.", nameof(args));
    }

    private static void Arity(string command, object?[] args, int arity)
    {
        if (args.Length != arity)
        {
            throw new ArgumentException($"Raw command '{command}' takes {arity} argument(s), not {args.Length}.", nameof(args));
        }
    }
}
