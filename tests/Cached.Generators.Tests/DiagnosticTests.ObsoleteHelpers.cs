using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED045: a KeyBuilder or SkipCacheWhen method marked [Obsolete(error: true)], which the generated code calls. Before
/// it was reported, the build failed inside the generated file (CS0619, which no pragma lifts).
/// </summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED045 ----

    [Test]
    public void CACHED045_a_Cached_KeyBuilder_and_SkipCacheWhen_obsolete_as_errors()
    {
        var diagnostics = Expect("""
            public partial class Users
            {
                [Cached(KeyBuilder = [|nameof(KeyOf)|], SkipCacheWhen = [|nameof(Skip)|])]
                public partial string Get(int id);
                private string GetCore(int id) => "";
                [Obsolete("use NewKeyOf", error: true)]
                private static string KeyOf(int id) => "u:" + id;
                [Obsolete("use NewSkip", true)]
                private static bool Skip(string result) => false;
            }
            """, DiagnosticSeverity.Error, "CACHED045", "CACHED045");

        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "The KeyBuilder of 'Users.Get', 'KeyOf', is [Obsolete] as an error, and the generated code calls it: C# refuses the call (CS0619); mark it [Obsolete] without error: true, or mark 'Users.Get' [Obsolete] too",
            "The SkipCacheWhen of 'Users.Get', 'Skip', is [Obsolete] as an error, and the generated code calls it: C# refuses the call (CS0619); mark it [Obsolete] without error: true, or mark 'Users.Get' [Obsolete] too",
        }));
    }

    [Test]
    public void CACHED045_a_MultiCached_KeyBuilder_obsolete_as_an_error_through_the_virtual_it_overrides()
    {
        Expect("""
            public abstract class PricesBase
            {
                [Obsolete("use NewKey", error: true)]
                protected virtual string PriceKey(int id) => "p:" + id;
            }

            public partial class Prices : PricesBase
            {
                [MultiCached(KeysFrom = "ids", KeyBuilder = [|nameof(PriceKey)|])]
                public partial Dictionary<int, string> Of(List<int> ids);
                private Dictionary<int, string> OfCore(List<int> ids) => new();
            #pragma warning disable CS0672
                protected override string PriceKey(int id) => "p:" + id;
            #pragma warning restore CS0672
            }
            """, DiagnosticSeverity.Error, "CACHED045");
    }

    [Test]
    public void CACHED045_is_not_reported_in_an_obsolete_method_or_type_or_for_a_warning_and_those_build()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class Users
            {
                [Obsolete("moving")]
                [Cached(KeyBuilder = nameof(KeyOf))]
                public partial string Get(int id);
                private string GetCore(int id) => "";
                [Obsolete("use NewKeyOf", error: true)]
                private static string KeyOf(int id) => "u:" + id;

                [Cached(SkipCacheWhen = nameof(Skip))]
                public partial string Find(int id);
                private string FindCore(int id) => "";
                [Obsolete("use NewSkip")]
                private static bool Skip(string result) => false;
            }

            [Obsolete("moving")]
            public partial class OldUsers
            {
                [Cached(KeyBuilder = nameof(KeyOf))]
                public partial string Get(int id);
                private string GetCore(int id) => "";
                [Obsolete("use NewKeyOf", error: true)]
                private static string KeyOf(int id) => "u:" + id;
            }
            """);

        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }
    [Test]
    public void The_forwarder_of_a_body_obsolete_as_an_error_says_what_to_call_instead()
    {
        // An outside check: the user's own code can call the forwarder, which only warns; the warning names the method.
        var run = GeneratorRunner.Run(Prelude + """
            public partial class Users
            {
                [Cached]
                public partial string Get(int id);
                [Obsolete("call Get", error: true)]
                private string GetCore(int id) => "";

                public string Around(int id) => __CachedCore_Get(id);
            }
            """);

        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(new[]
        {
            "'Users.__CachedCore_Get(int)' is obsolete: 'Called by the generated code only: call Get'",
        }));
    }
}
