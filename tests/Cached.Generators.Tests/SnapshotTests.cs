using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>One snapshot per shape of generated code; each output also compiles without a warning.</summary>
public sealed partial class SnapshotTests
{
    private const int MaxLineLength = 120;

    // The file that registers the aliases the methods name, beside the type's file when one names an alias.
    private const string AliasesFile = "Cached.Aliases.g.cs";

    private static void VerifyGenerated(string name, string source)
    {
        var run = GeneratorRunner.Run(source);
        Assert.That(run.GeneratorDiagnostics, Is.Empty, "the generator reported diagnostics");
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty, "the generated code must compile without warnings");
        var types = run.Sources.Where(static s => !s.Key.EndsWith(AliasesFile, StringComparison.Ordinal)).ToList();
        Assert.That(types, Has.Count.EqualTo(1));
        Assert.That(LongLines(types.Single().Value), Is.Empty, $"generated lines longer than {MaxLineLength} characters");
        Snapshot.Verify(name, types.Single().Value);
        if (run.Sources.FirstOrDefault(static s => s.Key.EndsWith(AliasesFile, StringComparison.Ordinal)) is { Value: { } aliases })
        {
            Assert.That(LongLines(aliases), Is.Empty);
            Snapshot.Verify(name + ".Aliases", aliases);
        }
    }

    private static IEnumerable<string> LongLines(string code)
        => code.ReplaceLineEndings("\n").Split('\n').Where(static line => line.Length > MaxLineLength);

    [Test]
    public void Every_snapshot_keeps_its_lines_within_120_characters()
    {
        var snapshots = Directory.GetFiles(Snapshot.Folder(), "*.verified.cs");
        Assert.That(snapshots, Is.Not.Empty);
        foreach (var snapshot in snapshots)
        {
            Assert.That(LongLines(File.ReadAllText(snapshot)), Is.Empty, Path.GetFileName(snapshot));
        }
    }

    [Test]
    public void GeneratedCode_names_the_version_of_the_generator_assembly()
    {
        var run = GeneratorRunner.Run("""
            using Cached;
            namespace Demo;
            public partial class Examples
            {
                [Cached]
                public partial int Answer();
                private int AnswerCore() => 42;
            }
            """);
        var assembly = typeof(CachedGenerator).Assembly.GetName().Version!;
        Assert.That(run.Sources.Single().Value, Does.Contain($"GeneratedCode(\"Cached.Generators\", \"{assembly.ToString(3)}"));
    }

    [Test]
    public void Readme_cached_call_with_a_fixed_key()
    {
        VerifyGenerated(nameof(Readme_cached_call_with_a_fixed_key), """
            using Cached;
            namespace Demo;
            public sealed record Result(string Content, int Status);
            public partial class Examples
            {
                [Cached(Ttl = 10, Key = "key", Namespace = "main")]
                public partial Result CachedCall();
                private Result CachedCallCore() => new("content", 200);
            }
            """);
    }

    [Test]
    public void Async_Task_method_with_a_template_key_and_a_cancellation_token()
    {
        VerifyGenerated(nameof(Async_Task_method_with_a_template_key_and_a_cancellation_token), """
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public sealed record Forecast(string City, double Celsius);
            public partial class WeatherService
            {
                [Cached(Ttl = 10, Key = "forecast:{city}:{day:D2}")]
                public partial Task<Forecast> GetForecastAsync(string city, int day, CancellationToken ct = default);
                private async Task<Forecast> GetForecastAsyncCore(string city, int day, CancellationToken ct)
                {
                    await Task.Yield();
                    return new Forecast(city, day);
                }
            }
            """);
    }

    [Test]
    public void ValueTask_static_method_with_the_default_key()
    {
        VerifyGenerated(nameof(ValueTask_static_method_with_the_default_key), """
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public enum Unit { Celsius, Fahrenheit }
            public static partial class Lookups
            {
                [Cached]
                internal static partial ValueTask<string?> Describe(int id, string? name, Guid tenant, DateTime at, Unit unit, int[] tags, List<string> labels, [CacheKeyIgnore] string traceId);
                private static ValueTask<string?> DescribeCore(int id, string? name, Guid tenant, DateTime at, Unit unit, int[] tags, List<string> labels, string traceId) => new(name);
            }
            """);
    }

    [Test]
    public void Overloads_with_default_keys_carry_their_parameter_types()
    {
        VerifyGenerated(nameof(Overloads_with_default_keys_carry_their_parameter_types), """
            using Cached;
            namespace Demo;
            public partial class Pricing
            {
                [Cached]
                public partial decimal Price(int id);
                private decimal PriceCore(int id) => id;

                [Cached]
                public partial decimal Price(string sku, int? version);
                private decimal PriceCore(string sku, int? version) => version ?? 0;

                public decimal Price(long id) => id;
            }
            """);
    }

    [Test]
    public void Cache_options_key_builder_skip_and_lease()
    {
        VerifyGenerated(nameof(Cache_options_key_builder_skip_and_lease), """
            using System.Threading.Tasks;
            using Cached;
            using Cached.Plugins;
            using Cached.Serializers;
            namespace Demo;
            public partial class Catalog
            {
                public override string ToString() => "catalog";

                [Cached(Ttl = 2.5, Lease = 3, Cache = typeof(SimpleMemoryCache), Serializer = typeof(JsonSerializer), Plugins = new[] { typeof(HitMissRatioPlugin), typeof(TimingPlugin) }, KeyBuilder = nameof(ProductKey), SkipCacheWhen = nameof(IsMissing))]
                public partial Task<string?> GetProductAsync(string sku, int version);
                private static string ProductKey(string sku, int version) => sku + "@" + version;
                private bool IsMissing(string? product) => product is null;
                private Task<string?> GetProductAsyncCore(string sku, int version) => Task.FromResult<string?>(sku);

                [Cached(Alias = "redis_alt", Namespace = "catalog", IncludeInstance = true)]
                public partial string Describe(string sku);
                private string DescribeCore(string sku) => sku;
            }
            """);
    }

    [Test]
    public void Resilience_options()
    {
        VerifyGenerated(nameof(Resilience_options), """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public partial class Prices
            {
                [Cached(Ttl = 60, Key = "price:{sku}", FailSafe = 3600, FailSafeThrottle = 10, SoftTimeout = 0.1, HardTimeout = 2, EagerRefresh = 0.8)]
                public partial Task<decimal> GetPriceAsync(string sku, CancellationToken ct = default);
                private Task<decimal> GetPriceAsyncCore(string sku, CancellationToken ct) => Task.FromResult(1m);

                [MultiCached(KeysFrom = "skus", Ttl = 60, FailSafe = 600, FailSafeThrottle = 10)]
                public partial Dictionary<string, decimal> GetPrices(string[] skus);
                private Dictionary<string, decimal> GetPricesCore(string[] skus) => new();
            }
            """);
    }

    [Test]
    public void Extension_methods_sync_Task_and_ValueTask()
    {
        VerifyGenerated(nameof(Extension_methods_sync_Task_and_ValueTask), """
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public static partial class NumberExtensions
            {
                [Cached]
                public static partial int Twice(this int x);
                private static int TwiceCore(this int x) => x * 2;

                [Cached(Key = "thrice:{x}")]
                public static partial Task<int> ThriceAsync(this int x, CancellationToken ct = default);
                private static Task<int> ThriceAsyncCore(int x, CancellationToken ct) => Task.FromResult(x * 3);

                [Cached]
                public static partial ValueTask<string> ShoutAsync(this string text, params int[] times);
                private static ValueTask<string> ShoutAsyncCore(string text, int[] times) => new(text);
            }
            """);
    }

    [Test]
    public void MultiCached_sync_array_and_async_set_and_interface_dictionary()
    {
        VerifyGenerated(nameof(MultiCached_sync_array_and_async_set_and_interface_dictionary), """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public partial class Forecasts
            {
                [MultiCached(KeysFrom = "cities", Ttl = 60)]
                public partial Dictionary<string, double> Get(string[] cities);
                private Dictionary<string, double> GetCore(string[] cities) => new();

                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(IdKey), SkipCacheWhen = nameof(Skip))]
                public partial Task<Dictionary<int, double>> GetByIdAsync(HashSet<int> ids, CancellationToken ct);
                private static string IdKey(int id) => "id-" + id;
                private static bool Skip(int id, double value) => value < 0;
                private Task<Dictionary<int, double>> GetByIdAsyncCore(HashSet<int> ids, CancellationToken ct) => Task.FromResult(new Dictionary<int, double>());

                [MultiCached(KeysFrom = "names")]
                public partial ValueTask<IReadOnlyDictionary<string, int>> LengthsAsync(IEnumerable<string> names);
                private ValueTask<IReadOnlyDictionary<string, int>> LengthsAsyncCore(IEnumerable<string> names) => new(new Dictionary<string, int>());
            }
            """);
    }

    [Test]
    public void InvalidateCache_sync_and_async()
    {
        VerifyGenerated(nameof(InvalidateCache_sync_and_async), """
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public sealed record User(int Id, string Name);
            public partial class Users
            {
                [Cached(Key = "user:{id}")]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "u");

                [Cached]
                public partial Task<User> LoadAsync(int id, string region, CancellationToken ct);
                private Task<User> LoadAsyncCore(int id, string region, CancellationToken ct) => Task.FromResult(new User(id, region));

                [InvalidateCache(nameof(GetUser))]
                public partial void Rename(int id, string name);
                private void RenameCore(int id, string name) { }

                [InvalidateCache(nameof(GetUser), nameof(LoadAsync))]
                public partial Task<bool> MoveAsync(int id, string region, CancellationToken ct);
                private Task<bool> MoveAsyncCore(int id, string region, CancellationToken ct) => Task.FromResult(true);
            }
            """);
    }

    [Test]
    public void InvalidateCache_of_MultiCached_keys_one_or_a_collection()
    {
        VerifyGenerated(nameof(InvalidateCache_of_MultiCached_keys_one_or_a_collection), """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public partial class Forecasts
            {
                [MultiCached(KeysFrom = "cities")]
                public partial Dictionary<string, double> Get(string[] cities);
                private Dictionary<string, double> GetCore(string[] cities) => new();

                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(IdKey))]
                public partial Task<Dictionary<int, double>> GetByIdAsync(HashSet<int> ids);
                private string IdKey(int id) => "id-" + id;
                private Task<Dictionary<int, double>> GetByIdAsyncCore(HashSet<int> ids) => Task.FromResult(new Dictionary<int, double>());

                [InvalidateCache(nameof(Get))]
                public static partial void Refresh(IReadOnlyList<string> cities);
                private static void RefreshCore(IReadOnlyList<string> cities) { }

                [InvalidateCache(nameof(GetByIdAsync))]
                public partial Task ForgetAsync(int ids, CancellationToken ct);
                private Task ForgetAsyncCore(int ids, CancellationToken ct) => Task.CompletedTask;
            }
            """);
    }

    [Test]
    public void Nested_generic_containing_types_and_keyword_parameter_names()
    {
        VerifyGenerated(nameof(Nested_generic_containing_types_and_keyword_parameter_names), """
            using Cached;
            public static partial class Outer
            {
                internal partial struct Inner<TKey>
                    where TKey : notnull
                {
                    // A template names every type parameter of the containing types (CACHED019).
                    [Cached(Key = "item:{TKey}:{@class}")]
                    private partial TKey? Find(TKey @class, params int[] extra);
                    private TKey? FindCore(TKey @class, params int[] extra) => default;
                }
            }
            """);
    }
}
