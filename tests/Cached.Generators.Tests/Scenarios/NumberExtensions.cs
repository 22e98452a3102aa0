namespace Cached.Generators.Tests.Scenarios;

/// <summary>[Cached] extension methods, sync and async, in a static partial class.</summary>
public static partial class NumberExtensions
{
    /// <summary>Counts body calls; the tests reset it.</summary>
    public static CallCounter Calls { get; set; } = new();

    [Cached(Alias = UserService.Alias)]
    public static partial int Twice(this int x);

    private static int TwiceCore(this int x)
    {
        Calls.Hit(nameof(Twice));
        return x * 2;
    }

    [Cached(Alias = UserService.Alias, Key = "thrice:{x}")]
    public static partial Task<int> ThriceAsync(this int x, CancellationToken cancellationToken = default);

    private static Task<int> ThriceAsyncCore(int x, CancellationToken cancellationToken)
    {
        Calls.Hit(nameof(ThriceAsync));
        return Task.FromResult(x * 3);
    }

    [Cached(Alias = UserService.Alias)]
    public static partial ValueTask<string> ShoutAsync(this string text, int times);

    private static ValueTask<string> ShoutAsyncCore(string text, int times)
    {
        Calls.Hit(nameof(ShoutAsync));
        return new(string.Concat(Enumerable.Repeat(text.ToUpperInvariant(), times)));
    }

    [InvalidateCache(nameof(Twice))]
    public static partial void ForgetTwice(this int x);

    private static void ForgetTwiceCore(int x)
    {
    }
}
