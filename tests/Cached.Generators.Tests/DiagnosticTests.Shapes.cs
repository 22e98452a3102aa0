using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>The diagnostics of generic methods (CACHED015, CACHED019) and sequence results (CACHED020).</summary>
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
