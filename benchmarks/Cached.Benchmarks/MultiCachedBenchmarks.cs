using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Model;

namespace Cached.Benchmarks;

/// <summary>
/// A <c>[MultiCached]</c> method asked for <see cref="KeysPerCall"/> keys against the same keys asked one by one from
/// a <c>[Cached]</c> method (the baseline), with all, half or none of them cached. Both methods share their entries.
/// With half or no hits, every iteration empties the cache and prepares fresh keys for each of its calls, so a call
/// finds exactly the share of hits it is meant to. With all hits the keys are prepared once and every iteration reads
/// them again: keys that keep hitting are warm, and a server that has just taken thousands of fresh keys is still
/// rehashing its tables, which is not the steady state a hit measures. Derived classes fix the backend and the calls
/// per iteration.
/// </summary>
public abstract class MultiCachedBenchmarks
{
    public const int KeysPerCall = 100;

    /// <summary>The namespace both methods of a derived class use, so that they share entries.</summary>
    protected const string Namespace = "cached-bench-multi";

    private int[][] _batches = [];
    private int _batch;
    private int _nextId;

    [Params(HitShare.All, HitShare.Half, HitShare.None)]
    public HitShare Hits { get; set; }

    /// <summary>The cache both generated methods use.</summary>
    protected abstract ICache Cache { get; }

    /// <summary>Calls per iteration: the class's <see cref="InvocationCountAttribute"/>.</summary>
    protected abstract int CallsPerIteration { get; }

    [IterationSetup]
    public void PrepareIteration() => Prepare(CallsPerIteration);

    [Benchmark(Baseline = true, Description = "100 calls of [Cached]")]
    public User SingleCalls()
    {
        var ids = NextBatch();
        User last = null!;
        foreach (var id in ids)
        {
            last = GetUser(id);
        }

        return last;
    }

    [Benchmark(Description = "[MultiCached], 100 keys")]
    public Dictionary<int, User> MultiCached() => GetUsers(NextBatch());

    /// <summary>The generated <c>[MultiCached(KeysFrom = "ids")]</c> method.</summary>
    protected abstract Dictionary<int, User> GetUsers(IReadOnlyList<int> ids);

    /// <summary>The generated <c>[Cached(Key = "{id}")]</c> method, same namespace.</summary>
    protected abstract User GetUser(int id);

    /// <summary>Empties the cache, makes <paramref name="calls"/> batches of new ids and caches the share that must hit.</summary>
    protected void Prepare(int calls)
    {
        if (Hits == HitShare.All && _batches.Length == calls)
        {
            _batch = 0;
            return;
        }

        Empty();
        var cachedPerCall = Hits switch
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
            Cache.MultiSet(warm, @namespace: Namespace);
        }

        _batch = 0;
    }

    /// <summary>Empties the namespace before an iteration; a backend whose clearing finishes later overrides it.</summary>
    protected virtual void Empty() => Cache.Clear(Namespace);

    /// <summary>The next prepared batch (wrapping around only if BenchmarkDotNet calls more often than it was told).</summary>
    protected int[] NextBatch() => _batches[_batch++ % _batches.Length];

    /// <summary>The body of both methods: one value per missing id.</summary>
    protected static Dictionary<int, User> Load(IReadOnlyList<int> ids)
    {
        var users = new Dictionary<int, User>(ids.Count);
        foreach (var id in ids)
        {
            users[id] = new User(id, "ada");
        }

        return users;
    }
}
