using System.Reflection;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// The methods generated code calls (the body, KeyBuilder, SkipCacheWhen) are the ones the generator checked: a base
/// class's body is not replaced by an overload of the derived type, a base class's KeyBuilder and SkipCacheWhen are
/// found, a keyword name keeps its <c>@</c>, and a parameter named like one of them does not hide it.
/// </summary>
public sealed class ImplementationCallBehaviourTests
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
    public void FreshDefaultCache()
    {
        Caches.Reset();
        Caches.Get().Clear();
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    private static Assembly Build(params string[] sources) => UserScenario.Build(Usings, sources);

    // ---- A body declared by a base class ----

    [Test]
    public void A_base_class_body_runs_though_the_derived_type_declares_an_overload_of_its_name()
    {
        // The generated call GetCore(id) on a Repo bound to Repo's GetCore(long), applicable to an int: C# then drops the
        // base's candidates, and the base body, the one the generator had checked, never ran.
        var scenario = Build("""
            namespace Calls;
            public abstract class RepoBase
            {
                protected int GetCore(int id) => id;
                protected Task<int> LoadCore(int id, CancellationToken ct) => Task.FromResult(id * 10);
                protected Dictionary<int, int> GetManyCore(List<int> ids) => ids.ToDictionary(i => i, i => i);
            }
            public partial class Repo : RepoBase
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(long id) => -1;

                [Cached]
                public partial Task<int> Load(int id, CancellationToken ct = default);
                private Task<int> LoadCore(long id, CancellationToken ct) => Task.FromResult(-1);

                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<int, int> GetMany(List<int> ids);
                private Dictionary<int, int> GetManyCore(IEnumerable<int> ids) => ids.ToDictionary(i => i, i => -1);
            }
            public static class Probe
            {
                public static string Run()
                {
                    var repo = new Repo();
                    return repo.Get(1) + " " + repo.Load(2).Result + " " + repo.GetMany([3])[3];
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("1 20 3"));
    }

    [Test]
    public void A_MultiCached_body_beside_an_overload_that_takes_the_missing_keys_list_is_the_one_called()
    {
        // The missing keys are a List<int>, so the overload that takes one was the better match: stop 64 reported it
        // (CACHED039); the generated call now casts them to the body's IEnumerable<int>, which reaches the body.
        var scenario = Build("""
            namespace Calls;
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids", Implementation = nameof(Load))]
                public partial Dictionary<int, string> GetUsers(IEnumerable<int> ids);
                private Dictionary<int, string> Load(IEnumerable<int> ids) => ids.ToDictionary(static i => i, static i => "body " + i);
                private Dictionary<int, string> Load(List<int> ids) => ids.ToDictionary(static i => i, static i => "overload " + i);

                [MultiCached(KeysFrom = "ids")]
                public partial Task<Dictionary<int, string>> GetAsync(IEnumerable<int> ids);
                private Task<Dictionary<int, string>> GetAsyncCore(IEnumerable<int> ids) => Task.FromResult(ids.ToDictionary(static i => i, static i => "body " + i));
                private Task<Dictionary<int, string>> GetAsyncCore(List<int> ids) => Task.FromResult(ids.ToDictionary(static i => i, static i => "overload " + i));
            }
            public static class Probe
            {
                public static string Run()
                {
                    var service = new UserService();
                    return service.GetUsers([1])[1] + ", " + service.GetAsync([2]).Result[2];
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("body 1, body 2"));
    }

    [Test]
    public void A_generic_body_of_a_generic_base_class_is_found()
    {
        // Its type parameter, seen through the constructed base (EchoBase<string>), was not matched with the method's:
        // CACHED002 asked for a body the base already had.
        var scenario = Build("""
            namespace Calls;
            public abstract class EchoBase<TTag>
            {
                protected T EchoCore<T>(T value) where T : notnull => value;
            }
            public partial class Echoes : EchoBase<string>
            {
                [Cached]
                public partial T Echo<T>(T value) where T : notnull;
            }
            public static class Probe
            {
                public static string Run() => new Echoes().Echo("a") + " " + new Echoes().Echo(2);
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("a 2"));
    }

    [Test]
    public void A_generic_sealed_override_in_a_base_class_runs_though_the_derived_type_declares_an_overload_of_its_name()
    {
        // The forwarder to base.EchoCore<T> is generic as the method is, with its constraints; a sealed override, which
        // no further override can replace, is called through base as a method that is not virtual.
        var scenario = Build("""
            namespace Calls;
            public abstract class EchoRoot
            {
                protected virtual T EchoCore<T>(T value) where T : notnull => default!;
            }
            public abstract class EchoBase : EchoRoot
            {
                protected sealed override T EchoCore<T>(T value) => value;
            }
            public partial class Echoes : EchoBase
            {
                [Cached]
                public partial T Echo<T>(T value) where T : notnull;
                private T EchoCore<T>(object value) where T : notnull => default!;
            }
            public static class Probe
            {
                public static string Run() => new Echoes().Echo("a") + " " + new Echoes().Echo(2);
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("a 2"));
    }

    [Test]
    public void A_base_class_body_of_an_InvalidateCache_method_runs_though_the_derived_type_declares_an_overload()
    {
        var scenario = Build("""
            namespace Calls;
            public abstract class StoreBase
            {
                public string Log = "";
                protected void ForgetCore(int id) => Log += "base " + id;
                protected Task ForgetAsyncCore(int id) { Log += " base async " + id; return Task.CompletedTask; }
            }
            public partial class Store : StoreBase
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(int id) => id;

                [InvalidateCache(nameof(Get))]
                public partial void Forget(int id);
                private void ForgetCore(long id) => Log += "derived " + id;

                [InvalidateCache(nameof(Get))]
                public partial Task ForgetAsync(int id);
                private Task ForgetAsyncCore(long id) { Log += " derived async " + id; return Task.CompletedTask; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var store = new Store();
                    store.Forget(1);
                    store.ForgetAsync(2).Wait();
                    return store.Log;
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("base 1 base async 2"));
    }

    [Test]
    public void A_static_base_class_body_runs_though_the_derived_type_declares_an_overload_of_its_name()
    {
        var scenario = Build("""
            namespace Calls;
            public abstract class MathBase
            {
                protected static int TwiceCore(int x) => x * 2;
            }
            public partial class Maths : MathBase
            {
                [Cached]
                public static partial int Twice(int x);
                private static int TwiceCore(long x) => -1;
            }
            public static class Probe
            {
                public static string Run() => Maths.Twice(21).ToString();
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("42"));
    }

    [Test]
    public void A_virtual_base_class_body_an_overload_does_not_hide_is_called_virtually()
    {
        // No overload competes: the plain call, which a further-derived override answers.
        var scenario = Build("""
            namespace Calls;
            public abstract class RepoBase
            {
                protected virtual int GetCore(int id) => id;
            }
            public partial class Repo : RepoBase
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(string id) => -1;
            }
            public sealed class Special : Repo
            {
                protected override int GetCore(int id) => id * 100;
            }
            public static class Probe
            {
                public static string Run() => new Special().Get(2).ToString();
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("200"));
    }

    // ---- Names the generated code writes ----

    [Test]
    public void Keyword_names_of_the_body_KeyBuilder_and_SkipCacheWhen_keep_their_at_sign()
    {
        // Written without '@', they broke the build inside the generated file (CS1001, CS1525).
        var scenario = Build("""
            namespace Calls;
            public partial class Words
            {
                public int Calls;

                [Cached(Implementation = nameof(@default), KeyBuilder = nameof(@checked), SkipCacheWhen = nameof(@is))]
                public partial int Get(int id);
                private int @default(int id) { Calls++; return id * 10; }
                private string @checked(int id) => "word:" + id;
                private bool @is(int result) => result > 100;

                [MultiCached(KeysFrom = "ids", Implementation = nameof(@default), KeyBuilder = nameof(@unchecked), SkipCacheWhen = nameof(@as))]
                public static partial Dictionary<int, int> GetMany(List<int> ids);
                private static Dictionary<int, int> @default(List<int> ids) => ids.ToDictionary(i => i, i => i);
                private static string @unchecked(int id) => "words:" + id;
                private static bool @as(int value) => value > 100;

                [InvalidateCache(nameof(Get), Implementation = nameof(@fixed))]
                public partial void Forget(int id);
                private void @fixed(int id) => Calls += 1000;
            }
            public static class Probe
            {
                public static string Run()
                {
                    var words = new Words();
                    var first = words.Get(1) + words.Get(1) + words.Get(20) + words.Get(20);
                    words.Forget(1);
                    return first + " " + words.Calls + " " + Caches.Get().Get<int>("word:1") + " " + Words.GetMany([7])[7]
                        + " " + Caches.Get().Get<int>("words:7");
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("420 1003 0 7 7"));
    }

    [Test]
    public void A_parameter_named_like_the_KeyBuilder_or_the_SkipCacheWhen_method_does_not_hide_it()
    {
        // The unqualified calls Key(Key, Skip) and Skip(__result) named the parameters (CS0149, CS8820).
        var scenario = Build("""
            namespace Calls;
            public partial class Shadows
            {
                [Cached(KeyBuilder = nameof(Key), SkipCacheWhen = nameof(Skip))]
                public partial int Get(string Key, bool Skip);
                private static string Key(string Key, bool Skip) => "shadow:" + Key;
                private static bool Skip(int result) => result < 0;
                private int GetCore(string Key, bool Skip) => Skip ? -1 : Key.Length;

                [Cached(KeyBuilder = nameof(Name), SkipCacheWhen = nameof(Empty))]
                public partial int Count(string Name, bool Empty);
                private string Name(string Name, bool Empty) => "count:" + Name;
                private bool Empty(int result) => result == 0;
                private int CountCore(string Name, bool Empty) => Empty ? 0 : Name.Length;

                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(Of), SkipCacheWhen = nameof(Dropped))]
                public static partial Dictionary<int, int> GetMany(List<int> ids, [CacheKeyIgnore] int Of, [CacheKeyIgnore] bool Dropped);
                private static string Of(int id) => "of:" + id;
                private static bool Dropped(int value) => value < 0;
                private static Dictionary<int, int> GetManyCore(List<int> ids, int Of, bool Dropped) => ids.ToDictionary(i => i, i => i + Of);

                [InvalidateCache(nameof(GetMany))]
                public static partial void ForgetMany(List<int> ids, int Of);
                private static void ForgetManyCore(List<int> ids, int Of) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var shadows = new Shadows();
                    var cache = Caches.Get();
                    var text = shadows.Get("abc", false) + " " + shadows.Get("x", true) + " " + cache.Get<int>("shadow:abc") + " "
                        + shadows.Count("ab", false) + " " + cache.Get<int>("count:ab") + " " + Shadows.GetMany([1], 10, false)[1] + " " + cache.Get<int>("of:1");
                    Shadows.ForgetMany([1], 10);
                    return text + " " + cache.Exists("of:1");
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("3 -1 3 2 2 11 11 False"));
    }

    [Test]
    public void A_parameter_named_like_a_static_body_does_not_hide_it()
    {
        var scenario = Build("""
            namespace Calls;
            public static partial class Maths
            {
                [Cached]
                public static partial int Twice(int TwiceCore);
                private static int TwiceCore(int TwiceCore) => TwiceCore * 2;

                [Cached]
                public static partial Task<int> Half(int HalfCore, CancellationToken ct = default);
                private static Task<int> HalfCore(int HalfCore, CancellationToken ct) => Task.FromResult(HalfCore / 2);

                [InvalidateCache(nameof(Twice))]
                public static partial void Forget(int TwiceCore, int ForgetCore);
                private static void ForgetCore(int TwiceCore, int ForgetCore) { }
            }
            public sealed partial class Counter
            {
                public int Total;

                [Cached(Key = "total")]
                public partial int Get();
                private int GetCore() => Total;

                [InvalidateCache(nameof(Get))]
                public partial void Add(int AddCore);
                private void AddCore(int AddCore) => Total += AddCore;
            }
            public static class Probe
            {
                public static string Run()
                {
                    var counter = new Counter();
                    counter.Add(5);
                    Maths.Forget(21, 0);
                    return Maths.Twice(21) + " " + Maths.Half(8).Result + " " + counter.Total;
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("42 4 5"));
    }

    [Test]
    public void KeysFrom_names_a_keyword_parameter_with_its_at_sign()
    {
        // "@class" was CACHED007 "names '@class', which is not a parameter", while a Key template takes "{@class}".
        var scenario = Build("""
            namespace Calls;
            public static partial class Rooms
            {
                [MultiCached(KeysFrom = "@class", Tags = new[] { "room:{@class}" })]
                public static partial Dictionary<int, string> Get(List<int> @class);
                private static Dictionary<int, string> GetCore(List<int> @class) => @class.ToDictionary(i => i, i => "room " + i);

                [InvalidateCache(nameof(Get))]
                public static partial void Forget(int @class);
                private static void ForgetCore(int @class) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var first = Rooms.Get([1, 2])[2];
                    Rooms.Forget(2);
                    return first + " " + Caches.Get().Exists("2") + " " + Caches.Get().Exists("1");
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("room 2 False True"));
    }

    [Test]
    public void KeyBuilder_and_SkipCacheWhen_of_a_base_class_are_found_and_called()
    {
        // A KeyBuilder or SkipCacheWhen a base class declares that the type can reach, as a <Name>Core may be: they
        // were looked for in the method's own type alone (CACHED010, CACHED009), for [Cached], [MultiCached] and the
        // [InvalidateCache] that names a [MultiCached] method.
        var scenario = UserScenario.Build(Usings, ["""
            namespace App
            {
                public abstract class RepositoryBase
                {
                    protected static string UserKey(int id) => "user:" + id;
                    protected string ItemKey(int id) => "item:" + id;
                    protected bool IsMissing(string value) => value.Length == 0;
                    protected static string BatchKey(int id) => "batch:" + id;
                }

                public partial class Users : RepositoryBase
                {
                    public int Calls;

                    [Cached(KeyBuilder = nameof(UserKey), SkipCacheWhen = nameof(IsMissing))]
                    public partial string Get(int id);
                    private string GetCore(int id) { Calls++; return id == 0 ? "" : "u" + id; }

                    [Cached(KeyBuilder = nameof(ItemKey))]
                    public partial string Item(int id);
                    private string ItemCore(int id) { Calls++; return "i" + id; }

                    [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(BatchKey))]
                    public partial Dictionary<int, string> Many(List<int> ids);
                    private Dictionary<int, string> ManyCore(List<int> ids)
                    {
                        Calls++;
                        var found = new Dictionary<int, string>();
                        foreach (var id in ids) { found[id] = "m" + id; }
                        return found;
                    }

                    [InvalidateCache(nameof(Many))]
                    public partial void Forget(int ids);
                    private void ForgetCore(int ids) { }
                }

                public static class Probe
                {
                    public static string Run()
                    {
                        var users = new Users();
                        users.Get(1); users.Get(1); users.Get(0); users.Get(0);
                        users.Item(2); users.Item(2);
                        users.Many([3, 4]); users.Many([3, 4]);
                        users.Forget(3);
                        users.Many([3, 4]);
                        var stored = string.Join(",", new[] { "user:1", "user:0", "item:2", "batch:3", "batch:4" }.Where(key => Caches.Get().Exists(key)));
                        return users.Calls + " " + stored;
                    }
                }
            }
            """]);

        // Get(1) once, Get(0) twice (skipped), Item once, Many once, then only key 3 again after Forget(3).
        Assert.That(UserScenario.Run(scenario), Is.EqualTo("6 user:1,item:2,batch:3,batch:4"));
    }
}
