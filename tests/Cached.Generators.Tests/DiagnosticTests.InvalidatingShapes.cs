using Microsoft.CodeAnalysis;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED003 and CACHED031 on [InvalidateCache] and [InvalidateTags] methods: the parameters and results an
/// invalidating method cannot have (docs/decorators.md "What an invalidating method may look like"), with messages
/// about invalidating methods, which before spoke of "a cached method" and of values kept for another call.
/// </summary>
public sealed partial class DiagnosticTests
{
    private const string CachedUserWithGet = """
        public partial class UserService
        {
            [Cached]
            public partial User GetUser(int id);
            private User GetUserCore(int id) => new(id, "name");

        """;

    [Test]
    public void CACHED003_an_InvalidateCache_method_with_ref_out_and_in_parameters()
    {
        var diagnostics = Expect(CachedUserWithGet + """
                [InvalidateCache(nameof(GetUser))]
                public partial void Update(int id, [|ref int a|], [|out int b|], [|in int c|]);
                private void UpdateCore(int id, ref int a, out int b, in int c) => b = 0;
            }
            """, DiagnosticSeverity.Error, "CACHED003", "CACHED003", "CACHED003");
        const string Why = ", which the generated method would pass on by value (an async one can take no reference at all): an invalidating method cannot take it";
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "Parameter 'a' of 'UserService.Update' is a 'ref' parameter" + Why,
            "Parameter 'b' of 'UserService.Update' is an 'out' parameter" + Why,
            "Parameter 'c' of 'UserService.Update' is an 'in' parameter" + Why,
        }));
    }

    [Test]
    public void CACHED003_an_InvalidateTags_method_with_a_span_and_a_second_token()
    {
        var diagnostics = Expect("""
            public partial class UserService
            {
                [InvalidateTags("users", Alias = "shared")]
                public partial void Rename([|ReadOnlySpan<char> name|]);
                private void RenameCore(ReadOnlySpan<char> name) { }

                [InvalidateTags("users", Alias = "shared")]
                public partial Task RenameAsync(int id, CancellationToken a, [|CancellationToken b|]);
                private Task RenameAsyncCore(int id, CancellationToken a, CancellationToken b) => Task.CompletedTask;
            }
            """, DiagnosticSeverity.Error, "CACHED003", "CACHED003");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "Parameter 'b' of 'UserService.RenameAsync' is a second CancellationToken, and the generated method waits for its invalidation under one token (combine them with CancellationTokenSource.CreateLinkedTokenSource before the call): an invalidating method cannot take it",
            "Parameter 'name' of 'UserService.Rename' is a ref struct: an invalidating method cannot take it",
        }));
    }

    [TestCase("ref int", "by 'ref'")]
    [TestCase("ref readonly int", "by 'ref readonly'")]
    [TestCase("ReadOnlySpan<int>", "the ref struct 'ReadOnlySpan<int>'")]
    public void CACHED031_an_InvalidateCache_method_that_returns_by_reference_or_a_ref_struct(string result, string shape)
    {
        var message = Single(CachedUserWithGet + $$"""
                private static int[] s_values = [1, 2, 3];

                [InvalidateCache(nameof(GetUser))]
                public partial [|{{result}}|] Update(int id);
                private {{result}} UpdateCore(int id) => {{(result.StartsWith("ref", StringComparison.Ordinal) ? "ref s_values[id]" : "s_values")}};
            }
            """, "CACHED031");
        Assert.That(message, Is.EqualTo($"'UserService.Update' returns {shape}: an invalidating method returns its body's result once it has invalidated, holding it meanwhile as a plain value: return a value (a copy, an array or ReadOnlyMemory<T> instead of a span)"));
    }
}
