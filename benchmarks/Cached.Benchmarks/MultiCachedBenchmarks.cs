using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Model;

namespace Cached.Benchmarks;

/// <summary>
/// A <c>[MultiCached]</c> method asked for <see cref="KeysPerCall"/> keys against the same keys asked one by one from
/// a <c>[Cached]</c> method (the baseline). Both methods live in a <see cref="MultiCachedBackend"/> and share its
/// entries. Derived classes pick the backend and how many of a call's keys are cached: all of them
/// (<see cref="MultiCachedHitBenchmarks"/>, a steady state) or half and none (<see cref="MultiCachedMissBenchmarks"/>,
/// fresh keys prepared before every iteration).
/// </summary>
public abstract class MultiCachedBenchmarks
{
    public const int KeysPerCall = 100;

    /// <summary>The namespace both methods use, so that they share entries.</summary>
    public const string Namespace = "cached-bench-multi";

    private int[][] _batches = [];
    private int _batch;
    private int _nextId;

    /// <summary>The backend's generated methods, made by <see cref="CreateBackend"/> in the global setup.</summary>
    protected MultiCachedBackend Backend { get; private set; } = null!;

    [Benchmark(Baseline = true, Description = "100 calls of [Cached]")]
    public User SingleCalls()
    {
        var ids = NextBatch();
        User last = null!;
        foreach (var id in ids)
        {
            last = Backend.GetUser(id);
        }

        return last;
    }

    [Benchmark(Description = "[MultiCached], 100 keys")]
    public Dictionary<int, User> MultiCached() => Backend.GetUsers(NextBatch());

    /// <summary>Makes the backend; the Redis one fails here when no server is configured.</summary>
    protected abstract MultiCachedBackend CreateBackend();

    /// <summary>Makes the backend once per benchmark process.</summary>
    protected void StartBackend() => Backend = CreateBackend();

    [GlobalCleanup]
    public void StopBackend()
    {
        Backend?.Clear();
        Backend?.Dispose();
    }

    /// <summary>
    /// Empties the cache, makes <paramref name="calls"/> batches of new ids and caches <paramref name="share"/> of
    /// each batch, so that every call finds exactly that share of hits.
    /// </summary>
    protected void Prepare(HitShare share, int calls)
    {
        Backend.Empty();
        var cachedPerCall = share switch
        {
            HitShare.All => KeysPerCall,
            HitShare.Half => KeysPerCall / 2,
            _ => 0,
        };

        _batches = new int[calls][];
        var warm = new List<KeyValuePair<string, User>>(calls * cachedPerCall);
        for (var call = 0; call < calls; call++)
        {
            var batch = new int[KeysPerCall];
            for (var i = 0; i < KeysPerCall; i++)
            {
                batch[i] = ++_nextId;
                if (i < cachedPerCall)
                {
                    warm.Add(new KeyValuePair<string, User>(batch[i].ToString(System.Globalization.CultureInfo.InvariantCulture), new User(batch[i], "ada")));
                }
            }

            _batches[call] = batch;
        }

        if (warm.Count > 0)
        {
            Backend.Cache.MultiSet(warm, @namespace: Namespace);
        }

        _batch = 0;
    }

    /// <summary>The next prepared batch, wrapping around (all-hit batches are read again and again).</summary>
    protected int[] NextBatch() => _batches[_batch++ % _batches.Length];
}

/// <summary>
/// Every key of every call hits. The keys are prepared once and the calls cycle through
/// <see cref="Batches"/> batches of them, with no per-iteration setup: BenchmarkDotNet sizes the iterations itself,
/// as for any steady-state benchmark. (Measured with a per-iteration setup of 64 calls instead, the same
/// <c>[MultiCached]</c> hit on Redis took 356 µs rather than 140 µs on this machine, while the 100 single calls
/// stayed at 5 ms: iterations of a few milliseconds measure the process waking up, not the call.)
/// </summary>
public abstract class MultiCachedHitBenchmarks : MultiCachedBenchmarks
{
    /// <summary>Distinct batches the calls cycle through: 6,400 keys, so each call reads keys the previous did not.</summary>
    public const int Batches = 64;

    /// <summary>Always <see cref="HitShare.All"/>; a parameter so that the row says so.</summary>
    [Params(HitShare.All)]
    public HitShare Hits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        StartBackend();
        Prepare(HitShare.All, Batches);
        AfterSetup();
    }

    /// <summary>Runs after the keys are prepared (the Redis class counts commands here).</summary>
    protected virtual void AfterSetup()
    {
    }
}

/// <summary>
/// Half or none of a call's keys are cached. Every call must find fresh keys, so every iteration empties the cache
/// and prepares <see cref="CallsPerIteration"/> batches before it runs: the class fixes the invocation count.
/// </summary>
public abstract class MultiCachedMissBenchmarks : MultiCachedBenchmarks
{
    [Params(HitShare.Half, HitShare.None)]
    public HitShare Hits { get; set; }

    /// <summary>Calls per iteration: the class's <see cref="InvocationCountAttribute"/>.</summary>
    protected abstract int CallsPerIteration { get; }

    [GlobalSetup]
    public void Setup()
    {
        StartBackend();
        AfterSetup();
    }

    [IterationSetup]
    public void PrepareIteration() => Prepare(Hits, CallsPerIteration);

    /// <summary>Runs after the backend is made (the Redis class counts commands here).</summary>
    protected virtual void AfterSetup()
    {
    }
}
