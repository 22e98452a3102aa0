namespace Cached.Benchmarks.Tests;

/// <summary>The memory mode of the program, on few entries: it measures every cache and its table reads back.</summary>
public sealed class MemoryFootprintTests
{
    [Test]
    public void Every_cache_is_measured_and_the_rows_survive_the_file()
    {
        var rows = MemoryFootprint.Measure(entries: 20_000);
        var path = Path.Combine(BenchmarkEnvironment.Folder, "memory.tsv");
        MemoryFootprint.Write(path, rows);

        Assert.Multiple(() =>
        {
            Assert.That(rows.Select(static r => r.Cache), Is.EqualTo(MemoryFootprint.Subjects.Select(static s => s.Name)));
            Assert.That(rows.Select(static r => r.Cache), Does.Contain("SimpleMemoryCache").And.Contain("MemoryCache"));
            Assert.That(rows, Has.All.Matches<MemoryFootprint.Row>(static r => r.Bytes > 0), "a filled cache takes memory");
            Assert.That(MemoryFootprint.Read(path), Is.EqualTo(rows));
            Assert.That(MemoryFootprint.ToMarkdown(rows), Does.Contain("| SimpleMemoryCache | 20,000 |"));
        });
    }
}
