using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>Snapshots of generic methods and sequence results (issue 14, items 3 and 4).</summary>
public sealed partial class SnapshotTests
{
    [Test]
    public void Generic_methods_with_default_template_and_builder_keys_repeat_their_constraints()
    {
        VerifyGenerated(nameof(Generic_methods_with_default_template_and_builder_keys_repeat_their_constraints), """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public interface IShape { double Area { get; } }
            public partial class Shapes
            {
                [Cached(Ttl = 5)]
                public partial T Echo<T>(T value) where T : notnull;
                private T EchoCore<T>(T value) where T : notnull => value;

                [Cached(Key = "area:{TShape}:{id}")]
                public partial Task<double> AreaAsync<TShape>(int id, CancellationToken ct = default)
                    where TShape : class, IShape, new();
                private Task<double> AreaAsyncCore<TShape>(int id, CancellationToken ct)
                    where TShape : class, IShape, new() => Task.FromResult(new TShape().Area);

                [Cached(KeyBuilder = nameof(PairKey), SkipCacheWhen = nameof(IsMissing))]
                public static partial ValueTask<TValue?> Pair<TKey, TValue>(TKey key)
                    where TKey : struct, IComparable<TKey>
                    where TValue : unmanaged;
                private static ValueTask<TValue?> PairCore<TKey, TValue>(TKey key)
                    where TKey : struct, IComparable<TKey>
                    where TValue : unmanaged => default;
                private static string PairKey<TKey, TValue>(TKey key)
                    where TKey : struct, IComparable<TKey>
                    where TValue : unmanaged => $"pair:{typeof(TValue).Name}:{key}";
                private static bool IsMissing<TKey, TValue>(TValue? value)
                    where TKey : struct, IComparable<TKey>
                    where TValue : unmanaged => value is null;

                [InvalidateCache(nameof(Echo), nameof(AreaAsync))]
                public partial Task ForgetAsync<T, TShape>(T value, int id)
                    where T : notnull
                    where TShape : class, IShape, new();
                private Task ForgetAsyncCore<T, TShape>(T value, int id)
                    where T : notnull
                    where TShape : class, IShape, new() => Task.CompletedTask;
            }
            """);
    }

