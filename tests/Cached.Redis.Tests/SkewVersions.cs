using System.Collections.Concurrent;

namespace Cached.Redis.Tests;

/// <summary>What version 1 of an application caches: a product whose price is a number.</summary>
public sealed record SkewProductV1(string Name, int Price);

/// <summary>What version 2 caches under the same keys: the record became a class, its price a text.</summary>
public sealed class SkewProductV2
{
    public string Name { get; init; } = "";

    public string Price { get; init; } = "";
}

/// <summary>Version 2 with a property added, marked <c>required</c> so that an entry without it cannot be read.</summary>
public sealed record SkewProductRequired
{
    public required string Name { get; init; }

    public required int Price { get; init; }

    public required int Stock { get; init; }
}

/// <summary>
/// The bodies of both versions: each counts its calls by version and method, so a test sees which calls ran
/// uncached.
/// </summary>
internal static class SkewSource
{
    private static readonly ConcurrentDictionary<string, int> s_calls = new();

    public static void Reset() => s_calls.Clear();

    public static int Calls(string what) => s_calls.TryGetValue(what, out var count) ? count : 0;

    public static void Count(string what) => s_calls.AddOrUpdate(what, 1, static (_, count) => count + 1);
}

/// <summary>Version 1's generated methods, on the alias <see cref="Alias"/>.</summary>
public partial class SkewV1
{
    public const string Alias = "skew-v1";

    [Cached(Alias = Alias, Key = "shape:{id}", Ttl = 60)]
    public partial Task<SkewProductV1> ShapeAsync(int id);

    private Task<SkewProductV1> ShapeAsyncCore(int id) => Task.FromResult(Product(nameof(ShapeAsync), id));

    [Cached(Alias = Alias, Key = "shape-vt:{id}", Ttl = 60)]
    public partial ValueTask<SkewProductV1> ShapeValueAsync(int id);

    private ValueTask<SkewProductV1> ShapeValueAsyncCore(int id) => new(Product(nameof(ShapeValueAsync), id));

    [Cached(Alias = Alias, Key = "shape-sync:{id}", Ttl = 60)]
    public partial SkewProductV1 Shape(int id);

    private SkewProductV1 ShapeCore(int id) => Product(nameof(Shape), id);

    [Cached(Alias = Alias, Key = "forever:{id}")]
    public partial Task<SkewProductV1> ForeverAsync(int id);

    private Task<SkewProductV1> ForeverAsyncCore(int id) => Task.FromResult(Product(nameof(ForeverAsync), id));

    [Cached(Alias = Alias, Key = "leased:{id}", Ttl = 60, Lease = 10)]
    public partial Task<SkewProductV1> LeasedAsync(int id);

    private Task<SkewProductV1> LeasedAsyncCore(int id) => Task.FromResult(Product(nameof(LeasedAsync), id));

    [Cached(Alias = Alias, Key = "safe:{id}", Ttl = 60)]
    public partial Task<SkewProductV1> SafeAsync(int id);

    private Task<SkewProductV1> SafeAsyncCore(int id) => Task.FromResult(Product(nameof(SafeAsync), id));

    [Cached(Alias = Alias, Key = "added:{id}", Ttl = 60)]
    public partial Task<SkewProductV1> AddedAsync(int id);

    private Task<SkewProductV1> AddedAsyncCore(int id) => Task.FromResult(Product(nameof(AddedAsync), id));

    [Cached(Alias = Alias, Key = "count:{id}", Ttl = 60)]
    public partial Task<int?> CountAsync(int id);

    private Task<int?> CountAsyncCore(int id)
    {
        SkewSource.Count("v1:" + nameof(CountAsync));
        return Task.FromResult<int?>(null);
    }

    [Cached(Alias = Alias, Key = "list:{id}", Ttl = 60)]
    public partial Task<List<int>> ListAsync(int id);

    private Task<List<int>> ListAsyncCore(int id)
    {
        SkewSource.Count("v1:" + nameof(ListAsync));
        return Task.FromResult(new List<int> { id, id + 1 });
    }

    [Cached(Alias = Alias, Key = "tagged:{id}", Ttl = 60)]
    public partial Task<string> TaggedAsync(int id);

