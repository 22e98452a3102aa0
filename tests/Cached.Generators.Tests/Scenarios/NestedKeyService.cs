namespace Cached.Generators.Tests.Scenarios;

/// <summary>A record holding a record: the inner one's text neither quotes nor escapes either.</summary>
public sealed record Wrapper(Pair Inner, string? Tag);

/// <summary>A record holding a sequence of pairs that is no dictionary: each pair's text is "[key, value]".</summary>
public sealed record Holder(IEnumerable<KeyValuePair<string, string>> Entries);

/// <summary>A record that holds itself: reshaped where it is a parameter, by its text where it recurs.</summary>
public sealed record Node(string? Name, Node? Next);

/// <summary>
/// [Cached] methods keyed by values whose text is ambiguous where they sit: key-value pairs, and records or pairs inside
/// sequences, dictionaries, tuples and other records.
/// </summary>
public partial class NestedKeyService(CallCounter calls)
{
    [Cached(Alias = UserService.Alias)]
    public partial string ByEntry(KeyValuePair<string, string?> entry);

    private string ByEntryCore(KeyValuePair<string, string?> entry) => Seen(nameof(ByEntry), entry.Key + "=" + (entry.Value ?? "<null>"));

    [InvalidateCache(nameof(ByEntry))]
    public partial void ForgetEntry(KeyValuePair<string, string?> entry);

    private void ForgetEntryCore(KeyValuePair<string, string?> entry)
    {
    }

    [Cached(Alias = UserService.Alias)]
    public partial string ByEntries(List<KeyValuePair<string, string>> entries);

    private string ByEntriesCore(List<KeyValuePair<string, string>> entries)
        => Seen(nameof(ByEntries), string.Join("&", entries.Select(static e => e.Key + "=" + e.Value)));

    [Cached(Alias = UserService.Alias)]
    public partial string ByPairs(Pair[] pairs);

    private string ByPairsCore(Pair[] pairs) => Seen(nameof(ByPairs), string.Join(";", pairs.Select(Text)));

    [Cached(Alias = UserService.Alias)]
    public partial string ByLookup(Dictionary<string, Pair> lookup);

    private string ByLookupCore(Dictionary<string, Pair> lookup) => Seen(nameof(ByLookup), string.Join(";", lookup.Select(static e => e.Key + ":" + Text(e.Value))));

    [Cached(Alias = UserService.Alias)]
    public partial string ByMap(IReadOnlyDictionary<string, string> map);

    private string ByMapCore(IReadOnlyDictionary<string, string> map) => Seen(nameof(ByMap), string.Join(";", map.Select(static e => e.Key + ":" + e.Value)));

    [Cached(Alias = UserService.Alias)]
    public partial string ByTuple((Pair Pair, int Rank) entry);

    private string ByTupleCore((Pair Pair, int Rank) entry) => Seen(nameof(ByTuple), Text(entry.Pair) + "#" + entry.Rank);

    [Cached(Alias = UserService.Alias)]
    public partial string ByWrapper(Wrapper wrapper);

    private string ByWrapperCore(Wrapper wrapper) => Seen(nameof(ByWrapper), Text(wrapper.Inner) + "/" + wrapper.Tag);

    [Cached(Alias = UserService.Alias)]
    public partial string ByHolder(Holder holder);

    private string ByHolderCore(Holder holder) => Seen(nameof(ByHolder), string.Join("&", holder.Entries.Select(static e => e.Key + "=" + e.Value)));

    [Cached(Alias = UserService.Alias)]
    public partial string ByNode(Node node);

    private string ByNodeCore(Node node) => Seen(nameof(ByNode), (node.Name ?? "<null>") + (node.Next is null ? string.Empty : "+"));

    [Cached(Alias = UserService.Alias)]
    public partial string ByObject(object? value);

    private string ByObjectCore(object? value) => Seen(nameof(ByObject), value?.GetType().Name ?? "null");

    [MultiCached(KeysFrom = "entries", Alias = UserService.Alias, Namespace = "entries")]
    public partial Dictionary<KeyValuePair<string, string>, string> ManyEntries(List<KeyValuePair<string, string>> entries);

    private Dictionary<KeyValuePair<string, string>, string> ManyEntriesCore(List<KeyValuePair<string, string>> entries)
    {
        calls.Hit(nameof(ManyEntries));
        return entries.ToDictionary(static e => e, static e => e.Key + "=" + e.Value);
    }

    private static string Text(Pair pair) => $"{pair.A ?? "<null>"}|{pair.B ?? "<null>"}";

    private string Seen(string method, string result)
    {
        calls.Hit(method);
        return result;
    }
}

/// <summary>[Cached] methods whose keys fill the stack buffer sized for their longest text, to the last character.</summary>
public partial class BoundedKeyService(CallCounter calls)
{
    [Cached(Alias = UserService.Alias, Key = "user:{id}")]
    public partial int ByInt(int id);

    private int ByIntCore(int id)
    {
        calls.Hit(nameof(ByInt));
        return id;
    }

    [Cached(Alias = UserService.Alias, Key = "n:{a}:{b}:{c}:{d}:{e}:{f}")]
    public partial string Wide(long a, double b, decimal c, Guid d, DateTimeOffset e, int? f);

    private string WideCore(long a, double b, decimal c, Guid d, DateTimeOffset e, int? f)
    {
        calls.Hit(nameof(Wide));
        return "w";
    }

    [Cached(Alias = UserService.Alias)]
    public partial string Default(long a, double b, decimal c, DateTimeOffset d, TimeSpan e, bool? f);

    private string DefaultCore(long a, double b, decimal c, DateTimeOffset d, TimeSpan e, bool? f)
    {
        calls.Hit(nameof(Default));
        return "d";
    }

    [Cached(Alias = UserService.Alias, Key = "report:{at}:{time}")]
    public partial string Report(DateTime at, TimeOnly time);

    private string ReportCore(DateTime at, TimeOnly time)
    {
        calls.Hit(nameof(Report));
        return "r";
    }
}
