using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Cached.Generators;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Docs.Tests.Infrastructure;

/// <summary>
/// Compiles a C# block of the docs the way a user's project would: with Roslyn, the Cached generator (so
/// <c>[Cached]</c> partial methods get their bodies), nullable annotations on, the ASP.NET Core SDK's implicit usings,
/// and references to the Cached assemblies, their dependencies and the .NET and ASP.NET Core shared frameworks.
/// </summary>
/// <remarks>
/// <para>A block may mix <c>using</c>s, statements and type declarations in any order, as docs do. They are
/// regrouped into one file (usings, then the statements as top-level statements, then the types; a file-scoped
/// namespace becomes a block-scoped one, and methods, properties and fields shown on their own become members of a
/// class) with <c>#line</c> directives, so every diagnostic names the markdown file
/// and line. The file's preludes and the block's preludes come first.</para>
/// <para><c>{ ... }</c>, the docs' "body left out", compiles as a body that throws.</para>
/// </remarks>
internal static partial class DocCompiler
{
    /// <summary>The implicit usings of a project on the Microsoft.NET.Sdk.Web SDK with ImplicitUsings enabled.</summary>
    private static readonly string[] s_implicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Net.Http.Json",
        "System.Threading", "System.Threading.Tasks",
        "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http",
        "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    /// <summary>
    /// Warnings that do not fail a block, each because it cannot point at a problem of the docs:
    /// CS0162 (unreachable code) and CS1998 (async without await) follow from a body elided as <c>{ ... }</c>.
    /// </summary>
    private static readonly ImmutableHashSet<string> s_tolerated = ["CS0162", "CS1998"];

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);
    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    [GeneratedRegex(@"\{\s*\.\.\.\s*\}")]
    private static partial Regex Elision();

    public static CompileOutcome Compile(CodeBlock block, IEnumerable<Directive> filePreludes)
    {
        var pieces = filePreludes.Concat(block.Preludes)
            .Select(static d => new Piece(d.Argument, d.File, d.Line, $"the prelude at line {d.Line}"))
            .Append(new Piece(block.Code, block.File, block.FirstLine, "the block"))
            .ToList();

        var problems = new List<string>();
        var source = Assemble(pieces, problems, out var hasStatements);
        if (problems.Count > 0)
        {
            return new CompileOutcome(problems, source);
        }

        var trees = new List<SyntaxTree>
        {
            CSharpSyntaxTree.ParseText(source, s_parseOptions, path: $"{block.File}.block{block.Number}.cs", encoding: Encoding.UTF8),
            CSharpSyntaxTree.ParseText(string.Concat(s_implicitUsings.Select(static u => $"global using global::{u};\n")), s_parseOptions, path: "ImplicitUsings.g.cs", encoding: Encoding.UTF8),
        };
        foreach (var stub in block.Stubs)
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Stubs", stub + ".cs");
            if (!File.Exists(path))
            {
                return new CompileOutcome([$"{block}: there is no stub '{stub}' (tests/Cached.Docs.Tests/Stubs/{stub}.cs)"], source);
            }

            trees.Add(CSharpSyntaxTree.ParseText(File.ReadAllText(path), s_parseOptions, path: $"Stubs/{stub}.cs", encoding: Encoding.UTF8));
        }

        var compilation = CSharpCompilation.Create(
            "DocBlock",
            trees,
            s_references.Value,
            new CSharpCompilationOptions(
                hasStatements ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999));

        // System.Text.Json's generator too, as in a build: the blocks that show a JsonSerializerContext need it completed.
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new CachedGenerator().AsSourceGenerator(), SystemTextJsonGenerator.Instance], parseOptions: s_parseOptions);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var emitted = output.Emit(Stream.Null);
        var diagnostics = generatorDiagnostics.Concat(emitted.Diagnostics)
            .Where(static d => !d.IsSuppressed)
            .Where(static d => d.Severity == DiagnosticSeverity.Error || (d.Severity == DiagnosticSeverity.Warning && !s_tolerated.Contains(d.Id)))
            .Distinct()
            .OrderBy(static d => d.Location.GetMappedLineSpan().StartLinePosition.Line)
            .Select(static d => d.ToString())
            .ToList();
        return new CompileOutcome(diagnostics, source);
    }

    private static string Assemble(IReadOnlyList<Piece> pieces, List<string> problems, out bool hasStatements)
    {
        var usings = new StringBuilder();
        var seenUsings = new HashSet<string>(StringComparer.Ordinal);
        var attributes = new StringBuilder();
        var statements = new StringBuilder();
        var declarations = new StringBuilder();
        var members = new StringBuilder();
        foreach (var piece in pieces)
        {
            var tree = CSharpSyntaxTree.ParseText(Elision().Replace(piece.Code, "{ throw new global::System.NotImplementedException(); }"), s_parseOptions);
            var root = (CompilationUnitSyntax)tree.GetRoot();
            // "public void M() { }" at the top of a block parses as a local function with a modifier it cannot have:
            // it is a member shown on its own, and becomes one below.
            var looseMethods = root.Members.OfType<GlobalStatementSyntax>()
                .Where(static g => g.Statement is LocalFunctionStatementSyntax local && local.Modifiers.Any(static m => SyntaxFacts.IsAccessibilityModifier(m.Kind())))
                .ToHashSet();
            // CS8803 (statements after types) is what the regrouping below fixes.
            foreach (var error in root.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS8803"
                && !(d.Id == "CS0106" && looseMethods.Any(m => m.FullSpan.Contains(d.Location.SourceSpan)))))
            {
                var position = error.Location.GetLineSpan().StartLinePosition;
                problems.Add($"{piece.File}({piece.Line + position.Line},{position.Character + 1}): error {error.Id}: {error.GetMessage(System.Globalization.CultureInfo.InvariantCulture)} (parsing {piece.What})");
            }

            foreach (var directive in root.Usings)
            {
                // A prelude and its block may both import a namespace: the second import would only be noise.
                if (seenUsings.Add(directive.ToString()))
                {
                    Emit(usings, piece, directive);
                }
            }

            foreach (var attribute in root.AttributeLists)
            {
                Emit(attributes, piece, attribute);
            }

            foreach (var member in root.Members)
            {
                switch (member)
                {
                    case GlobalStatementSyntax loose when looseMethods.Contains(loose):
                        Emit(members, piece, loose);
                        break;
                    case GlobalStatementSyntax statement:
                        Emit(statements, piece, statement);
                        break;
                    case FileScopedNamespaceDeclarationSyntax scoped:
                        // Top-level statements cannot follow a file-scoped namespace, so it becomes a block.
                        declarations.Append("#line hidden\n").Append("namespace ").Append(scoped.Name.ToString()).Append("\n{\n");
                        foreach (var directive in scoped.Usings)
                        {
                            Emit(declarations, piece, directive);
                        }

                        foreach (var inner in scoped.Members)
                        {
                            Emit(declarations, piece, inner);
                        }

                        declarations.Append("#line hidden\n}\n");
                        break;
                    case MethodDeclarationSyntax or PropertyDeclarationSyntax or FieldDeclarationSyntax or EventFieldDeclarationSyntax or IndexerDeclarationSyntax:
                        // A test method or a field shown on its own: it compiles as a member of a class.
                        Emit(members, piece, member);
                        break;
                    default:
                        Emit(declarations, piece, member);
                        break;
                }
            }
        }

        if (members.Length > 0)
        {
            declarations.Append("#line hidden\npublic partial class DocBlockMembers\n{\n").Append(members).Append("#line hidden\n}\n");
        }

        hasStatements = statements.Length > 0;
        return new StringBuilder().Append(usings).Append(attributes).Append(statements).Append(declarations).ToString();
    }

    /// <summary>Writes a node where it stood in the markdown, as far as the compiler can tell: same line, same column.</summary>
    private static void Emit(StringBuilder builder, Piece piece, SyntaxNode node)
    {
        var position = node.GetLocation().GetLineSpan().StartLinePosition;
        builder.Append("#line ").Append(piece.Line + position.Line).Append(" \"").Append(piece.File).Append("\"\n")
            .Append(' ', position.Character)
            .Append(node.ToString())
            .Append('\n');
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        // The test's own dependency closure: .NET and ASP.NET Core (FrameworkReference), Cached.Core, Cached.Redis,
        // Cached.MessagePack, StackExchange.Redis, MessagePack, Microsoft.Extensions.*, FakeTimeProvider, NUnit.
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return platform
            .Append(typeof(ICache).Assembly.Location)
            .Append(typeof(Redis.RedisCache).Assembly.Location)
            .Append(typeof(Serializers.MessagePackSerializer).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(static path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }

    private sealed record Piece(string Code, string File, int Line, string What);
}

/// <summary>What compiling a block found: every error and warning (mapped to the markdown), and the source compiled.</summary>
internal sealed record CompileOutcome(IReadOnlyList<string> Problems, string Source)
{
    public string NumberedSource()
    {
        var lines = Source.Split('\n');
        var width = lines.Length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        return string.Join('\n', lines.Select((line, i) => $"{(i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width)}| {line}"));
    }
}
