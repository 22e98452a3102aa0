using BenchmarkDotNet.Attributes;

namespace Cached.Benchmarks;

/// <summary><see cref="MultiCachedHitBenchmarks"/> on <see cref="SimpleMemoryCache"/>.</summary>
[MemoryDiagnoser]
public class MultiCachedMemoryBenchmarks : MultiCachedHitBenchmarks
{
    protected override MultiCachedBackend CreateBackend() => new MemoryMultiCachedBackend();
}

/// <summary><see cref="MultiCachedMissBenchmarks"/> on <see cref="SimpleMemoryCache"/>.</summary>
[MemoryDiagnoser]
[InvocationCount(Calls)]
public class MultiCachedMemoryMissBenchmarks : MultiCachedMissBenchmarks
{
    private const int Calls = 4_096;

    protected override int CallsPerIteration => Calls;

    protected override MultiCachedBackend CreateBackend() => new MemoryMultiCachedBackend();
}
