using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators.Tests;

/// <summary>
/// Which records the generator writes member by member, read from the code it writes: only those whose every printed
/// member generated code can read and a key can write; every other record keeps its own text, as before.
/// </summary>
public sealed class RecordKeyGenerationTests
{
    private const string Method = """

        public partial class Service
        {
            [Cached]
            public partial int M(R o);
            private int MCore(R o) => 1;
        }
        """;

    /// <summary>The generated key write of parameter <c>o</c>, after compiling <paramref name="source"/> with no problem.</summary>
    private static string KeyWriteOf(params string[] sources)
    {
        var run = GeneratorRunner.Run(sources.Select(static s => "using Cached;\nusing System;\nnamespace Demo;\n" + s).ToArray());
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        var generated = run.Sources.Values.Single();
        var start = generated.IndexOf(".Argument(", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThan(0), generated);
        return generated.Substring(start, generated.IndexOf(";", start, StringComparison.Ordinal) - start);
    }

    [TestCase("public sealed record R(int Y) { public int X { private get; init; } }", TestName = "A_record_with_a_getter_less_public_than_its_property_keeps_its_text")]
    [TestCase("public record B(int X); public sealed record R : B { public R(int b, int x) : base(b) { X = x; } public new int X { get; init; } }", TestName = "A_record_that_hides_a_printed_member_keeps_its_text")]
    [TestCase("public sealed record R(int A) { [Obsolete(\"old\")] public int Old { get; init; } }", TestName = "A_record_with_an_obsolete_member_keeps_its_text")]
    [TestCase("public sealed record R(int[] Arr) { public Span<int> S => Arr; }", TestName = "A_record_with_a_ref_struct_member_keeps_its_text")]
    [TestCase("public sealed record R(ReadOnlyMemory<byte> Data);", TestName = "A_record_with_a_memory_member_keeps_its_text")]
    public void Records_whose_members_generated_code_cannot_write_exactly_keep_their_text(string record)
    {
        // Regressions of the member-by-member key: a member left out (two unequal records, one key), or a build error.
        Assert.That(KeyWriteOf(record + Method), Is.EqualTo(".Argument(o)"));
    }

    [Test]
    public void A_record_of_one_dynamic_member_is_written_as_a_one_element_tuple_of_object()
    {
        Assert.That(KeyWriteOf("public sealed record R(dynamic D);" + Method), Is.EqualTo(".Argument(o is { } __r_o ? (object?)global::System.ValueTuple.Create<object?>(__r_o.D) : null)"));
    }

    [Test]
    public void A_record_from_a_referenced_assembly_is_written_member_by_member()
    {
        // Its compiler-written ToString is marked [CompilerGenerated] there, not implicitly declared as in source.
        var library = CSharpCompilation.Create(
            "Contracts",
            [CSharpSyntaxTree.ParseText("namespace Contracts; public sealed record Pair(string? A, string? B);")],
            GeneratorRunner.Compile().References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        Assert.That(library.Emit(image).Success, Is.True);
        var consumer = GeneratorRunner.Compile("""
            using Cached;
            namespace Demo;
            public partial class Service
            {
                [Cached]
                public partial int M(Contracts.Pair o);
                private int MCore(Contracts.Pair o) => 1;
            }
            """).AddReferences(MetadataReference.CreateFromImage(image.ToArray()));

        var run = GeneratorRunner.Run(consumer);

        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources.Values.Single(), Does.Contain(".Argument(o is { } __r_o ? (object?)(__r_o.A, __r_o.B) : null)"));
    }
}
