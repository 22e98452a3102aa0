using System.Runtime.CompilerServices;
using Cached.Serializers;

namespace Cached.Generators.Tests.Scenarios;

/// <summary>
/// Sequence results: lazy bodies (<c>yield return</c>) that count their runs, so a cached iterator that ran the body
/// again on each enumeration would show.
/// </summary>
public partial class SequenceService(CallCounter calls)
{
    private readonly CallCounter _calls = calls;

    /// <summary>Lets a test hold <see cref="Stream"/> after its first item.</summary>
    public Task Gate { get; set; } = Task.CompletedTask;

    [Cached(Alias = UserService.Alias)]
    public partial IEnumerable<int> Numbers(int count);

    private IEnumerable<int> NumbersCore(int count)
    {
        _calls.Hit(nameof(Numbers));
        for (var i = 1; i <= count; i++)
        {
            yield return i;
        }
    }

    [Cached(Alias = UserService.Alias, Key = "words:{prefix}")]
    public partial Task<IEnumerable<string>> WordsAsync(string prefix, CancellationToken cancellationToken = default);

    private async Task<IEnumerable<string>> WordsAsyncCore(string prefix, CancellationToken cancellationToken)
    {
        _calls.Hit(nameof(WordsAsync));
        await Task.Yield();
        return Words(prefix);
    }

    private IEnumerable<string> Words(string prefix)
    {
        _calls.Hit(nameof(Words));
        yield return prefix + "a";
        yield return prefix + "b";
    }

    [Cached(Alias = UserService.Alias, SkipCacheWhen = nameof(IsEmpty))]
    public partial IAsyncEnumerable<int> Stream(int count, CancellationToken cancellationToken = default);

    private async IAsyncEnumerable<int> StreamCore(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        _calls.Hit(nameof(Stream));
        for (var i = 1; i <= count; i++)
        {
            await Gate.WaitAsync(cancellationToken);
            yield return i;
        }
    }

    private static bool IsEmpty(IReadOnlyCollection<int> items) => items.Count == 0;

    /// <summary>A cache of its own that serializes, as Redis does: the items must round-trip as an array.</summary>
    [Cached(Cache = typeof(SimpleMemoryCache), Serializer = typeof(JsonSerializer), Key = "users:{from}")]
    public static partial IAsyncEnumerable<User> SerializedUsers(int from);

    private static async IAsyncEnumerable<User> SerializedUsersCore(int from)
    {
        await Task.Yield();
        yield return new User(from, "user" + from);
        yield return new User(from + 1, "user" + (from + 1));
    }

    [InvalidateCache(nameof(Numbers), nameof(Stream))]
    public partial void Forget(int count);

    private void ForgetCore(int count)
    {
    }

    /// <summary>Memory arguments: keyed by their elements, as arrays are.</summary>
    [Cached(Alias = UserService.Alias)]
    public partial int Sum(ReadOnlyMemory<int> values);

    private int SumCore(ReadOnlyMemory<int> values)
    {
        _calls.Hit(nameof(Sum));
        var total = 0;
        foreach (var value in values.Span)
        {
            total += value;
        }

        return total;
    }

    /// <inheritdoc cref="Sum"/>
    [Cached(Alias = UserService.Alias)]
    public partial int Length(Memory<byte> bytes);

    private int LengthCore(Memory<byte> bytes)
    {
        _calls.Hit(nameof(Length));
        return bytes.Length;
    }

    /// <summary>A nullable memory: keyed by its elements too, or as null.</summary>
    [Cached(Alias = UserService.Alias)]
    public partial int Count(Memory<long>? values);

    private int CountCore(Memory<long>? values)
    {
        _calls.Hit(nameof(Count));
        return values?.Length ?? -1;
    }

    /// <summary>A sequence of segments: keyed by its elements too, whatever its segments.</summary>
    [Cached(Alias = UserService.Alias)]
    public partial long Checksum(System.Buffers.ReadOnlySequence<byte> payload);

    private long ChecksumCore(System.Buffers.ReadOnlySequence<byte> payload)
    {
        _calls.Hit(nameof(Checksum));
        long sum = 0;
        foreach (var segment in payload)
        {
            foreach (var b in segment.Span)
            {
                sum += b;
            }
        }

        return sum;
    }

    /// <summary>A dictionary argument: keyed entry by entry.</summary>
    [Cached(Alias = UserService.Alias)]
    public partial string Describe(Dictionary<string, string> pairs);

    private string DescribeCore(Dictionary<string, string> pairs)
    {
        _calls.Hit(nameof(Describe));
        return string.Join(";", pairs.Select(static p => p.Key + "=" + p.Value));
    }
}
