using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// A static initializer of the user's type that calls one of its cached methods: C# runs a partial type's static field
/// initializers file by file, the generated file's after the user's, so a generated state field read from the user's
/// initializer was still null (a TypeInitializationException). In such a type the state lives in a nested class of its
/// own, made when it is first read.
/// </summary>
public sealed class StaticInitializerBehaviourTests
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
    public void A_static_field_and_property_initializer_call_cached_methods_of_their_own_type()
    {
        var scenario = UserScenario.Build(Usings, ["""
            namespace Settings
            {
                public static partial class Defaults
                {
                    public static int Calls;
                    public static readonly string Region = Load("eu");
                    public static int Port { get; } = PortAsync(80).GetAwaiter().GetResult();
                    public static readonly Dictionary<int, string> Zones = ZonesOf([1, 2]);

                    [Cached(Ttl = 60)]
                    public static partial string Load(string name);
                    private static string LoadCore(string name) { Calls++; return "region:" + name; }

                    [Cached(Ttl = 60, Key = "port:{port}")]
                    public static partial Task<int> PortAsync(int port);
                    private static Task<int> PortAsyncCore(int port) { Calls++; return Task.FromResult(port + 1); }

                    [MultiCached(KeysFrom = "ids", Ttl = 60)]
                    public static partial Dictionary<int, string> ZonesOf(List<int> ids);
                    private static Dictionary<int, string> ZonesOfCore(List<int> ids) { Calls++; return ids.ToDictionary(id => id, id => "z" + id); }
                }

                public static class Probe
                {
                    public static string Run()
                        => Defaults.Region + " " + Defaults.Port + " " + Defaults.Zones[2] + " " + Defaults.Load("eu") + " " + PortAgain() + " " + Defaults.ZonesOf([2, 1])[1] + " " + Defaults.Calls;

                    private static int PortAgain() => Defaults.PortAsync(80).GetAwaiter().GetResult();
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("region:eu 81 z2 region:eu 81 z1 3"));
    }

    [Test]
    public void An_instance_method_and_its_invalidation_reach_the_state_of_such_a_type()
    {
        var scenario = UserScenario.Build(Usings, ["""
            namespace Shop
            {
                public sealed partial class Prices
                {
                    public static readonly Prices Shared = new();
                    private static readonly int Warm = Shared.Of(1);
                    public int Calls;

                    [Cached(Ttl = 60, Key = "price:{id}")]
                    public partial int Of(int id);
                    private int OfCore(int id) { Calls++; return id * 10 + Calls; }

                    [InvalidateCache(nameof(Of))]
                    public partial void Change(int id);
                    private void ChangeCore(int id) { }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var first = Prices.Shared.Of(1);
                        Prices.Shared.Change(1);
                        return first + " " + Prices.Shared.Of(1) + " " + Prices.Shared.Calls;
                    }
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("11 12 2"));
    }

    [Test]
    public void A_generic_type_and_a_method_with_its_own_serializer_and_plugins_work_so_too()
    {
        var scenario = UserScenario.Build(Usings, ["""
            namespace Stores
            {
                public partial class Repo<T>
                {
                    public static int Calls;
                    public static readonly string First = Describe(typeof(T).Name);

                    [Cached(Ttl = 60, Serializer = typeof(Cached.Serializers.JsonSerializer), Plugins = new[] { typeof(Cached.Plugins.HitMissRatioPlugin) })]
                    public static partial string Describe(string name);
                    private static string DescribeCore(string name) { Calls++; return "repo of " + name; }
                }

                public static class Probe
                {
                    public static string Run()
                        => Repo<int>.First + ", " + Repo<string>.First + ", " + Repo<int>.Describe("Int32") + ", " + (Repo<int>.Calls + Repo<string>.Calls);
                }
            }
            """]);

        // The state of a generic type's method is per closed type: each made its one call.
        Assert.That(UserScenario.Run(scenario), Is.EqualTo("repo of Int32, repo of String, repo of Int32, 2"));
    }

    [Test]
    public void A_type_whose_static_initializers_run_no_code_keeps_its_state_in_fields()
    {
        // The nested class costs the compiler a type per method: only types whose initializers may call back get it.
        var run = GeneratorRunner.Run(Usings + """
            namespace Plain
            {
                public static partial class Names
                {
                    private const string Prefix = "n";
                    private static readonly string Suffix = "s" + nameof(Names);
                    private static readonly int[] Sizes = { 1, 2 };
                    private static int Count { get; } = -(1 + 2);
                    private static readonly string Empty = string.Empty;
                    public static string Late = null!;
                    private static readonly int[] None = [];
                    private static readonly long[] Zero = new long[0];
                    public static event Action? Changed = null;

                    [Cached(Ttl = 60)]
                    public static partial string Get(int id);
                    private static string GetCore(int id) { Changed?.Invoke(); return Prefix + id + Suffix + Sizes.Length + Count + Empty + None.Length + Zero.Length; }
                }
            }
            """);

        Assert.That(UserScenario.Problems(run), Is.Empty);
        var generated = string.Join("\n", run.Sources.Values);
        Assert.That(generated, Does.Contain("private static readonly global::Cached.Runtime.CachedMethod<string> __cached_Get ="));
        Assert.That(generated, Does.Not.Contain("class __cached_Get"));
    }

    [Test]
    public void A_literal_stored_through_an_implicit_operator_of_the_users_is_code()
    {
        // From the reviews: "USD", and null too, become a Currency through the user's operator, which calls the cached method.
        var scenario = UserScenario.Build(Usings, ["""
            namespace Money
            {
                public readonly partial struct Currency
                {
                    public static int Calls;
                    public static readonly Currency Usd = "USD";
                    public static readonly Currency[] Pair = { "EUR", "GBP" };
                    public static readonly Currency None = null;
                    public string Code { get; init; }
                    public static implicit operator Currency(string? code) => FromCode(code ?? "none");

                    [Cached(Ttl = 60)]
                    public static partial Currency FromCode(string code);
                    private static Currency FromCodeCore(string code) { Calls++; return new Currency { Code = code.ToLowerInvariant() }; }
                }

                public static class Probe
                {
                    public static string Run() => Currency.Usd.Code + " " + Currency.Pair[1].Code + " " + Currency.None.Code + " " + Currency.FromCode("USD").Code + " " + Currency.Calls;
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("usd gbp none usd 4"));
    }

    [Test]
    public void A_type_with_a_static_initializer_that_calls_code_keeps_its_state_in_a_nested_class()
    {
        var run = GeneratorRunner.Run(Usings + """
            namespace Calling
            {
                public partial class Names
                {
                    private static readonly List<int> Seen = new();

                    [Cached(Ttl = 60)]
                    public partial string Get(int id);
                    private string GetCore(int id) => "n" + id + Seen.Count;
                }
            }
            """);

        Assert.That(UserScenario.Problems(run), Is.Empty);
        var generated = string.Join("\n", run.Sources.Values);
        Assert.That(generated, Does.Contain("private static class __cached_Get"));
        Assert.That(generated, Does.Contain("__cached_Get.Method.Call("));
    }
}
