using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;

namespace Cached.CodeFixes;

/// <summary>
/// CACHED012: marks the parameter <c>[CacheKeyIgnore]</c>, so the default key leaves it out. The attribute is written
/// <c>CacheKeyIgnore</c> where the namespace Cached is in scope (a <c>using Cached;</c>, a global using, a namespace
/// inside Cached), else <c>Cached.CacheKeyIgnore</c>, as such a file names <c>[Cached.Cached]</c>: no using is added.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(CacheKeyIgnoreCodeFixProvider)), Shared]
public sealed class CacheKeyIgnoreCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = DiagnosticIds.KeyParameterWithoutValueToString;

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticIds.KeyParameterWithoutValueToString];

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllAsync);

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        if (await DocumentSyntax.ReadAsync(context.Document, context.CancellationToken).ConfigureAwait(false) is not { } syntax)
        {
            return;
        }

        foreach (var diagnostic in context.Diagnostics)
        {
            if (ParameterAt(syntax.Root, diagnostic) is { } parameter)
            {
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Leave '{parameter.Identifier.ValueText}' out of the key with [CacheKeyIgnore]",
                        _ => Task.FromResult(Ignore(syntax, [parameter])),
                        EquivalenceKey),
                    diagnostic);
            }
        }
    }

    private static async Task<Document?> FixAllAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        if (await DocumentSyntax.ReadAsync(document, context.CancellationToken).ConfigureAwait(false) is not { } syntax)
        {
            return null;
        }

        var parameters = diagnostics.Select(d => ParameterAt(syntax.Root, d)).OfType<ParameterSyntax>().Distinct().ToList();
        return parameters.Count == 0 ? null : Ignore(syntax, parameters);
    }

    /// <summary>The generator reports CACHED012 on the whole parameter.</summary>
    private static ParameterSyntax? ParameterAt(SyntaxNode root, Diagnostic diagnostic)
        => root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<ParameterSyntax>();

    private static Document Ignore(DocumentSyntax syntax, IEnumerable<ParameterSyntax> parameters)
    {
        // Cached.Core is referenced, or the generator would not have reported the diagnostic.
        var attribute = syntax.Model.Compilation.GetTypeByMetadataName(KnownNames.CacheKeyIgnoreAttribute)!;
        var generator = SyntaxGenerator.GetGenerator(syntax.Document);
        return syntax.Document.WithSyntaxRoot(syntax.Root.ReplaceNodes(parameters, (original, _) =>
        {
            // Written in full and marked for simplification: the cleanup after the fix shortens it to what the file's
            // usings allow, as the file names the other Cached attributes.
            var name = (NameSyntax)generator.TypeExpression(attribute);
            var list = SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(SyntaxFactory.Attribute(name)))
                .WithTrailingTrivia(SyntaxFactory.Space);
            var parameter = original.WithoutLeadingTrivia();
            return parameter.WithAttributeLists(parameter.AttributeLists.Insert(0, list.WithLeadingTrivia(original.GetLeadingTrivia())));
        }));
    }
}
