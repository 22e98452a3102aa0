using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using BitFaster.Caching.Lru;
using Cached.Benchmarks.Model;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace Cached.Benchmarks;

/// <summary>
/// Bytes per entry (the <c>memory</c> mode of the program, not a BenchmarkDotNet benchmark): the managed heap after a
/// full collection, before and after filling each cache with the same number of entries. The keys and the one value
/// object every entry holds are made before the first reading, so the figure is what the cache itself adds per entry.
/// </summary>
public static class MemoryFootprint
{
    /// <summary>The entries of the measure.</summary>
    public const int DefaultEntries = 1_000_000;

    private static readonly TimeSpan s_ttl = TimeSpan.FromMinutes(10);

    /// <summary>One row of the table.</summary>
    public sealed record Row(string Cache, int Entries, long Bytes)
    {
        public double BytesPerEntry => (double)Bytes / Entries;
    }

    /// <summary>The caches measured, in the table's order; the names are what RESULTS.md looks rows up by.</summary>
    public static IReadOnlyList<(string Name, Func<string[], User, object> Fill)> Subjects { get; } =
    [
        ("ConcurrentDictionary (floor)", static (keys, user) =>
        {
            var store = new ConcurrentDictionary<string, User>(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                store[key] = user;
            }

            return store;
        }),
        ("SimpleMemoryCache", static (keys, user) =>
        {
            var cache = new SimpleMemoryCache();
            foreach (var key in keys)
            {
                cache.Set(key, user);
            }

            return cache;
        }),
        ("SimpleMemoryCache, TTL", static (keys, user) =>
        {
            var cache = new SimpleMemoryCache();
            foreach (var key in keys)
            {
                cache.Set(key, user, s_ttl);
            }

            return cache;
        }),
        ("MemoryCache", static (keys, user) =>
        {
            var cache = new MemoryCache(new MemoryCacheOptions());
            foreach (var key in keys)
            {
                cache.Set(key, user);
            }

            return cache;
        }),
        ("MemoryCache, TTL", static (keys, user) =>
        {
            var cache = new MemoryCache(new MemoryCacheOptions());
            foreach (var key in keys)
            {
                cache.Set(key, user, s_ttl);
            }

            return cache;
        }),
        ("FusionCache", static (keys, user) =>
        {
            var cache = new FusionCache(new FusionCacheOptions { DefaultEntryOptions = new FusionCacheEntryOptions { Duration = s_ttl } });
            foreach (var key in keys)
            {
                cache.Set(key, user);
            }

            return cache;
        }),
        ("BitFaster ConcurrentLru", static (keys, user) =>
        {
            var cache = new ConcurrentLru<string, User>(keys.Length);
            foreach (var key in keys)
            {
                cache.AddOrUpdate(key, user);
            }

            return cache;
        }),
    ];

    /// <summary>Measures every cache with <paramref name="entries"/> entries.</summary>
    public static IReadOnlyList<Row> Measure(int entries, TextWriter? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entries, 1);
        var keys = new string[entries];
        for (var i = 0; i < entries; i++)
        {
            keys[i] = $"user:{i}";
        }

        var user = new User(42, "ada");
        var rows = new List<Row>(Subjects.Count);
        foreach (var (name, fill) in Subjects)
        {
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var cache = fill(keys, user);
            var after = GC.GetTotalMemory(forceFullCollection: true);
            GC.KeepAlive(cache);
            (cache as IDisposable)?.Dispose();
            rows.Add(new Row(name, entries, after - before));
            progress?.WriteLine($"  {name}: {(after - before) / (double)entries:F1} B/entry");
        }

        GC.KeepAlive(keys);
        return rows;
    }

    /// <summary>The rows as a Markdown table, bytes per entry and the ratio to <c>MemoryCache</c>.</summary>
    public static string ToMarkdown(IReadOnlyList<Row> rows)
    {
        var reference = rows.FirstOrDefault(static r => r.Cache == "MemoryCache");
        var text = new StringBuilder();
        text.AppendLine("| Cache | Entries | Bytes/entry | vs MemoryCache |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var row in rows)
        {
            var ratio = reference is null ? "-" : (row.BytesPerEntry / reference.BytesPerEntry).ToString("0.00x", CultureInfo.InvariantCulture);
            text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Cache} | {row.Entries:N0} | {row.BytesPerEntry:F1} | {ratio} |");
        }

        return text.ToString();
    }

    /// <summary>Writes rows as tab-separated lines (cache, entries, bytes), what <see cref="Read"/> reads back.</summary>
    public static void Write(string path, IReadOnlyList<Row> rows)
        => File.WriteAllLines(path, rows.Select(static r => string.Create(CultureInfo.InvariantCulture, $"{r.Cache}\t{r.Entries}\t{r.Bytes}")));

    /// <summary>Reads rows written by <see cref="Write"/>.</summary>
    public static IReadOnlyList<Row> Read(string path)
        => File.ReadLines(path)
            .Select(static line => line.Split('\t'))
            .Where(static parts => parts.Length == 3)
            .Select(static parts => new Row(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture)))
            .ToList();
}
