using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// The diagnostics of generic methods and types (CACHED015, CACHED019), sequence results (CACHED020, CACHED034) and
/// shapes C# allows but Cached cannot implement (CACHED003, CACHED031, CACHED035).
/// </summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED015 ----

    [Test]
    public void CACHED015_a_generic_MultiCached_method()
    {
        var message = Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<int, T> GetMany[|<T>|](List<int> ids);
                private Dictionary<int, T> GetManyCore<T>(List<int> ids) => new();
            }
            """, "CACHED015");
        Assert.That(message, Is.EqualTo("'UserService.GetMany' is a generic [MultiCached] method: its entries are keyed by the key values alone, so its instantiations would share them; declare a non-generic method for each type"));
    }

    [Test]
    public void CACHED015_a_type_parameter_that_allows_ref_structs()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial int Measure<T>(int id) where T : [|allows ref struct|];
                private int MeasureCore<T>(int id) where T : allows ref struct => id;
            }
            """, "CACHED015");
        Assert.That(message, Is.EqualTo("'UserService.Measure' lets its type parameter 'T' be a ref struct, which cannot be stored: remove 'allows ref struct'"));
    }

    [Test]
    public void CACHED015_a_type_parameter_that_hides_one_of_the_containing_type()
    {
        var diagnostics = Expect("""
            #pragma warning disable CS0693
            public partial class Repository<T>
            {
                [Cached]
                public partial T Find<[|T|]>(T id);
                private T FindCore<T>(T id) => id;
            }
            """, Microsoft.CodeAnalysis.DiagnosticSeverity.Error, "CACHED015");
        Assert.That(diagnostics[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("'Repository.Find' has a type parameter 'T' named like one of its containing type's, which it hides: rename it"));
    }

    [Test]
    public void CACHED015_an_invalidation_of_a_generic_method_without_its_type_parameter()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial T Echo<T>(T value) where T : notnull;
                private T EchoCore<T>(T value) where T : notnull => value;

                [InvalidateCache([|nameof(Echo)|])]
                public partial void Forget(int value);
                private void ForgetCore(int value) { }
            }
            """, "CACHED015");
        Assert.That(message, Is.EqualTo("'UserService.Forget' names generic 'Echo' in [InvalidateCache]: declare its type parameter 'T' on 'Forget' too, so that the entry of each instantiation can be named"));
    }

    [Test]
    public void CACHED015_an_invalidation_of_a_generic_method_whose_type_parameter_lacks_a_constraint()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial T Echo<T>(T value) where T : class, new();
                private T EchoCore<T>(T value) where T : class, new() => value;

                [InvalidateCache([|nameof(Echo)|])]
                public partial void Forget<T>(T value) where T : class;
                private void ForgetCore<T>(T value) where T : class { }
            }
            """, "CACHED015");
        Assert.That(message, Does.EndWith("give 'Forget's type parameter 'T' at least the constraints of 'Echo' (where T : class, new())"));
    }

    [Test]
    public void CACHED002_a_generic_Core_with_a_constraint_the_method_lacks()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial T [|Echo|]<T>(T value) where T : notnull;
                private T EchoCore<T>(T value) where T : class => value;
            }
            """, "CACHED002");
        Assert.That(message, Is.EqualTo("'UserService.Echo' runs 'EchoCore' on a miss, but 'private T EchoCore<T>(T value)' has another signature: change it to 'private T EchoCore<T>(T value) where T : notnull'"));
    }

    [Test]
    public void CACHED010_a_generic_method_with_a_KeyBuilder_that_is_not_generic()
    {
        Single("""
            public partial class UserService
            {
                [Cached(KeyBuilder = [|nameof(UserKey)|])]
                public partial T Get<T>(int id);
                private T GetCore<T>(int id) => default!;
                private static string UserKey(int id) => "user:" + id;
            }
            """, "CACHED010");
    }

    [Test]
    public void CACHED015_a_MultiCached_method_of_a_generic_type()
    {
        var message = Single("""
            public partial class Repo<T>
            {
                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<int, string> [|GetMany|](int[] ids);
                private Dictionary<int, string> GetManyCore(int[] ids) => new();
            }
            """, "CACHED015");
        Assert.That(message, Is.EqualTo("'Repo.GetMany' is a [MultiCached] method of the generic type 'Repo<T>': its entries are keyed by the key values alone, so its closed types would share them; declare it in a non-generic type, or use a [Cached] method, whose default key names the type arguments"));
    }

    // ---- CACHED003, CACHED031: a containing type's type parameter that allows ref struct ----

    [Test]
    public void CACHED003_a_parameter_of_a_containing_type_parameter_that_allows_ref_struct()
    {
        var message = Single("""
            public partial class Box<T> where T : allows ref struct
            {
                [Cached]
                public partial int Measure([|T value|]);
                private int MeasureCore(T value) => 1;
            }
            """, "CACHED003");
        Assert.That(message, Is.EqualTo("Parameter 'value' of 'Box.Measure' is a 'T', a type parameter that allows ref struct, which cannot outlive the call (remove 'allows ref struct' from 'Box<T>'): a cached method cannot take it"));
    }

    [Test]
    public void CACHED031_a_result_of_a_containing_type_parameter_that_allows_ref_struct()
    {
        var message = Single("""
            public partial class Box<T> where T : allows ref struct
            {
                [Cached]
                public partial [|T|] Get(int id);
                private T GetCore(int id) => default!;
            }
            """, "CACHED031");
        Assert.That(message, Is.EqualTo("'Box.Get' returns 'T', a type parameter that allows ref struct, which cannot outlive the call (remove 'allows ref struct' from 'Box<T>'): a cached method returns a value it can keep for another call"));
    }

    // ---- CACHED031: an awaitable other than Task<T> and ValueTask<T> ----

    [TestCase("ConfiguredTaskAwaitable<int>", "Task.FromResult(id).ConfigureAwait(false)", "[Cached]")]
    [TestCase("YieldAwaitable", "Task.Yield()", "[InvalidateCache(nameof(Get))]")]
    public void CACHED031_an_awaitable_other_than_Task_and_ValueTask(string result, string body, string attribute)
    {
        var message = Single($$"""
            public partial class Loader
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(int id) => id;

                {{attribute}}
                public partial [|System.Runtime.CompilerServices.{{result}}|] Load(int id);
                private System.Runtime.CompilerServices.{{result}} LoadCore(int id) => {{body}};
            }
            """, "CACHED031");
        // An invalidating method keeps no value for another call: its message says what the awaitable would do there.
        Assert.That(message, Is.EqualTo(attribute == "[Cached]"
            ? $"'Loader.Load' returns the awaitable '{result}', which would be kept unawaited (a faulted one replayed to every caller): return Task<T> or ValueTask<T>: a cached method returns a value it can keep for another call"
            : $"'Loader.Load' returns the awaitable '{result}', which would not be awaited, so the invalidation would run before the work it stands for: return Task, ValueTask, Task<T> or ValueTask<T>: an invalidating method invalidates once its body's work is done"));
    }

    // ---- CACHED002: explicit implementations and base types ----

    [Test]
    public void CACHED002_of_an_explicit_interface_implementation_names_a_Core_that_can_be_declared()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public interface IStore { int Get(int id); }
            public partial class Store : IStore
            {
                [Cached] partial int IStore.Get(int id);
            }
            """);

        var messages = run.GeneratorDiagnostics.Select(static d => d.Id + ": " + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(messages, Is.EqualTo(new[] { "CACHED002: 'Store.Demo.IStore.Get' needs the method that runs on a miss: add 'private int GetCore(int id)'" }));
    }

    [Test]
    public void CACHED002_is_not_reported_for_a_Core_an_accessible_base_class_declares_but_is_for_a_private_one()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public abstract class RepositoryBase
            {
                protected int GetCore(int id) => id * 10;
                private int FindCore(int id) => id;
            }
            public partial class Repository : RepositoryBase
            {
                [Cached] public partial int Get(int id);
                [Cached] public partial int Find(int id);
            }
            """);

        var messages = run.GeneratorDiagnostics.Select(static d => d.Id + ": " + d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(messages, Is.EqualTo(new[] { "CACHED002: 'Repository.Find' needs the method that runs on a miss: add 'private int FindCore(int id)'" }));
    }

    // ---- CACHED019 ----

    [Test]
    public void CACHED019_a_template_key_of_a_generic_method_that_leaves_out_its_type_parameter()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = [|"echo:{value}"|])]
                public partial T Echo<T>(T value) where T : notnull;
                private T EchoCore<T>(T value) where T : notnull => value;
            }
            """, "CACHED019");
        Assert.That(message, Is.EqualTo("Key \"echo:{value}\" of 'UserService.Echo' does not name type parameter 'T': its instantiations would share entries; add '{T}' to the key"));
    }

    [Test]
    public void CACHED019_a_fixed_key_of_a_method_with_two_type_parameters()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached(Key = [|"all"|])]
                public partial Dictionary<TKey, TValue> All<TKey, TValue>() where TKey : notnull;
                private Dictionary<TKey, TValue> AllCore<TKey, TValue>() where TKey : notnull => new();
            }
            """, "CACHED019");
        Assert.That(message, Does.EndWith("does not name type parameters 'TKey', 'TValue': its instantiations would share entries; add '{TKey}' and '{TValue}' to the key"));
    }

    [Test]
    public void CACHED019_a_fixed_key_and_a_template_of_a_generic_type_that_leave_out_its_type_parameter()
    {
        var diagnostics = Expect("""
            public partial class Outer<TOuter>
            {
                public partial class Settings<T>
                {
                    [Cached(Key = [|"settings"|])]
                    public partial string All();
                    private string AllCore() => "";

                    [Cached(Key = [|"setting:{T}:{id}"|])]
                    public partial string One(int id);
                    private string OneCore(int id) => "";

                    [Cached(Key = "named:{TOuter}:{T}:{id}")]
                    public partial string Named(int id);
                    private string NamedCore(int id) => "";

                    [Cached]
                    public partial string ByDefault(int id);
                    private string ByDefaultCore(int id) => "";
                }
            }
            """, Microsoft.CodeAnalysis.DiagnosticSeverity.Error, "CACHED019", "CACHED019");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "Key \"setting:{T}:{id}\" of 'Settings.One' does not name type parameter 'TOuter': its instantiations would share entries; add '{TOuter}' to the key",
            "Key \"settings\" of 'Settings.All' does not name type parameters 'TOuter', 'T': its instantiations would share entries; add '{TOuter}' and '{T}' to the key",
        }));
    }

    // ---- CACHED034 ----

    [TestCase("IAsyncEnumerable<int>", "private async IAsyncEnumerable<int> ImportCore(int id) { await Task.Yield(); yield return id; }", "an async stream, whose body runs as the caller enumerates it", "[InvalidateCache(nameof(Get))]")]
    [TestCase("IEnumerable<int>", "private IEnumerable<int> ImportCore(int id) { yield return id; }", "made by the iterator 'ImportCore', whose body runs as the caller enumerates it", "[InvalidateCache(nameof(Get))]")]
    [TestCase("IEnumerator<int>", "private IEnumerator<int> ImportCore(int id) { yield return id; }", "made by the iterator 'ImportCore', whose body runs as the caller enumerates it", "[InvalidateTags(\"user:{id}\")]")]
    public void CACHED034_an_invalidating_method_whose_body_runs_as_its_result_is_enumerated(string result, string core, string why, string attribute)
    {
        var message = Single($$"""
            public partial class Users
            {
                [Cached(Tags = new[] { "user:{id}" })]
                public partial string Get(int id);
                private string GetCore(int id) => "";

                {{attribute}}
                public partial [|{{result}}|] Import(int id);
                {{core}}
            }
            """, "CACHED034");
        Assert.That(message, Is.EqualTo($"'Users.Import' returns '{result}', {why}: it would invalidate before its body ran; return Task, ValueTask or void, or a list or an array the body fills before it returns"));
    }

    [Test]
    public void CACHED034_is_not_reported_for_a_sequence_the_body_builds_before_it_returns()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class Users
            {
                [Cached]
                public partial string Get(int id);
                private string GetCore(int id) => "";

                [InvalidateCache(nameof(Get))]
                public partial IEnumerable<int> Import(int id);
                private IEnumerable<int> ImportCore(int id)
                {
                    IEnumerable<int> Later() { yield return id; }
                    return System.Linq.Enumerable.Concat(new List<int> { id }, Later());
                }
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()), Is.Empty);
    }

    // ---- CACHED035 ----

    [Test]
    public void CACHED035_an_attribute_on_an_accessor_a_local_function_a_lambda_or_an_operator()
    {
        var diagnostics = Expect("""
            public partial class Counter
            {
                public int Calls;

                [Cached] public partial int Get(int id);
                private int GetCore(int id) => ++Calls;

                public int Current { [[|Cached|]] get => ++Calls; }

                public int Stored { get; [[|InvalidateCache(nameof(Get))|]] set; }

                [[|MultiCached(KeysFrom = "b")|]] public static Counter operator +(Counter a, int b) => a;

                public int Twice()
                {
                    [[|InvalidateTags("t")|]] int Local(int x) => ++Calls;
                    Func<int, int> lambda = [[|Cached|]] (int x) => ++Calls;
                    return Local(1) + lambda(1);
                }
            }
            """, Microsoft.CodeAnalysis.DiagnosticSeverity.Error, "CACHED035", "CACHED035", "CACHED035", "CACHED035", "CACHED035");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "[Cached] is on a lambda in 'Counter.Twice', whose body Cached does not write, so it would do nothing: put it on a partial method of the type, and call that",
            "[Cached] is on the get accessor of 'Counter.Current', whose body Cached does not write, so it would do nothing: put it on a partial method of the type, and call that",
            "[InvalidateCache] is on the set accessor of 'Counter.Stored', whose body Cached does not write, so it would do nothing: put it on a partial method of the type, and call that",
            "[InvalidateTags] is on the local function 'Local' in 'Counter.Twice', whose body Cached does not write, so it would do nothing: put it on a partial method of the type, and call that",
            "[MultiCached] is on the operator + of 'Counter', whose body Cached does not write, so it would do nothing: put it on a partial method of the type, and call that",
        }));
    }

    // ---- CACHED020 ----

    [Test]
    public void CACHED020_an_enumerator_result()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial [|IEnumerator<User>|] Users(int page);
                private IEnumerator<User> UsersCore(int page) { yield break; }
            }
            """, "CACHED020");
        Assert.That(message, Is.EqualTo("'UserService.Users' returns 'IEnumerator<User>': an enumerator can be read only once, so there is nothing to cache: return IEnumerable<T>, IAsyncEnumerable<T> or an array"));
    }

    [Test]
    public void CACHED020_an_async_stream_inside_a_Task()
    {
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial [|Task<IAsyncEnumerable<User>>|] Users(int page);
                private Task<IAsyncEnumerable<User>> UsersCore(int page) => Task.FromResult<IAsyncEnumerable<User>>(null!);
            }
            """, "CACHED020");
        Assert.That(message, Does.EndWith("an async stream inside a task cannot be read and replayed: return 'IAsyncEnumerable<User>' itself"));
    }

    [Test]
    public void CACHED020_MultiCached_values_that_are_lazy_sequences()
    {
        var message = Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids")]
                public partial [|Dictionary<int, IEnumerable<User>>|] Friends(List<int> ids);
                private Dictionary<int, IEnumerable<User>> FriendsCore(List<int> ids) => new();
            }
            """, "CACHED020");
        Assert.That(message, Is.EqualTo("'UserService.Friends' returns 'Dictionary<int, IEnumerable<User>>': its values are 'IEnumerable<User>', which would be cached as iterators, not items: return arrays or lists as values"));
    }

    // ---- generated names ----

    [Test]
    public void Members_named_like_the_generated_state_and_key_method_do_not_clash_with_them()
    {
        // Regression: CS0102 and CS0111 inside the generated file.
        var run = GeneratorRunner.Run(Prelude + """
            public partial class Collide
            {
                private static int __cached_F = 1;
                private static string __CachedKey_G(int x) => "";

                [Cached]
                public partial int F(int x);
                private int FCore(int x) => x + __cached_F;

                [Cached]
                public partial int G(int x);
                private int GCore(int x) => x + __CachedKey_G(x).Length;

                [InvalidateCache(nameof(G))]
                public partial void Drop(int x);
                private void DropCore(int x) { }
            }
            """);

        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }
}