    private Task<string> TaggedAsyncCore(int id)
    {
        SkewSource.Count("v1:" + nameof(TaggedAsync));
        return Task.FromResult("v1:" + id);
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", KeyBuilder = nameof(ManyKey), Ttl = 60)]
    public partial Task<Dictionary<int, SkewProductV1>> ManyAsync(IReadOnlyList<int> ids);

    private static string ManyKey(int id) => "many:" + id;

    private Task<Dictionary<int, SkewProductV1>> ManyAsyncCore(IReadOnlyList<int> ids)
    {
        SkewSource.Count("v1:" + nameof(ManyAsync));
        return Task.FromResult(ids.ToDictionary(id => id, id => new SkewProductV1("p" + id, id)));
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", KeyBuilder = nameof(TaggedManyKey), Ttl = 60)]
    public partial Task<Dictionary<int, string>> TaggedManyAsync(IReadOnlyList<int> ids);

    private static string TaggedManyKey(int id) => "tagged-many:" + id;

    private Task<Dictionary<int, string>> TaggedManyAsyncCore(IReadOnlyList<int> ids)
    {
        SkewSource.Count("v1:" + nameof(TaggedManyAsync));
        return Task.FromResult(ids.ToDictionary(id => id, id => "v1:" + id));
    }

    private static SkewProductV1 Product(string method, int id)
    {
        SkewSource.Count("v1:" + method);
        return new SkewProductV1("p" + id, id);
    }
}

/// <summary>Version 2's generated methods over the same keys, on the alias <see cref="Alias"/>.</summary>
public partial class SkewV2
{
    public const string Alias = "skew-v2";

    [Cached(Alias = Alias, Key = "shape:{id}", Ttl = 60)]
    public partial Task<SkewProductV2> ShapeAsync(int id);

    private Task<SkewProductV2> ShapeAsyncCore(int id) => Task.FromResult(Product(nameof(ShapeAsync), id));

    [Cached(Alias = Alias, Key = "shape-vt:{id}", Ttl = 60)]
    public partial ValueTask<SkewProductV2> ShapeValueAsync(int id);

    private ValueTask<SkewProductV2> ShapeValueAsyncCore(int id) => new(Product(nameof(ShapeValueAsync), id));

    [Cached(Alias = Alias, Key = "shape-sync:{id}", Ttl = 60)]
    public partial SkewProductV2 Shape(int id);

    private SkewProductV2 ShapeCore(int id) => Product(nameof(Shape), id);

    [Cached(Alias = Alias, Key = "forever:{id}")]
    public partial Task<SkewProductV2> ForeverAsync(int id);

    private Task<SkewProductV2> ForeverAsyncCore(int id) => Task.FromResult(Product(nameof(ForeverAsync), id));

    [Cached(Alias = Alias, Key = "leased:{id}", Ttl = 60, Lease = 10)]
    public partial Task<SkewProductV2> LeasedAsync(int id);

    private Task<SkewProductV2> LeasedAsyncCore(int id) => Task.FromResult(Product(nameof(LeasedAsync), id));

    [Cached(Alias = Alias, Key = "safe:{id}", Ttl = 60, FailSafe = 600)]
    public partial Task<SkewProductV2> SafeAsync(int id);

    private Task<SkewProductV2> SafeAsyncCore(int id) => Task.FromResult(Product(nameof(SafeAsync), id));

    [Cached(Alias = Alias, Key = "added:{id}", Ttl = 60)]
    public partial Task<SkewProductRequired> AddedAsync(int id);

    private Task<SkewProductRequired> AddedAsyncCore(int id)
    {
        SkewSource.Count("v2:" + nameof(AddedAsync));
        return Task.FromResult(new SkewProductRequired { Name = "p" + id, Price = id, Stock = 7 });
    }

    [Cached(Alias = Alias, Key = "count:{id}", Ttl = 60)]
    public partial Task<int> CountAsync(int id);

    private Task<int> CountAsyncCore(int id)
    {
        SkewSource.Count("v2:" + nameof(CountAsync));
        return Task.FromResult(id * 10);
    }

    [Cached(Alias = Alias, Key = "list:{id}", Ttl = 60)]
    public partial Task<int[]> ListAsync(int id);

    private Task<int[]> ListAsyncCore(int id)
    {
        SkewSource.Count("v2:" + nameof(ListAsync));
        return Task.FromResult(new[] { -1 });
    }

    [Cached(Alias = Alias, Key = "tagged:{id}", Ttl = 60, Tags = new[] { "product:{id}" })]
    public partial Task<string> TaggedAsync(int id);

    private Task<string> TaggedAsyncCore(int id)
    {
        SkewSource.Count("v2:" + nameof(TaggedAsync));
        return Task.FromResult("v2:" + id);
    }

    [Cached(Alias = Alias, Key = "tagged:{id}", Ttl = 60, Tags = new[] { "product:{id}" })]
    public partial string Tagged(int id);

    private string TaggedCore(int id)
    {
        SkewSource.Count("v2:" + nameof(Tagged));
        return "v2:" + id;
    }

    /// <summary>Tagged by each id: with no ids, its entries carry no tags.</summary>
    [Cached(Alias = Alias, Key = "group:{ids}", Ttl = 60, Tags = new[] { "product:{ids}" })]
    public partial Task<string> GroupAsync(int[] ids);

    private Task<string> GroupAsyncCore(int[] ids)
    {
        SkewSource.Count("v2:" + nameof(GroupAsync));
        return Task.FromResult("group of " + ids.Length);
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", KeyBuilder = nameof(TaggedManyKey), Ttl = 60, Tags = new[] { "product:{ids}" })]
    public partial Dictionary<int, string> TaggedMany(IReadOnlyList<int> ids);

    private static string TaggedManyKey(int id) => "tagged-many:" + id;

    private Dictionary<int, string> TaggedManyCore(IReadOnlyList<int> ids)
    {
        SkewSource.Count("v2:" + nameof(TaggedMany));
        return ids.ToDictionary(id => id, id => "v2:" + id);
    }

    [InvalidateTags("product:{id}", Alias = Alias)]
    public partial Task ChangedAsync(int id);

    private Task ChangedAsyncCore(int id) => Task.CompletedTask;

    [MultiCached(Alias = Alias, KeysFrom = "ids", KeyBuilder = nameof(ManyKey), Ttl = 60)]
    public partial Task<Dictionary<int, SkewProductV2>> ManyAsync(IReadOnlyList<int> ids);

    private static string ManyKey(int id) => "many:" + id;

    private Task<Dictionary<int, SkewProductV2>> ManyAsyncCore(IReadOnlyList<int> ids)
    {
        SkewSource.Count("v2:" + nameof(ManyAsync));
        return Task.FromResult(ids.ToDictionary(id => id, id => new SkewProductV2 { Name = "p" + id, Price = "$" + id }));
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", KeyBuilder = nameof(ManyKey), Ttl = 60, FailSafe = 600)]
    public partial Dictionary<int, SkewProductV2> ManySafe(IReadOnlyList<int> ids);

    private Dictionary<int, SkewProductV2> ManySafeCore(IReadOnlyList<int> ids)
    {
        SkewSource.Count("v2:" + nameof(ManySafe));
        return ids.ToDictionary(id => id, id => new SkewProductV2 { Name = "p" + id, Price = "$" + id });
    }

    private static SkewProductV2 Product(string method, int id)
    {
        SkewSource.Count("v2:" + method);
        return new SkewProductV2 { Name = "p" + id, Price = "$" + id };
    }
}

/// <summary>The same result type in both versions; version 2 turned on fail-safe and tags.</summary>
public partial class SkewSameV1
{
    public const string Alias = SkewV1.Alias;

    [Cached(Alias = Alias, Key = "mixed:{id}", Ttl = 60)]
    public partial Task<SkewProductV1> MixedAsync(int id);

    private Task<SkewProductV1> MixedAsyncCore(int id)
    {
        SkewSource.Count("v1:" + nameof(MixedAsync));
        return Task.FromResult(new SkewProductV1("v1", id));
    }

    [Cached(Alias = Alias, Key = "mixed-text:{id}", Ttl = 60)]
    public partial Task<string> TextAsync(int id);

    private Task<string> TextAsyncCore(int id)
    {
        SkewSource.Count("v1:" + nameof(TextAsync));
        return Task.FromResult("v1:" + id);
    }
}

/// <inheritdoc cref="SkewSameV1"/>
public partial class SkewSameV2
{
    public const string Alias = SkewV2.Alias;

    [Cached(Alias = Alias, Key = "mixed:{id}", Ttl = 60, FailSafe = 600)]
    public partial Task<SkewProductV1> MixedAsync(int id);

    private Task<SkewProductV1> MixedAsyncCore(int id)
    {
        SkewSource.Count("v2:" + nameof(MixedAsync));
        return Task.FromResult(new SkewProductV1("v2", id));
    }

    [Cached(Alias = Alias, Key = "mixed-text:{id}", Ttl = 60, FailSafe = 600)]
    public partial Task<string> TextAsync(int id);

    private Task<string> TextAsyncCore(int id)
    {
        SkewSource.Count("v2:" + nameof(TextAsync));
        return Task.FromResult("v2:" + id);
    }
}
