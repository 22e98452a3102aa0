namespace Cached.Generators.Tests.Scenarios;

/// <summary>
/// Overloads with default keys, spread over two partial declarations (see <c>OverloadService.More.cs</c>): each
/// result names the overload that computed it, so a shared entry shows.
/// </summary>
public partial class OverloadService(CallCounter calls)
{
    private readonly CallCounter _calls = calls;

    [Cached(Alias = UserService.Alias)]
    public partial string Ov(int value);

    private string OvCore(int value)
    {
        _calls.Hit("Ov(int)");
        return "int " + value;
    }

    [Cached(Alias = UserService.Alias)]
    public partial string Ov(long value);

    private string OvCore(long value)
    {
        _calls.Hit("Ov(long)");
        return "long " + value;
    }

    [Cached(Alias = UserService.Alias)]
    public partial Task<string> Ov(string value, CancellationToken cancellationToken = default);

    private Task<string> OvCore(string value, CancellationToken cancellationToken)
    {
        _calls.Hit("Ov(string)");
        return Task.FromResult("string " + value);
    }

    /// <summary>Not cached, beside a cached overload: the cached one is still marked.</summary>
    public string Single(string value) => "plain " + value;

    [Cached(Alias = UserService.Alias)]
    public partial string Single(int value);

    private string SingleCore(int value)
    {
        _calls.Hit("Single(int)");
        return "single " + value;
    }

    /// <summary>A generic overload counts too, though generic methods cannot be cached.</summary>
    public T Generic<T>(T value) => value;

    [Cached(Alias = UserService.Alias)]
    public partial string Generic(int value);

    private string GenericCore(int value) => "generic " + value;

    [Cached(Alias = UserService.Alias)]
    public partial string Alone(int value);

    private string AloneCore(int value) => "alone " + value;
}
