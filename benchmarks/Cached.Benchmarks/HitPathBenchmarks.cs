using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Cached;

namespace Cached.Benchmarks;

/// <summary>A hit of a generated [Cached] method on SimpleMemoryCache, against a hand-written dictionary lookup.</summary>
[MemoryDiagnoser]
public partial class HitPathBenchmarks
{
    private readonly ConcurrentDictionary<string, User> _floor = new();
    private int _id = 42;

    public sealed record User(int Id, string Name);

    [GlobalSetup]
    public void Warm()
    {
        _floor[$"user:{_id}"] = new User(_id, "ada");
        _floor["constant"] = new User(0, "ada");
        GetUser(_id);
        GetConstant();
        GetUserAsync(_id).GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, Description = "floor: ConcurrentDictionary, key built per call")]
    public User FloorWithKey() => _floor[$"user:{_id}"];

    [Benchmark(Description = "floor: ConcurrentDictionary, constant key")]
    public User FloorConstant() => _floor["constant"];

    [Benchmark(Description = "[Cached] parameterless, sync")]
    public User CachedParameterless() => GetConstant();

    [Benchmark(Description = "[Cached] one int, sync")]
    public User CachedOneArgument() => GetUser(_id);

    [Benchmark(Description = "[Cached] one int, ValueTask")]
    public ValueTask<User> CachedOneArgumentAsync() => GetUserAsync(_id);

    [Cached(Key = "constant")]
    private partial User GetConstant();

    private User GetConstantCore() => new(0, "ada");

    [Cached(Key = "user:{id}")]
    private partial User GetUser(int id);

    private User GetUserCore(int id) => new(id, "ada");

    [Cached(Key = "user-async:{id}")]
    private partial ValueTask<User> GetUserAsync(int id);

    private ValueTask<User> GetUserAsyncCore(int id) => new(new User(id, "ada"));
}
