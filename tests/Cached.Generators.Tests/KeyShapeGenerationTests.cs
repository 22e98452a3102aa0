using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// The code that reshapes ambiguous key values (records, key-value pairs, and collections or tuples holding them)
/// compiles without a warning for every shape a parameter or a [MultiCached] key can take, its names never meeting.
/// </summary>
public sealed class KeyShapeGenerationTests
{
    private const string Shapes = """
        using System;
        using System.Collections.Generic;
        using System.Collections.Immutable;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;
        namespace Demo;

        public sealed record R(string? A, int B);
        public record struct S(string? A);
        public sealed record G<T>(T Value, R Inner);
        public sealed record Node(string? Name, Node? Next);
        public sealed record Deep(List<Dictionary<string, (R, KeyValuePair<int, S?>)>> Levels);
        public sealed record Tree(string? Name, List<Tree> Children, Tree? Parent);
        public readonly record struct Leaf(string? Name, List<Leaf?> Leaves);

        public partial class Service
        {
            [Cached] public partial int A(KeyValuePair<string, R?> p);
            private int ACore(KeyValuePair<string, R?> p) => 1;
            [Cached] public partial int B(KeyValuePair<int, S>? p);
            private int BCore(KeyValuePair<int, S>? p) => 1;
            [Cached] public partial int C((R, int, string, R?, int, int, int, R) big);
            private int CCore((R, int, string, R?, int, int, int, R) big) => 1;
            [Cached] public partial int D(Tuple<R, int>? t);
            private int DCore(Tuple<R, int>? t) => 1;
            [Cached] public partial int E(params R[] rs);
            private int ECore(params R[] rs) => 1;
            [Cached] public partial int F(IEnumerable<R?>? rs);
            private int FCore(IEnumerable<R?>? rs) => 1;
            [Cached] public partial int H(Dictionary<R, List<KeyValuePair<string, R>>> d);
            private int HCore(Dictionary<R, List<KeyValuePair<string, R>>> d) => 1;
            [Cached] public partial int I<T>(List<G<T>> gs);
            private int ICore<T>(List<G<T>> gs) => 1;
            [Cached] public partial int J(R r, R other, (R, R) both, R[] all);
            private int JCore(R r, R other, (R, R) both, R[] all) => 1;
            [Cached] public partial Task<int> K(R[][] jagged, CancellationToken ct);
            private Task<int> KCore(R[][] jagged, CancellationToken ct) => Task.FromResult(1);
            [Cached] public partial int N(Node n);
            private int NCore(Node n) => 1;
            [Cached] public partial int O(ImmutableArray<R> rs);
            private int OCore(ImmutableArray<R> rs) => 1;
            [Cached] public partial int P(ILookup<string, R> lookup);
            private int PCore(ILookup<string, R> lookup) => 1;
            [Cached] public partial ValueTask<int> Q(Deep deep);
            private ValueTask<int> QCore(Deep deep) => new(1);

            [Cached] public partial Task<int> T1(Tree tree, Tree other, Leaf leaf, CancellationToken ct);
            private Task<int> T1Core(Tree tree, Tree other, Leaf leaf, CancellationToken ct) => Task.FromResult(1);
            [Cached] public partial IAsyncEnumerable<int> T2(Tree tree);
            private async IAsyncEnumerable<int> T2Core(Tree tree) { await Task.Yield(); yield return 1; }
            [Cached] public partial int T4<T>(List<G<Tree>> trees, T other);
            private int T4Core<T>(List<G<Tree>> trees, T other) => 1;
            [InvalidateCache(nameof(T1))] public partial Task DropT1(Tree tree, Tree other, Leaf leaf, CancellationToken ct);
            private Task DropT1Core(Tree tree, Tree other, Leaf leaf, CancellationToken ct) => Task.CompletedTask;
            [MultiCached(KeysFrom = "trees")] public partial Dictionary<Tree, int> T3(List<Tree> trees);
            private Dictionary<Tree, int> T3Core(List<Tree> trees) => trees.ToDictionary(static t => t, static t => 1);
            [InvalidateCache(nameof(T3))] public partial void DropT3(Tree trees);
            private void DropT3Core(Tree trees) { }

            [MultiCached(KeysFrom = "keys")] public partial Dictionary<(R, int), int> L(List<(R, int)> keys);
            private Dictionary<(R, int), int> LCore(List<(R, int)> keys) => keys.ToDictionary(static k => k, static k => 1);
            [MultiCached(KeysFrom = "keys")] public partial Dictionary<KeyValuePair<R, int>, int> M(KeyValuePair<R, int>[] keys);
            private Dictionary<KeyValuePair<R, int>, int> MCore(KeyValuePair<R, int>[] keys) => keys.ToDictionary(static k => k, static k => 1);

            [InvalidateCache(nameof(A))] public partial void DropA(KeyValuePair<string, R?> p);
            private void DropACore(KeyValuePair<string, R?> p) { }
            [InvalidateCache(nameof(L))] public partial void DropL((R, int) keys);
            private void DropLCore((R, int) keys) { }
        }
        """;

    [Test]
    public void Every_shape_compiles_without_a_warning()
    {
        var run = GeneratorRunner.Run(Shapes);

        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void Parameters_of_one_key_name_their_reshaping_after_themselves()
    {
        // Compared without white space: the code writer fills each statement to 120 columns.
        var generated = WithoutSpaces(GeneratorRunner.Run(Shapes).Sources.Values.Single());

        Assert.That(generated, Does.Contain(WithoutSpaces(".Argument(r is { } __r_r ? (object?)(__r_r.A, __r_r.B) : null)"
            + ".Argument(other is { } __r_other ? (object?)(__r_other.A, __r_other.B) : null)")));
        Assert.That(generated, Does.Contain(WithoutSpaces("all is { } __r_all ? (object?)global::System.Linq.Enumerable.Select(__r_all, static __s1_all => "
            + "(object?)(__s1_all is { } __s2_all ? (object?)(__s2_all.A, __s2_all.B) : null)) : null")));
    }

    private static string WithoutSpaces(string text) => string.Concat(text.Where(static c => !char.IsWhiteSpace(c)));
}
