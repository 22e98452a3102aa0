using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// A [MultiCached] method whose values are a reference type declared non-nullable reads a null stored under a key (by
/// a single-key method sharing the entries) as a miss: the generated state says so. Values declared nullable, value
/// types and code without nullable annotations answer a stored null as a value, as before.
/// </summary>
public sealed class MultiCachedNullValuesGenerationTests
{
    private const string Source = """
        #nullable enable
        using System.Collections.Generic;
        using Cached;

        namespace Demo;

        public sealed record Customer(int Id);

        public partial class Customers
        {
            [MultiCached(KeysFrom = "ids")] public partial Dictionary<int, Customer> GetMany(int[] ids);
            private Dictionary<int, Customer> GetManyCore(int[] ids) => new();

            [MultiCached(KeysFrom = "ids")] public partial Dictionary<int, Customer?> GetMaybe(int[] ids);
            private Dictionary<int, Customer?> GetMaybeCore(int[] ids) => new();

            [MultiCached(KeysFrom = "ids")] public partial Dictionary<int, int> GetCounts(int[] ids);
            private Dictionary<int, int> GetCountsCore(int[] ids) => new();

        #nullable disable
            [MultiCached(KeysFrom = "ids")] public partial Dictionary<int, Customer> GetOblivious(int[] ids);
            private Dictionary<int, Customer> GetObliviousCore(int[] ids) => new();
        }
        """;

    [Test]
    public void Only_values_declared_non_nullable_read_a_stored_null_as_a_miss()
    {
        var run = GeneratorRunner.Run(Source);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        var generated = string.Concat(run.Sources.Values.Single().Where(static c => !char.IsWhiteSpace(c)));

        Assert.Multiple(() =>
        {
            Assert.That(generated, Does.Contain("Method=\"Demo.Customers.GetMany\",NullValuesMiss=true"));
            Assert.That(generated, Does.Contain("Method=\"Demo.Customers.GetMaybe\"}"));
            Assert.That(generated, Does.Contain("Method=\"Demo.Customers.GetCounts\"}"));
            Assert.That(generated, Does.Contain("Method=\"Demo.Customers.GetOblivious\"}"));
        });
    }
}
