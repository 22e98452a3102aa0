using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// A [MultiCached] KeyBuilder that takes the method's other arguments after the key, as aiocache's multi_cached
/// key_builder(key, f, *args, **kwargs) does: <c>string KeyOf(int id, Region region)</c> for
/// <c>ByRegion(List&lt;int&gt; ids, Region region)</c>, so that each region has entries of its own. An invalidating
/// method passes the same arguments by name.
/// </summary>
public sealed class MultiCachedKeyBuilderArgumentsTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;

        """;

    [SetUp]
    [TearDown]
    public void EmptyTheDefaultCache()
    {
        Caches.Reset();
        Caches.Get().Clear();
    }

    [Test]
    public void Each_region_has_entries_of_its_own_and_the_builder_writes_them()
    {
        var scenario = UserScenario.Build(Usings, ["""
            namespace Shop
            {
                public enum Region { Eu, Us }

                public partial class Prices
                {
                    public int Calls;

                    [MultiCached(KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(PriceKey))]
                    public partial Dictionary<int, string> ByRegion(List<int> ids, Region region, [CacheKeyIgnore] string traceId);
                    private Dictionary<int, string> ByRegionCore(List<int> ids, Region region, string traceId)
                    {
                        Calls++;
                        return ids.ToDictionary(id => id, id => region + ":" + id);
                    }

                    private static string PriceKey(int id, Region region) => "price:" + region + ":" + id;

                    [InvalidateCache(nameof(ByRegion))]
                    public partial void Change(int ids, Region region);
                    private void ChangeCore(int ids, Region region) { }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var prices = new Prices();
                        var eu = prices.ByRegion([1, 2], Region.Eu, "a");
                        var us = prices.ByRegion([1, 2], Region.Us, "b");
                        var euAgain = prices.ByRegion([1, 2], Region.Eu, "c");
                        var stored = Caches.Get().Get<string>("price:Us:2");
                        var callsBefore = prices.Calls;
                        prices.Change(1, Region.Eu);
                        var afterChange = prices.ByRegion([1, 2], Region.Eu, "d");
                        var usAfter = prices.ByRegion([1, 2], Region.Us, "e");
                        return string.Join(",", eu.Values) + " " + string.Join(",", us.Values) + " " + string.Join(",", euAgain.Values)
                            + " " + stored + " " + callsBefore + " " + afterChange[1] + " " + usAfter[1] + " " + prices.Calls;
                    }
                }
            }
            """]);

        // Eu and Us ran once each; Eu again hit; the change dropped Eu's 1 alone (one more call, for that key); Us stayed.
        Assert.That(UserScenario.Run(scenario), Is.EqualTo("Eu:1,Eu:2 Us:1,Us:2 Eu:1,Eu:2 Us:2 2 Eu:1 Us:1 3"));
    }

    [Test]
    public async Task An_async_instance_builder_takes_some_arguments_in_its_own_order_and_an_async_invalidation_passes_them()
    {
        var scenario = UserScenario.Build(Usings, ["""
            namespace Shop
            {
                public sealed partial class Stock
                {
                    private readonly string _site;
                    public Stock(string site) => _site = site;
                    public int Calls;

                    [MultiCached(KeysFrom = "skus", Ttl = 60, KeyBuilder = nameof(StockKey))]
                    public partial Task<Dictionary<string, int>> LevelsAsync(string warehouse, IReadOnlyList<string> skus, int shelf, CancellationToken ct);
                    private Task<Dictionary<string, int>> LevelsAsyncCore(string warehouse, IReadOnlyList<string> skus, int shelf, CancellationToken ct)
                    {
                        Calls++;
                        return Task.FromResult(skus.ToDictionary(s => s, s => warehouse.Length * 100 + shelf * 10 + s.Length));
                    }

                    private string StockKey(string sku, int shelf, string warehouse) => _site + "/" + warehouse + "/" + shelf + "/" + sku;

                    [InvalidateCache(nameof(LevelsAsync))]
                    public partial Task MoveAsync(string warehouse, int shelf, string[] skus, CancellationToken ct);
                    private Task MoveAsyncCore(string warehouse, int shelf, string[] skus, CancellationToken ct) => Task.CompletedTask;
                }

                public static class Probe
                {
                    public static async Task<string> RunAsync()
                    {
                        var stock = new Stock("s1");
                        var a = await stock.LevelsAsync("north", ["x", "yy"], 1, default);
                        var b = await stock.LevelsAsync("north", ["x", "yy"], 2, default);
                        var c = await stock.LevelsAsync("south", ["x"], 1, default);
                        var hit = await stock.LevelsAsync("north", ["yy", "x"], 1, default);
                        var stored = Caches.Get().Exists("s1/north/2/yy");
                        await stock.MoveAsync("north", 1, ["x"], default);
                        var again = await stock.LevelsAsync("north", ["x", "yy"], 1, default);
                        return a["yy"] + " " + b["yy"] + " " + c["x"] + " " + hit["x"] + " " + stored + " " + again["x"] + " " + stock.Calls;
                    }
                }
            }
            """]);

        // Three batches ran (north/1, north/2, south/1); the reversed batch hit; the move dropped north/1/x alone.
        Assert.That(await UserScenario.RunAsync(scenario), Is.EqualTo("512 522 511 511 True 511 4"));
    }
}
