using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Cached.Pipeline;
using Cached.Runtime;

namespace Cached.Tests.Leaks;

/// <summary>
/// Counts of the per-key and per-call state the leak review watches, read from private fields. Each read fails its
/// test loudly when the field is renamed, so a count never silently reads as zero.
/// </summary>
internal static class Internals
{
    private const BindingFlags Instance = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance;

    public static object? Field(object owner, string name)
    {
        for (var type = owner.GetType(); type is not null; type = type.BaseType)
        {
            if (type.GetField(name, Instance) is { } field)
            {
                return field.GetValue(owner);
            }
        }

        Assert.Fail($"{owner.GetType().Name} has no field {name}");
        return null;
    }

    /// <summary>The flights a [Cached] method (or GetOrSet's core) still has on its board.</summary>
    public static int Flights<T>(CachedMethod<T> method) => ((FlightBoard)Field(method, "_flights")!).Count;

    /// <summary>The keys a [MultiCached] method still has in flight.</summary>
    public static int BatchFlights<TKey, TValue>(MultiCachedMethod<TKey, TValue> method)
        where TKey : notnull
        => ((ICollection)Field(method, "_flying")!).Count;

    public static FillFences Fences(BaseCache cache) => (FillFences)Field(cache, "_fences")!;

    /// <summary>Fills open on the cache's fences, and the per-key fences a remote store keeps.</summary>
    public static (int Open, int Keyed) FenceState(BaseCache cache)
    {
        var fences = Fences(cache);
        return (fences.OpenCount, (Field(fences, "_keyed") as ICollection)?.Count ?? 0);
    }

    public static int MemoryEntries(SimpleMemoryCache cache) => ((ICollection)Field(Field(cache, "_store")!, "_entries")!).Count;

    /// <summary>The callbacks registered on <paramref name="source"/>'s token and not yet removed.</summary>
    public static int Registrations(CancellationTokenSource source)
    {
        var registrations = Field(source, "_registrations");
        var count = 0;
        for (var node = registrations is null ? null : Field(registrations, "Callbacks"); node is not null; node = Field(node, "Next"))
        {
            count++;
        }

        return count;
    }

    /// <summary>Waits (bounded) until <paramref name="settled"/> holds, for work that ends on another thread.</summary>
    public static void Settle(Func<bool> settled)
    {
        var until = DateTime.UtcNow.AddSeconds(5);
        while (!settled() && DateTime.UtcNow < until)
        {
            Thread.Sleep(10);
        }
    }

    /// <summary>
    /// <see cref="Settle"/> for a test that ends on an await: each poll awaits a delay, so the test's own thread returns
    /// to the pool between polls. A completion that ran the test's continuation inline finishes its own work (a wait's
    /// <see cref="Task.WaitAsync(CancellationToken)"/> lets go of its token registration only after its continuations
    /// return) once that thread unwinds, which a synchronous poll on that same thread would block for ever.
    /// </summary>
    public static async Task SettleAsync(Func<bool> settled)
    {
        var until = DateTime.UtcNow.AddSeconds(5);
        while (!settled() && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }
    }

    /// <summary>Whether what <paramref name="make"/> made and let go of is still reachable after full collections.</summary>
    public static bool StaysReachable(Func<object> make)
    {
        var weak = MakeWeak(make);
        for (var i = 0; i < 5 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        return weak.IsAlive;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference MakeWeak(Func<object> make) => new(make());
}