    [Test]
    public void Overloads_and_a_method_named_like_an_overload_s_state_each_get_their_own()
    {
        // Get(int) and Get(long) keep their state in __cached_Get_0 and __cached_Get_1; a cached Get_0 beside them must
        // not take the same field.
        var run = GeneratorRunner.Run("""
            using Cached;
            namespace App;
            public partial class Svc
            {
                [Cached] public partial string Get(int id); private string GetCore(int id) => "int";
                [Cached] public partial string Get(long id); private string GetCore(long id) => "long";
                [Cached] public partial string Get_0(int id); private string Get_0Core(int id) => "get_0";
                [InvalidateCache(nameof(Get), nameof(Get_0))] public partial void Forget(int id); private void ForgetCore(int id) { }
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty, "the generator reported diagnostics");
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty, "the generated code must compile without warnings");
    }

    [Test]
    public void Types_whose_file_names_differ_only_in_case_or_by_an_arity_mark_each_get_a_file_of_their_own()
    {
        // Hint names are compared without case, and Box<T>'s file name is Box_1's: a clash must not fail the generator,
        // which would drop every cached method of the project.
        var run = GeneratorRunner.Run("""
            using Cached;
            namespace App;
            public partial class Svc { [Cached] public partial string M(int id); private string MCore(int id) => "svc"; }
            public partial class SVC { [Cached] public partial string M(int id); private string MCore(int id) => "SVC"; }
            public partial class Box<T> { [Cached] public partial string M(int id); private string MCore(int id) => "box"; }
            public partial class Box_1 { [Cached] public partial string M(int id); private string MCore(int id) => "box_1"; }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty, "the generator reported diagnostics");
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty, "the generated code must compile without warnings");
        var files = run.Sources.Keys.Where(static name => name != "Cached.Aliases.g.cs").ToList();
        Assert.That(files, Has.Count.EqualTo(4), string.Join(", ", files));
        Assert.That(files.Distinct(StringComparer.OrdinalIgnoreCase).Count(), Is.EqualTo(4));
    }

    [Test]
    public void Every_kind_of_constraint_is_repeated_and_the_output_compiles_without_warnings()
    {
        var run = GeneratorRunner.Run("""
            using System;
            using System.Collections.Generic;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public abstract class Entity { public abstract int Id { get; } }
            public partial class Constraints
            {
                [Cached]
                public partial TEntity? Reference<TEntity, TBase>(int id)
                    where TBase : Entity
                    where TEntity : TBase, IComparable<TEntity>, new();
                private TE? ReferenceCore<TE, TB>(int id)
                    where TB : Entity
                    where TE : TB, IComparable<TE> => null;

                [Cached(Key = "nullable:{T}:{value}")]
                public partial Task<List<T>> NullableReference<T>(T? value) where T : class?;
                private Task<List<T>> NullableReferenceCore<T>(T? value) where T : class? => Task.FromResult(new List<T>());

                [Cached]
                public static partial int Size<T>(T value) where T : unmanaged;
                private static int SizeCore<T>(T value) where T : unmanaged => 1;

                [Cached]
                public partial ValueTask<T?> Maybe<T>(T? value) where T : struct, IFormattable;
                private ValueTask<T?> MaybeCore<T>(T? value) where T : struct, IFormattable => new(value);

                [InvalidateCache(nameof(Size))]
                public partial void Forget<T>(T value) where T : unmanaged, IFormattable;
                private void ForgetCore<T>(T value) where T : unmanaged, IFormattable { }

                [InvalidateCache(nameof(Maybe))]
                public partial void ForgetMaybe<T>(T? value) where T : struct, IFormattable;
                private void ForgetMaybeCore<T>(T? value) where T : struct, IFormattable { }
            }
            """);
        Assert.That(run.GeneratorDiagnostics, Is.Empty, "the generator reported diagnostics");
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty, "the generated code must compile without warnings");
        var generated = run.Sources.Single().Value;
        Assert.That(generated, Does.Contain("where TEntity : TBase, global::System.IComparable<TEntity>, new()"));
        Assert.That(generated, Does.Contain("where T : class?"));
        Assert.That(generated, Does.Contain("where T : unmanaged, global::System.IFormattable"));
    }

    [Test]
    public void Generic_method_of_a_generic_type_with_the_default_key()
    {
        VerifyGenerated(nameof(Generic_method_of_a_generic_type_with_the_default_key), """
            using System.Collections.Generic;
            using Cached;
            namespace Demo;
            public partial class Repo<TEntity>
                where TEntity : class
            {
                [Cached]
                public partial TEntity? Find<TId>(TId id, List<TId> also);
                private TEntity? FindCore<TId>(TId id, List<TId> also) => null;
            }
            """);
    }

    [Test]
    public void Sequence_results_are_cached_as_their_items()
    {
        VerifyGenerated(nameof(Sequence_results_are_cached_as_their_items), """
            using System.Collections.Generic;
            using System.Runtime.CompilerServices;
            using System.Threading;
            using System.Threading.Tasks;
            using Cached;
            namespace Demo;
            public sealed record Post(int Id, string Title);
            public partial class Feed
            {
                [Cached(Ttl = 30)]
                public partial IEnumerable<string> Tags(int id);
                private IEnumerable<string> TagsCore(int id)
                {
                    yield return "tag" + id;
                }

                [Cached(Key = "posts:{page}", SkipCacheWhen = nameof(IsEmpty))]
                public partial Task<IEnumerable<Post>?> PostsAsync(int page, CancellationToken ct);
                private Task<IEnumerable<Post>?> PostsAsyncCore(int page, CancellationToken ct)
                    => Task.FromResult<IEnumerable<Post>?>(null);

                [Cached]
                public static partial ValueTask<IEnumerable<int>> IdsAsync();
                private static ValueTask<IEnumerable<int>> IdsAsyncCore() => new([1, 2]);

                [Cached(Key = "stream:{page}", SkipCacheWhen = nameof(IsEmpty))]
                public partial IAsyncEnumerable<Post> Stream(int page, CancellationToken ct = default);
                private async IAsyncEnumerable<Post> StreamCore(int page, [EnumeratorCancellation] CancellationToken ct)
                {
                    await Task.Yield();
                    yield return new Post(page, "first");
                }

                [Cached]
                public static partial IAsyncEnumerable<T> Repeat<T>(T value, int times);
                private static async IAsyncEnumerable<T> RepeatCore<T>(T value, int times)
                {
                    for (var i = 0; i < times; i++)
                    {
                        await Task.Yield();
                        yield return value;
                    }
                }

                private static bool IsEmpty(IReadOnlyCollection<Post>? posts) => posts is not { Count: > 0 };
            }
            """);
    }
}
