namespace Cached.Generators.Tests.Scenarios;

public sealed record Pair(string? A, string? B);

public sealed record Boxed(string? Value);

public readonly record struct Point(int X, int Y);

public abstract record Shape(string Name);

public sealed record Disc(string Name, int Radius) : Shape(Name);

public sealed record Tile(string Name, int Side) : Shape(Name);

/// <summary>Not sealed: an argument may be of a record derived from it.</summary>
public record Loose(string? A, string? B);

public record Tighter(string? A, string? B, int C) : Loose(A, B);

public sealed record Labelled(string Text)
{
    public override string ToString() => "label:" + Text;
}

/// <summary>[Cached] methods keyed by records: a record's compiler-written text neither quotes nor escapes its members.</summary>
public partial class RecordKeyService(CallCounter calls)
{
    [Cached(Alias = UserService.Alias)]
    public partial string ByPair(Pair pair);

    private string ByPairCore(Pair pair)
    {
        calls.Hit(nameof(ByPair));
        return $"{pair.A ?? "<null>"}|{pair.B ?? "<null>"}";
    }

    [Cached(Alias = UserService.Alias)]
    public partial string ByBoxed(Boxed? boxed);

    private string ByBoxedCore(Boxed? boxed)
    {
        calls.Hit(nameof(ByBoxed));
        return boxed is null ? "no box" : boxed.Value ?? "box of null";
    }

    [Cached(Alias = UserService.Alias)]
    public partial int ByPoint(Point? point);

    private int ByPointCore(Point? point)
    {
        calls.Hit(nameof(ByPoint));
        return point is { } p ? p.X * 10 + p.Y : -1;
    }

    [Cached(Alias = UserService.Alias)]
    public partial string ByLabel(Labelled label);

    private string ByLabelCore(Labelled label)
    {
        calls.Hit(nameof(ByLabel));
        return label.Text;
    }

    [Cached(Alias = UserService.Alias)]
    public partial string ByShape(Shape shape);

    private string ByShapeCore(Shape shape)
    {
        calls.Hit(nameof(ByShape));
        return shape.ToString();
    }

    [Cached(Alias = UserService.Alias)]
    public partial string ByLoose(Loose? loose);

    private string ByLooseCore(Loose? loose)
    {
        calls.Hit(nameof(ByLoose));
        return loose?.ToString() ?? "none";
    }

    public List<List<Pair>> Batches { get; } = [];

    [MultiCached(KeysFrom = "pairs", Alias = UserService.Alias, Namespace = "pairs")]
    public partial Dictionary<Pair, string> ManyPairs(List<Pair> pairs);

    private Dictionary<Pair, string> ManyPairsCore(List<Pair> pairs)
    {
        Batches.Add([.. pairs]);
        return pairs.ToDictionary(static pair => pair, static pair => $"{pair.A ?? "<null>"}|{pair.B ?? "<null>"}");
    }

    [InvalidateCache(nameof(ManyPairs))]
    public partial void DropPair(Pair pairs);

    private void DropPairCore(Pair pairs)
    {
    }
}
