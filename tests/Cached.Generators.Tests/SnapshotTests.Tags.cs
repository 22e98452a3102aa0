using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>Snapshots of tagged methods and of [InvalidateTags] (issue 17).</summary>
public sealed partial class SnapshotTests
{
    [Test]
    public void Tagged_Cached_methods_sync_and_async()
    {
        VerifyGenerated(nameof(Tagged_Cached_methods_sync_and_async), """
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public sealed record User(int Id, string Name);
            public partial class Users
            {
                [Cached(Ttl = 60, Key = "user:{id}", Tags = new[] { "user:{id}", "users" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "u");

                [Cached(Tags = new[] { "user:{id:D6}", "region:{region}", "{{literal}}" })]
                public partial Task<User> LoadAsync(int id, string region, CancellationToken ct);
                private Task<User> LoadAsyncCore(int id, string region, CancellationToken ct) => Task.FromResult(new User(id, region));

                [Cached(Key = "all", Tags = new[] { "users" })]
                public static partial ValueTask<int> CountAsync();
                private static ValueTask<int> CountAsyncCore() => new(1);
            }
            """);
    }

    [Test]
    public void Tagged_MultiCached_methods_tag_each_entry_with_its_own_key()
    {
        VerifyGenerated(nameof(Tagged_MultiCached_methods_tag_each_entry_with_its_own_key), """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public sealed record User(int Id, string Name);
            public partial class Users
            {
                [MultiCached(KeysFrom = "ids", Tags = new[] { "user:{ids}", "users", "region:{region}" })]
                public partial Dictionary<int, User> GetUsers(List<int> ids, [CacheKeyIgnore] string region);
                private Dictionary<int, User> GetUsersCore(List<int> ids, string region) => new();

                [MultiCached(KeysFrom = "ids", Tags = new[] { "users" })]
                public partial Task<IReadOnlyDictionary<int, User>> GetUsersAsync(int[] ids, CancellationToken ct);
                private Task<IReadOnlyDictionary<int, User>> GetUsersAsyncCore(int[] ids, CancellationToken ct)
                    => Task.FromResult<IReadOnlyDictionary<int, User>>(new Dictionary<int, User>());
            }
            """);
    }

    [Test]
    public void InvalidateTags_with_and_without_Alias_and_beside_InvalidateCache()
    {
        VerifyGenerated(nameof(InvalidateTags_with_and_without_Alias_and_beside_InvalidateCache), """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public sealed record User(int Id, string Name);
            public partial class Users
            {
                [Cached(Key = "user:{id}", Tags = new[] { "user:{id}", "users" })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "u");

                [MultiCached(KeysFrom = "ids", Tags = new[] { "user:{ids}" })]
                public partial Task<Dictionary<int, User>> GetUsersAsync(List<int> ids);
                private Task<Dictionary<int, User>> GetUsersAsyncCore(List<int> ids) => Task.FromResult(new Dictionary<int, User>());

                [InvalidateTags("user:{id}")]
                public partial void Rename(int id, string name);
                private void RenameCore(int id, string name) { }

                [InvalidateTags("users", Alias = "shared")]
                public partial Task<int> PurgeAsync(CancellationToken ct);
                private Task<int> PurgeAsyncCore(CancellationToken ct) => Task.FromResult(0);

                [InvalidateCache(nameof(GetUser))]
                [InvalidateTags("user:{id:D6}", "users", Implementation = nameof(Remove))]
                public partial ValueTask DeleteAsync(int id);
                private ValueTask Remove(int id) => default;
            }
            """);
    }

    [Test]
    public void Every_shape_of_tagged_method_passes_its_tags_and_compiles_without_warnings()
    {
        var run = GeneratorRunner.Run("""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public static partial class NumberExtensions
            {
                [Cached(Tags = new[] { "number:{x}" })]
                public static partial int Twice(this int x);
                private static int TwiceCore(this int x) => x * 2;

                [Cached(Key = "thrice:{x}", Tags = new[] { "number:{x}" })]
                public static partial Task<int> ThriceAsync(this int x, CancellationToken ct = default);
                private static Task<int> ThriceAsyncCore(int x, CancellationToken ct) => Task.FromResult(x * 3);

                [InvalidateTags("number:{x}")]
                public static partial void Forget(this int x);
                private static void ForgetCore(int x) { }
            }
            public partial struct Shapes
            {
                [Cached(Key = "echo:{T}:{id}", Tags = new[] { "echo:{T}", "id:{id}" })]
                public partial T Echo<T>(int id, T value) where T : notnull;
                private T EchoCore<T>(int id, T value) where T : notnull => value;

                [Cached(Tags = new[] { "names" })]
                public partial IEnumerable<string> Names(int page);
                private IEnumerable<string> NamesCore(int page) => new[] { "a" };

                [Cached(Tags = new[] { "names", "page:{page}" })]
                public static partial Task<IEnumerable<string>> NamesAsync(int page);
                private static Task<IEnumerable<string>> NamesAsyncCore(int page) => Task.FromResult<IEnumerable<string>>(new[] { "a" });

                [Cached(Tags = new[] { "names" })]
                public partial ValueTask<IEnumerable<int>?> Ids(string page);
                private ValueTask<IEnumerable<int>?> IdsCore(string page) => default;

                [Cached(Tags = new[] { "names" })]
                public partial ValueTask<IEnumerable<int>?> Ids(int page);
                private ValueTask<IEnumerable<int>?> IdsCore(int page) => default;

                [InvalidateTags("echo:{T}", "id:{id}")]
                public partial Task ForgetAsync<T>(int id, CancellationToken ct) where T : notnull;
                private Task ForgetAsyncCore<T>(int id, CancellationToken ct) where T : notnull => Task.CompletedTask;
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty, "the generator reported diagnostics");
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty, "the generated code must compile without warnings");
        var generated = string.Join("\n", run.Sources.Values);
        Assert.That(LongLines(generated), Is.Empty);
        generated = Unfilled(generated);
        foreach (var method in new[] { "Twice", "ThriceAsync", "Echo", "Names", "NamesAsync", "Ids_0", "Ids_1" })
        {
            Assert.That(generated, Does.Contain($"__CachedTags_{method}"), method);
        }

        Assert.That(generated, Does.Contain("static __state => __CachedTags_Echo<T>(__state.id)"), "a generic method's tags are built by a generic method");
        Assert.That(generated, Does.Contain("TagInvalidation.InvalidateAsync(__CachedTags_ForgetAsync<T>(id), new global::Cached.Runtime.ICachedMethod[]"), "a generic [InvalidateTags] method reaches the tagged methods of its type, the generic one among them");
        Assert.That(generated, Does.Contain("__cached_Echo<T>.Method"));
        Assert.That(generated, Does.Contain("TagInvalidation.Invalidate(__CachedTags_Forget(x), __cached_Twice, __cached_ThriceAsync);"));
    }

    /// <summary>The code with each statement on one line, as it was before the writer filled it into lines.</summary>
    private static string Unfilled(string code)
        => System.Text.RegularExpressions.Regex.Replace(code.ReplaceLineEndings("\n"), @"\n\s*", " ").Replace("( ", "(", StringComparison.Ordinal);
}
