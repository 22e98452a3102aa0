using System.Globalization;
using System.Reflection;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's check of method shapes and key building: each scenario is a user's source file, run through the
/// generator, compiled with the generated code (every warning counted, as a project with TreatWarningsAsErrors would),
/// loaded, and run by its <c>Probe.Run()</c> against the default cache.
/// </summary>
public sealed class OutsiderShapesReviewTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;

        """;

    private ICache _cache = null!;

    [SetUp]
    public void FreshDefaultCache()
    {
        Caches.Reset();
        _cache = Caches.Get();
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    /// <summary>The generator's diagnostics and the build's errors and warnings, for a scenario that must have none.</summary>
    private static string[] Problems(GeneratorRunResult run)
        => run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()).ToArray();

    /// <summary>Generates, compiles (no diagnostic, no warning) and loads the scenario.</summary>
    private static Assembly Build(params string[] sources)
    {
        var run = GeneratorRunner.Run(sources.Select(static s => Usings + s).ToArray());
        Assert.That(Problems(run), Is.Empty, () => "the user's build with the generated code:\n" + string.Join("\n// ----\n", run.Sources.Values));
        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.That(emitted.Success, Is.True, () => string.Join("\n", emitted.Diagnostics));
        return Assembly.Load(image.ToArray());
    }

    /// <summary>Runs <c>Probe.Run()</c> of a built scenario (one class named Probe, in any namespace).</summary>
    private static string Run(Assembly scenario)
    {
        try
        {
            return (string)scenario.GetTypes().Single(static t => t.Name == "Probe").GetMethod("Run")!.Invoke(null, null)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }

    private static string RunUnder(CultureInfo culture, Assembly scenario)
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = culture;
        try
        {
            return Run(scenario);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    private static readonly CultureInfo s_german = new("de-DE");

    // ---------------------------------------------------------------- templated keys and culture

    [Test]
    public void A_template_key_with_a_tuple_argument_is_written_with_the_invariant_culture()
    {
        // docs/decorators.md, Keys: `Key = "user:{id}"` is "the template, formatted with the invariant culture".
        // A value tuple is not IFormattable: its elements are written by their own ToString, under the current culture.
        var scenario = Build("""
            namespace Geo;
            public partial class Maps
            {
                public int Calls;
                [Cached(Key = "tile:{point}")]
                public partial string Tile((double X, double Y) point);
                private string TileCore((double X, double Y) point) { Calls++; return $"tile {Calls}"; }
            }
            public static class Probe
            {
                public static readonly Maps Maps = new();
                public static string Run() => Maps.Tile((1.5, 2.25)) + "|" + Maps.Calls;
            }
            """);

        var german = RunUnder(s_german, scenario);
        var invariant = RunUnder(CultureInfo.InvariantCulture, scenario);

        Assert.Multiple(() =>
        {
            Assert.That(_cache.Exists("tile:(1.5, 2.25)"), Is.True, "the key is the invariant text of the tuple, whatever the caller's culture");
            Assert.That(_cache.Exists("tile:(1,5, 2,25)"), Is.False, "no key written with the German decimal comma");
            Assert.That((german, invariant), Is.EqualTo(("tile 1|1", "tile 1|1")), "a German caller and an invariant one share the entry");
        });
    }

    [Test]
    public void A_template_key_with_a_record_argument_is_written_with_the_invariant_culture()
    {
        // The default key runs a record's ToString under the invariant culture (CacheKeyWriter.InvariantText); a template,
        // documented as "formatted with the invariant culture", hands the record to the interpolation handler, which
        // calls ToString() under the current culture for a value that is not IFormattable.
        var scenario = Build("""
            namespace Shop;
            public sealed record Money(decimal Amount, string Currency);
            public partial class Prices
            {
                public int Calls;
                [Cached(Key = "quote:{price}")]
                public partial string Quote(Money price);
                private string QuoteCore(Money price) { Calls++; return $"quote {Calls}"; }
            }
            public static class Probe
            {
                public static readonly Prices Prices = new();
                public static string Run() => Prices.Quote(new Money(1.5m, "EUR")) + "|" + Prices.Calls;
            }
            """);

        var german = RunUnder(s_german, scenario);
        var invariant = RunUnder(CultureInfo.InvariantCulture, scenario);

        Assert.Multiple(() =>
        {
            Assert.That(_cache.Exists("quote:Money { Amount = 1.5, Currency = EUR }"), Is.True, "the record's invariant text");
            Assert.That((german, invariant), Is.EqualTo(("quote 1|1", "quote 1|1")), "a German caller and an invariant one share the entry");
        });
    }

    [Test]
    public void A_template_key_with_numbers_and_dates_is_written_with_the_invariant_culture()
    {
        var scenario = Build("""
            namespace Shop;
            public partial class Prices
            {
                [Cached(Key = "p:{amount}:{ratio}:{day:yyyy-MM-dd}:{when}:{id}:{maybe}")]
                public static partial string Price(decimal amount, double ratio, DateOnly day, DateTime when, Guid id, double? maybe);
                private static string PriceCore(decimal amount, double ratio, DateOnly day, DateTime when, Guid id, double? maybe) => "p";
            }
            public static class Probe
            {
                public static string Run() => Prices.Price(1.5m, 0.25, new DateOnly(2026, 1, 2), new DateTime(2026, 1, 2, 3, 4, 5), Guid.Empty, 2.5);
            }
            """);

        RunUnder(s_german, scenario);

        // A DateTime hole without a format is written in the round-trip format (an Unspecified one without a zone).
        Assert.That(_cache.Exists("p:1.5:0.25:2026-01-02:2026-01-02T03:04:05.0000000:00000000-0000-0000-0000-000000000000:2.5"), Is.True);
    }

    [Test]
    public void A_template_key_with_braces_colons_quotes_and_a_keyword_parameter()
    {
        var scenario = Build("""
            namespace Shop;
            public partial class Prices
            {
                [Cached(Key = "a:{{b}}\"c\\d:{class}:{@event}")]
                public static partial string Price(string @class, int @event);
                private static string PriceCore(string @class, int @event) => @class + @event;
            }
            public static class Probe
            {
                public static string Run() => Prices.Price("x:{y}", 3) + Prices.Price("x:{y}", 3);
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("x:{y}3x:{y}3"));
        Assert.That(_cache.Exists("a:{b}\"c\\d:x:{y}:3"), Is.True);
    }

    // ---------------------------------------------------------------- default keys

    [Test]
    public void A_default_key_of_numbers_dates_and_ids_is_the_same_under_a_German_culture()
    {
        var scenario = Build("""
            namespace Shop;
            [Flags] public enum Access { None = 0, Read = 1, Write = 2 }
            public partial class Prices
            {
                [Cached]
                public static partial string Price(decimal amount, double ratio, float small, DateTime when, DateTimeOffset at, Guid id, TimeSpan span, DateOnly day, double? maybe, decimal? none, Access access, Half half);
                private static string PriceCore(decimal amount, double ratio, float small, DateTime when, DateTimeOffset at, Guid id, TimeSpan span, DateOnly day, double? maybe, decimal? none, Access access, Half half) => "p";
            }
            public static class Probe
            {
                public static string Run() => Prices.Price(1.5m, 0.1, 2.5f, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
                    new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(1)), Guid.Empty, TimeSpan.FromMinutes(90),
                    new DateOnly(2026, 1, 2), 3.5, null, Access.Read | Access.Write, (Half)0.5);
            }
            """);

        RunUnder(s_german, scenario);

        const string expected = "Shop.Prices.Price(1.5,0.1,2.5,2026-01-02T03:04:05.0000000Z,2026-01-02T03:04:05.0000000+01:00,"
            + "00000000-0000-0000-0000-000000000000,01:30:00,01/02/2026,3.5,null,Read, Write,0.5)";
        Assert.That(_cache.Exists(expected), Is.True);
    }

    [Test]
    public void Null_the_empty_string_and_the_text_null_keep_three_entries()
    {
        var scenario = Build("""
            namespace Texts;
            public partial class Echo
            {
                public static int Calls;
                [Cached]
                public static partial string? Say(string? text, int? count);
                private static string? SayCore(string? text, int? count) { Calls++; return text is null ? "<null>" : "[" + text + "]"; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var first = string.Join(",", Echo.Say(null, null), Echo.Say("", null), Echo.Say("null", null), Echo.Say("null", 0));
                    var again = string.Join(",", Echo.Say(null, null), Echo.Say("", null), Echo.Say("null", null), Echo.Say("null", 0));
                    return first + "|" + again + "|" + Echo.Calls;
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("<null>,[],[null],[null]|<null>,[],[null],[null]|4"));
        Assert.That(_cache.Exists("Texts.Echo.Say(null,null)"), Is.True);
        Assert.That(_cache.Exists("Texts.Echo.Say(\"null\",0)"), Is.True);
    }

    [Test]
    public void An_omitted_optional_argument_and_the_same_value_given_share_an_entry_and_tokens_stay_out_of_the_key()
    {
        var scenario = Build("""
            namespace Shop;
            public partial class Stock
            {
                public int Calls;
                [Cached]
                public partial Task<int> CountAsync(int id, string region = "eu", CancellationToken ct = default);
                private Task<int> CountAsyncCore(int id, string region, CancellationToken ct) => Task.FromResult(++Calls);

                [Cached]
                public partial int Sync(int id, CancellationToken? ct = null);
                private int SyncCore(int id, CancellationToken? ct) => ++Calls;
            }
            public static class Probe
            {
                public static string Run()
                {
                    var stock = new Stock();
                    using var source = new CancellationTokenSource();
                    var a = stock.CountAsync(1).Result;
                    var b = stock.CountAsync(1, "eu", source.Token).Result;
                    var c = stock.CountAsync(1, "us").Result;
                    var d = stock.Sync(5);
                    var e = stock.Sync(5, source.Token);
                    return $"{a},{b},{c},{d},{e}";
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("1,1,2,3,3"));
        Assert.That(_cache.Exists("Shop.Stock.CountAsync(1,\"eu\")"), Is.True);
        Assert.That(_cache.Exists("Shop.Stock.Sync(5)"), Is.True);
    }

    [Test]
    public void A_params_array_is_keyed_by_its_elements_whether_spread_or_passed()
    {
        var scenario = Build("""
            namespace Shop;
            public partial class Sums
            {
                public static int Calls;
                [Cached]
                public static partial int Sum(string label, params int[] values);
                private static int SumCore(string label, params int[] values) { Calls++; return values.Sum(); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var a = Sums.Sum("s", 1, 2);
                    var b = Sums.Sum("s", new[] { 1, 2 });
                    var c = Sums.Sum("s", 12);
                    var d = Sums.Sum("s");
                    return $"{a},{b},{c},{d},{Sums.Calls}";
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("3,3,12,0,3"));
        Assert.That(_cache.Exists("Shop.Sums.Sum(\"s\",[1,2])"), Is.True);
        Assert.That(_cache.Exists("Shop.Sums.Sum(\"s\",[])"), Is.True);
    }

    [Test]
    public void Parameters_named_like_keywords_generated_locals_and_tuple_members_compile_and_key()
    {
        var scenario = Build("""
            namespace Odd;
            public partial class Names
            {
                public int Calls;
                [Cached]
                public partial string All(int @class, string key, string cache, string state, string value, string result, int ct, int self, int Item1, int Rest, int @this);
                private string AllCore(int @class, string key, string cache, string state, string value, string result, int ct, int self, int Item1, int Rest, int @this)
                    => $"{++Calls}:{@class}{key}{cache}{state}{value}{result}{ct}{self}{Item1}{Rest}{@this}";

                [Cached(Key = "k:{key}:{value}:{result}:{class}")]
                public static partial Task<string> Templated(string key, string value, string result, int @class, CancellationToken ct);
                private static Task<string> TemplatedCore(string key, string value, string result, int @class, CancellationToken ct) => Task.FromResult(key + value + result + @class);

                [InvalidateCache(nameof(Templated))]
                public static partial void Forget(string key, string value, string result, int @class);
                private static void ForgetCore(string key, string value, string result, int @class) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var names = new Names();
                    var first = names.All(1, "k", "c", "s", "v", "r", 2, 3, 4, 5, 6);
                    var second = names.All(1, "k", "c", "s", "v", "r", 2, 3, 4, 5, 6);
                    var templated = Names.Templated("a", "b", "c", 9, default).Result;
                    return first + "|" + second + "|" + templated;
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("1:1kcsvr23456|1:1kcsvr23456|abc9"));
        Assert.That(_cache.Exists("Odd.Names.All(1,\"k\",\"c\",\"s\",\"v\",\"r\",2,3,4,5,6)"), Is.True);
        Assert.That(_cache.Exists("k:a:b:c:9"), Is.True);
    }

    [Test]
    public void Two_key_value_pairs_whose_texts_read_alike_keep_two_entries()
    {
        // docs/decorators.md, Keys: "The default key is unambiguous"; tuples are written element by element so that
        // ("a, b", "c") and ("a", "b, c") stay two keys. A KeyValuePair has a ToString of its own (so no CACHED012), but
        // it is "[a, b, c]" for both pairs: written as its quoted text, the two calls share one entry.
        var scenario = Build("""
            namespace Pairs;
            public partial class Settings
            {
                public static int Calls;
                [Cached]
                public static partial string Read(KeyValuePair<string, string> entry);
                private static string ReadCore(KeyValuePair<string, string> entry) { Calls++; return entry.Key + "=" + entry.Value; }

                [Cached]
                public static partial string ReadAll(List<KeyValuePair<string, string>> entries);
                private static string ReadAllCore(List<KeyValuePair<string, string>> entries) { Calls++; return string.Join("&", entries.Select(e => e.Key + "=" + e.Value)); }
            }
            public static class Probe
            {
                public static string Run() => string.Join(" ",
                    Settings.Read(new("a, b", "c")), Settings.Read(new("a", "b, c")),
                    Settings.ReadAll(new() { new("a, b", "c") }), Settings.ReadAll(new() { new("a", "b, c") }), Settings.Calls);
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("a, b=c a=b, c a, b=c a=b, c 4"));
    }

    [Test]
    public void Records_inside_a_list_whose_member_is_null_or_empty_keep_two_entries()
    {
        // A record parameter is written member by member because "the compiler's text writes null and "" alike"
        // (docs/decorators.md, Keys); the same records as the elements of a list are written by that text, so a filter
        // on a null name and one on an empty name share one entry.
        var scenario = Build("""
            namespace Search;
            public sealed record Filter(string? Name, int Min);
            public partial class Finder
            {
                public static int Calls;
                [Cached]
                public static partial string Find(List<Filter> filters);
                private static string FindCore(List<Filter> filters) { Calls++; return string.Join(";", filters.Select(f => f.Name is null ? "any" : "'" + f.Name + "'")); }

                [Cached]
                public static partial string FindOne(Filter filter);
                private static string FindOneCore(Filter filter) { Calls++; return filter.Name is null ? "any" : "'" + filter.Name + "'"; }
            }
            public static class Probe
            {
                public static string Run() => string.Join(" ",
                    Finder.FindOne(new(null, 1)), Finder.FindOne(new("", 1)),
                    Finder.Find(new() { new(null, 1) }), Finder.Find(new() { new("", 1) }), Finder.Calls);
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("any '' any '' 4"));
    }

    // ---------------------------------------------------------------- containing types

    [Test]
    public void Containing_types_of_every_kind_get_keys_of_their_own()
    {
        var scenario = Build(
            """
            namespace Outer.Inner;
            public partial class Host
            {
                public partial struct Middle
                {
                    public partial class Leaf
                    {
                        [Cached] public partial string Get(int id);
                        private string GetCore(int id) => "leaf " + id;
                    }
                }
            }
            public partial record Rec(int Seed)
            {
                [Cached] public partial string Get(int id);
                private string GetCore(int id) => "record " + id;
            }
            public partial record struct RecStruct(int Seed)
            {
                [Cached] public partial string Get(int id);
                private string GetCore(int id) => "record struct " + id;
            }
            public static partial class Statics
            {
                [Cached] public static partial string Get(int id);
                private static string GetCore(int id) => "static " + id;
            }
            public partial class Repo<T>
            {
                [Cached] public partial string Get(T id);
                private string GetCore(T id) => typeof(T).Name + " " + id;
                public partial class Nested
                {
                    [Cached] public partial string Get(T id);
                    private string GetCore(T id) => "nested " + typeof(T).Name + " " + id;
                }
            }
            """,
            """
            namespace Other
            {
                public partial class Host
                {
                    public partial struct Middle
                    {
                        public partial class Leaf
                        {
                            [Cached] public partial string Get(int id);
                            private string GetCore(int id) => "other leaf " + id;
                        }
                    }
                }
            }
            public partial class GlobalHost
            {
                [Cached] public partial string Get(int id);
            }
            public static class Probe
            {
                public static string Run() => string.Join(",",
                    new Outer.Inner.Host.Middle.Leaf().Get(1), new Other.Host.Middle.Leaf().Get(1),
                    new Outer.Inner.Rec(0).Get(1), new Outer.Inner.RecStruct(0).Get(1), Outer.Inner.Statics.Get(1),
                    new Outer.Inner.Repo<int>().Get(1), new Outer.Inner.Repo<long>().Get(1),
                    new Outer.Inner.Repo<int>.Nested().Get(1), new Outer.Inner.Repo<long>.Nested().Get(1),
                    new GlobalHost().Get(1),
                    // and again, all hits
                    new Outer.Inner.Host.Middle.Leaf().Get(1), new Other.Host.Middle.Leaf().Get(1), new GlobalHost().Get(1),
                    new Outer.Inner.Repo<long>.Nested().Get(1));
            }
            """,
            """
            // The other half of a type split across files.
            public partial class GlobalHost
            {
                private string GetCore(int id) => "global " + id;
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo(
            "leaf 1,other leaf 1,record 1,record struct 1,static 1,Int32 1,Int64 1,nested Int32 1,nested Int64 1,global 1,"
            + "leaf 1,other leaf 1,global 1,nested Int64 1"));
        Assert.Multiple(() =>
        {
            Assert.That(_cache.Exists("Outer.Inner.Host.Middle.Leaf.Get(1)"), Is.True);
            Assert.That(_cache.Exists("Other.Host.Middle.Leaf.Get(1)"), Is.True);
            Assert.That(_cache.Exists("GlobalHost.Get(1)"), Is.True);
            Assert.That(_cache.Exists("Outer.Inner.Repo<System.Int64>.Nested.Get(1)"), Is.True);
        });
    }

    [Test]
    public void A_namespace_with_a_keyword_segment_builds()
    {
        // namespace Shop.@internal is legal C#; the generated half must spell it the same way.
        var scenario = Build("""
            namespace Shop.@internal;
            public partial class Ledger
            {
                [Cached] public static partial int Balance(int account);
                private static int BalanceCore(int account) => account * 10;
            }
            """, """
            public static class Probe
            {
                public static string Run() => Shop.@internal.Ledger.Balance(2).ToString();
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("20"));
    }

    [Test]
    public void A_type_named_with_a_keyword_builds()
    {
        var scenario = Build("""
            namespace Shop;
            public partial class @event
            {
                [Cached] public static partial int Seats(int hall);
                private static int SeatsCore(int hall) => hall * 100;
            }
            public static class Probe
            {
                public static string Run() => @event.Seats(3).ToString() + @event.Seats(3);
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("300300"));
    }

    [Test]
    public void An_instance_cached_method_of_an_interface_runs_on_the_implementing_instance()
    {
        var scenario = Build("""
            namespace Shop;
            public partial interface IGreeter
            {
                string Name { get; }
                [Cached(IncludeInstance = true)] public partial string Greet(int times);
                private string GreetCore(int times) => string.Concat(Enumerable.Repeat("hi " + Name + ";", times));
            }
            public sealed record Greeter(string Name) : IGreeter;
            public static class Probe
            {
                public static string Run()
                {
                    IGreeter ada = new Greeter("ada"), bob = new Greeter("bob");
                    return ada.Greet(1) + bob.Greet(1) + ada.Greet(1);
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("hi ada;hi bob;hi ada;"));
    }

    [Test]
    public void A_static_cached_method_of_a_generic_interface_with_a_variant_type_parameter_compiles()
    {
        // C# requires every part of a partial interface to repeat the variance of its type parameters (CS1067).
        var run = GeneratorRunner.Run(Usings + """
            namespace Shop;
            public partial interface IReader<out T>
            {
                [Cached] public static partial string Describe(int id);
                private static string DescribeCore(int id) => typeof(T).Name + id;
            }
            """);

        Assert.That(Problems(run), Is.Empty, () => string.Join("\n", run.Sources.Values));
    }

    [Test]
    public void Virtual_override_sealed_override_and_new_methods_compile_and_key_by_their_declaring_type()
    {
        var scenario = Build("""
            namespace Zoo;
            public partial class Animal
            {
                [Cached] public virtual partial string Sound(int times);
                protected string SoundCore(int times) => "... x" + times;

                [Cached] public partial string Name(int id);
                private string NameCore(int id) => "animal " + id;
            }
            public partial class Dog : Animal
            {
                [Cached] public override partial string Sound(int times);
                private new string SoundCore(int times) => "woof x" + times;

                [Cached] public new partial string Name(int id);
                private string NameCore(int id) => "dog " + id;
            }
            public sealed partial class Puppy : Dog
            {
                [Cached] public sealed override partial string Sound(int times);
                private new string SoundCore(int times) => "yip x" + times;
            }
            public static class Probe
            {
                public static string Run()
                {
                    Animal animal = new Animal(), dog = new Dog(), puppy = new Puppy();
                    return string.Join(",", animal.Sound(2), dog.Sound(2), puppy.Sound(2), animal.Name(1), new Dog().Name(1), ((Animal)new Dog()).Name(1));
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("... x2,woof x2,yip x2,animal 1,dog 1,animal 1"));
        Assert.That(_cache.Exists("Zoo.Puppy.Sound(2)"), Is.True);
    }

    // ---------------------------------------------------------------- modifiers and attributes

    [Test]
    public void An_obsolete_method_returning_an_obsolete_type_builds_without_warnings()
    {
        // The user marks the method [Obsolete] with its result type, so their own code has no warning; the generated
        // state field CachedMethod<LegacyReport> lies outside the method and must not bring one (CS0612 in the generated
        // file fails a build with TreatWarningsAsErrors).
        var run = GeneratorRunner.Run(Usings + """
            namespace Reports;
            [Obsolete] public sealed record LegacyReport(int Id);
            public partial class Archive
            {
                [Obsolete]
                [Cached]
                public partial LegacyReport Get(int id);
                [Obsolete]
                private LegacyReport GetCore(int id) => new(id);
            }
            """);

        Assert.That(Problems(run), Is.Empty, () => string.Join("\n", run.Sources.Values));
    }

    [Test]
    public void An_obsolete_invalidated_method_with_an_obsolete_parameter_type_builds_without_warnings()
    {
        // The key method that [InvalidateCache] calls takes the parameter's type, outside any obsolete member.
        var run = GeneratorRunner.Run(Usings + """
            namespace Reports;
            [Obsolete] public enum LegacyKind { A, B }
            public partial class Archive
            {
                [Obsolete]
                [Cached]
                public partial string Get(LegacyKind kind);
                [Obsolete]
                private string GetCore(LegacyKind kind) => kind.ToString();

                [Obsolete]
                [InvalidateCache(nameof(Get))]
                public partial void Forget(LegacyKind kind);
                [Obsolete]
                private void ForgetCore(LegacyKind kind) { }
            }
            """);

        Assert.That(Problems(run), Is.Empty, () => string.Join("\n", run.Sources.Values));
    }

    [Test]
    public void An_extern_partial_method_is_CACHED001_not_an_error_in_generated_code()
    {
        // docs/diagnostics.md, CACHED001: the method must be a partial declaration without a body (the code fix is "not
        // offered for an abstract or extern method", so the diagnostic is).
        var run = GeneratorRunner.Run(Usings + """
            namespace Native;
            public static partial class Lib
            {
                [Cached]
                [System.Runtime.InteropServices.DllImport("lib")]
                public static extern partial int Answer(int x);
                private static int AnswerCore(int x) => x;
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED001" }), () => string.Join("\n", run.GeneratorDiagnostics));
        Assert.That(run.Sources.Values, Has.None.Contains("Answer("), "no generated body for it");
    }

    [Test]
    public void Unsafe_readonly_struct_and_nullable_disabled_files_build_without_warnings()
    {
        var run = GeneratorRunner.Compile(
            Usings + """
            #nullable disable
            namespace Legacy;
            public partial class Old
            {
                [Cached] public partial string Find(string name, List<string> tags);
                private string FindCore(string name, List<string> tags) => name;

                [Cached] public partial Task<string[]> FindAllAsync(string name);
                private Task<string[]> FindAllAsyncCore(string name) => Task.FromResult(new[] { name, null });

                [MultiCached(KeysFrom = "names")]
                public partial Dictionary<string, string> Many(IEnumerable<string> names);
                private Dictionary<string, string> ManyCore(IEnumerable<string> names) => names.ToDictionary(n => n, n => (string)null);
            }
            """,
            Usings + """
            namespace Fast;
            public partial struct Point
            {
                public int X;
                [Cached] public readonly partial int Twice(int y);
                private readonly int TwiceCore(int y) => X * y * 2;

                [Cached] public unsafe partial int Size(int count);
                private int SizeCore(int count) => sizeof(int) * count;
            }
            """).WithOptions(GeneratorRunner.Compile().Options.WithAllowUnsafe(true));

        var result = GeneratorRunner.Run(run);

        Assert.That(Problems(result), Is.Empty, () => string.Join("\n", result.Sources.Values));
    }

    // ---------------------------------------------------------------- return types

    [Test]
    public async Task Nullable_tuple_array_list_record_and_read_only_list_results_are_cached()
    {
        var scenario = Build("""
            namespace Results;
            public sealed record Item(int Id, string? Name);
            public partial class Store
            {
                public static int Calls;
                [Cached] public static partial Task<string?> MaybeText(int id);
                private static Task<string?> MaybeTextCore(int id) { Calls++; return Task.FromResult<string?>(id == 0 ? null : "t"); }
                [Cached] public static partial ValueTask<int?> MaybeNumber(int id);
                private static ValueTask<int?> MaybeNumberCore(int id) { Calls++; return new(id == 0 ? null : id); }
                [Cached] public static partial (int Id, string Name) Pair(int id);
                private static (int Id, string Name) PairCore(int id) { Calls++; return (id, "p"); }
                [Cached] public static partial int[] Array(int id);
                private static int[] ArrayCore(int id) { Calls++; return new[] { id }; }
                [Cached] public static partial List<Item> List(int id);
                private static List<Item> ListCore(int id) { Calls++; return new() { new(id, null) }; }
                [Cached] public static partial Task<IReadOnlyList<Item>> ReadOnly(int id);
                private static async Task<IReadOnlyList<Item>> ReadOnlyCore(int id) { await Task.Yield(); Calls++; return new[] { new Item(id, "r") }; }
                [Cached] public static partial Item? Record(int id);
                private static Item? RecordCore(int id) { Calls++; return id == 0 ? null : new(id, "x"); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    string Once() => string.Join(",", Store.MaybeText(0).Result ?? "null", Store.MaybeText(1).Result, Store.MaybeNumber(0).Result?.ToString() ?? "null",
                        Store.MaybeNumber(2).Result, Store.Pair(3), Store.Array(4)[0], Store.List(5)[0], Store.ReadOnly(6).Result[0], Store.Record(0)?.ToString() ?? "null", Store.Record(7));
                    var first = Once();
                    var second = Once();
                    return first + "|" + (first == second) + "|" + Store.Calls;
                }
            }
            """);

        await Task.Yield();
        Assert.That(Run(scenario), Is.EqualTo(
            "null,t,null,2,(3, p),4,Item { Id = 5, Name =  },Item { Id = 6, Name = r },null,Item { Id = 7, Name = x }|True|10"));
    }

    // ---------------------------------------------------------------- [MultiCached] key collections

    [Test]
    public void MultiCached_keys_from_arrays_sets_lazy_sequences_with_duplicates_empty_and_null()
    {
        // Duplicates are asked once, a lazy sequence is enumerated once, and no keys (empty or null) call the body with
        // none, as MultiCachedBehaviourTests.An_empty_key_list_calls_the_body_without_reading_the_cache pins down.
        var scenario = Build("""
            namespace Batches;
            public partial class Users
            {
                public static List<string> Requests = new();
                public static int Enumerations;

                [MultiCached(KeysFrom = "ids", Namespace = "arr")]
                public static partial Dictionary<int, string> ByArray(int[] ids);
                private static Dictionary<int, string> ByArrayCore(int[] ids) { Requests.Add("arr:" + string.Join(";", ids)); return ids.ToDictionary(i => i, i => "u" + i); }

                [MultiCached(KeysFrom = "ids", Namespace = "set")]
                public static partial IReadOnlyDictionary<string, string> BySet(HashSet<string> ids);
                private static IReadOnlyDictionary<string, string> BySetCore(HashSet<string> ids) { Requests.Add("set:" + string.Join(";", ids.OrderBy(i => i))); return ids.ToDictionary(i => i, i => "s" + i); }

                [MultiCached(KeysFrom = "ids", Namespace = "seq")]
                public static partial Task<IDictionary<long, string>> BySequence(IEnumerable<long>? ids, CancellationToken ct = default);
                private static Task<IDictionary<long, string>> BySequenceCore(IEnumerable<long>? ids, CancellationToken ct) { Requests.Add("seq:" + string.Join(";", ids!)); return Task.FromResult<IDictionary<long, string>>(ids!.ToDictionary(i => i, i => "q" + i)); }

                public static IEnumerable<long> Lazy(params long[] ids) { Enumerations++; foreach (var id in ids) yield return id; }
            }
            public static class Probe
            {
                static string Show<TKey>(IEnumerable<KeyValuePair<TKey, string>> d) => string.Join(";", d.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"));
                public static string Run()
                {
                    var a = Show(Users.ByArray(new[] { 1, 1, 2 }));
                    var b = Show(Users.ByArray(new[] { 2, 3 }));
                    var c = Show(Users.ByArray(System.Array.Empty<int>()));
                    var d = Show(Users.BySet(new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "x", "y" }));
                    var e = Show(Users.BySequence(Users.Lazy(5, 5, 6)).Result);
                    var f = Show(Users.BySequence(null).Result);
                    var g = Show(Users.BySequence(Users.Lazy(6, 7)).Result);
                    return string.Join(" ", a, b, c == "" ? "empty" : c, d, e, f == "" ? "empty" : f, g) + " | " + string.Join(" ", Users.Requests) + " | " + Users.Enumerations;
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo(
            "1=u1;2=u2 2=u2;3=u3 empty x=sx;y=sy 5=q5;6=q6 empty 6=q6;7=q7 | arr:1;2 arr:3 arr: set:x;y seq:5;6 seq: seq:7 | 2"));
        Assert.That(_cache.Exists("1", "arr"), Is.True);
    }

    [Test]
    public void A_params_ReadOnlySpan_parameter_is_CACHED003()
    {
        var run = GeneratorRunner.Run(Usings + """
            namespace Shop;
            public partial class Sums
            {
                [Cached]
                public static partial int Sum(params ReadOnlySpan<int> values);
                private static int SumCore(params ReadOnlySpan<int> values) => values.Length;
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED003" }));
    }
}
