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

    [Cached(Alias = UserService.Alias)]
    public partial string Find(int id);

    private string FindCore(int id)
    {
        _calls.Hit("Find(int)");
        return "find " + id;
    }

    [Cached(Alias = UserService.Alias)]
    public partial string Find(int id, string region);

    private string FindCore(int id, string region)
    {
        _calls.Hit("Find(int, string)");
        return "find " + id + region;
    }

    /// <summary>Has the parameters of both overloads of Find: the entries of both are dropped.</summary>
    [InvalidateCache(nameof(Find))]
    public partial void ForgetFind(int id, string region);

    private void ForgetFindCore(int id, string region)
    {
    }

    /// <summary>Has only the parameters of Find(int): the other overload's entries stay.</summary>
    [InvalidateCache(nameof(Find))]
    public partial Task ForgetFindAsync(int id);

    private Task ForgetFindAsyncCore(int id) => Task.CompletedTask;
}
