namespace Cached.Generators.Tests.Scenarios;

/// <summary>A key argument whose text is the same as a string's: <c>"1"</c> in a default key.</summary>
public sealed record Sku(string Value)
{
    public override string ToString() => Value;
}

/// <summary>An overload of <see cref="OverloadService.Ov(int)"/> declared in another part of the type.</summary>
public partial class OverloadService
{
    [Cached(Alias = UserService.Alias)]
    public partial ValueTask<string> Ov(double value);

    private ValueTask<string> OvCore(double value)
    {
        _calls.Hit("Ov(double)");
        return new("double " + value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Cached(Alias = UserService.Alias)]
    public partial string Ov(Sku value);

    private string OvCore(Sku value)
    {
        _calls.Hit("Ov(Sku)");
        return "sku " + value;
    }
}
