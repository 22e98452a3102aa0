using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Cached.Runtime;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Cached.CodeFixes;

/// <summary>
/// CACHED005: replaces the unknown name in a Key template's hole with a parameter of the method, one fix per
/// parameter that can be in a key (a <see cref="CancellationToken"/> cannot), the closest name first (edit distance,
/// ignoring case; ties keep the parameters' order). The hole's format and alignment stay.
/// </summary>
/// <remarks>
/// Offered where the generator can point at the hole: a Key that is a plain string literal without escapes. For another
/// Key (a constant, a verbatim or escaped string) the diagnostic covers the whole Key and no fix is offered.
/// </remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(TemplateParameterCodeFixProvider)), Shared]
public sealed class TemplateParameterCodeFixProvider : CodeFixProvider
{
    private const string ClosestKey = DiagnosticIds.UnknownTemplateParameter + ".Closest";
    private const string NameKeyPrefix = DiagnosticIds.UnknownTemplateParameter + ".Use.";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticIds.UnknownTemplateParameter];

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(FixAllAsync);

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        if (await DocumentSyntax.ReadAsync(context.Document, context.CancellationToken).ConfigureAwait(false) is not { } syntax)
        {
            return;
        }

        var document = context.Document;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (Hole.Find(syntax, diagnostic, context.CancellationToken) is not { } hole)
            {
                continue;
            }

            for (var i = 0; i < hole.Candidates.Count; i++)
            {
                var candidate = hole.Candidates[i];
                var change = new TextChange(hole.NameSpan, candidate);
                context.RegisterCodeFix(
                    CodeAction.Create(
                        $"Use parameter '{candidate}' instead of '{hole.Name}'",
                        async ct => document.WithText((await document.GetTextAsync(ct).ConfigureAwait(false)).WithChanges(change)),
                        i == 0 ? ClosestKey : NameKeyPrefix + candidate),
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

        var key = context.CodeActionEquivalenceKey;
        var changes = new Dictionary<TextSpan, TextChange>();
        foreach (var diagnostic in diagnostics)
        {
            if (Hole.Find(syntax, diagnostic, context.CancellationToken) is not { Candidates.Count: > 0 } hole)
            {
                continue;
            }

            var candidate = key == ClosestKey ? hole.Candidates[0]
                : key is not null && key.StartsWith(NameKeyPrefix, StringComparison.Ordinal) && hole.Candidates.Contains(key.Substring(NameKeyPrefix.Length)) ? key.Substring(NameKeyPrefix.Length)
                : null;
            if (candidate is not null)
            {
                changes[hole.NameSpan] = new TextChange(hole.NameSpan, candidate);
            }
        }

        if (changes.Count == 0)
        {
            return null;
        }

        var text = await document.GetTextAsync(context.CancellationToken).ConfigureAwait(false);
        return document.WithText(text.WithChanges(changes.Values.OrderBy(static c => c.Span.Start)));
    }

    /// <summary>The name in one hole of a Key template, where it lies, and the parameters that could replace it.</summary>
    private sealed class Hole
    {
        private Hole(string name, TextSpan nameSpan, IReadOnlyList<string> candidates)
        {
            Name = name;
            NameSpan = nameSpan;
            Candidates = candidates;
        }

        public string Name { get; }

        public TextSpan NameSpan { get; }

        /// <summary>The method's key parameters, closest to <see cref="Name"/> first.</summary>
        public IReadOnlyList<string> Candidates { get; }

        /// <summary>
        /// The diagnostic's span is the hole, <c>{name}</c>, <c>{name:D4}</c> or <c>{name,8}</c>, inside a plain string
        /// literal whose text is its value, as the generator reports it. <c>{@name}</c> names the parameter
        /// <c>name</c> too; the <c>@</c> stays.
        /// </summary>
        public static Hole? Find(DocumentSyntax syntax, Diagnostic diagnostic, CancellationToken cancellationToken)
        {
            var span = diagnostic.Location.SourceSpan;
            var token = syntax.Root.FindToken(span.Start);
            if (!token.IsKind(SyntaxKind.StringLiteralToken) || token.Text != "\"" + token.ValueText + "\""
                || span.Start <= token.SpanStart || span.End >= token.Span.End || span.Length < 2)
            {
                return null;
            }

            var text = token.Text.Substring(span.Start - token.SpanStart, span.Length);
            if (text[0] != '{' || text[text.Length - 1] != '}')
            {
                return null;
            }

            var hole = text.Substring(1, text.Length - 2);
            var end = hole.IndexOfAny([':', ',']);
            var part = end < 0 ? hole : hole.Substring(0, end);
            var start = part.Length - part.TrimStart().Length;
            if (start < part.Length && part[start] == '@')
            {
                start++;
            }

            var name = part.Substring(start).TrimEnd();
            if (name.IndexOfAny(['.', '[', '(', '?', '!']) >= 0)
            {
                // {user.Id}: another parameter's name would key by something else than the member meant; the message
                // points to KeyBuilder instead.
                return null;
            }

            var method = token.Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (method is null || syntax.Model.GetDeclaredSymbol(method, cancellationToken) is not { } symbol)
            {
                return null;
            }

            // A hole may name a parameter or, for its name, a type parameter in scope ({T}): parameters come first.
            var candidates = symbol.Parameters
                .Where(static p => p.Type.ToDisplayString() is not ("System.Threading.CancellationToken" or "System.Threading.CancellationToken?"))
                .Select(static p => p.Name)
                .Concat(TypeParametersInScope(symbol))
                .Select((parameter, index) => (parameter, index, distance: EditDistance.Between(name.ToUpperInvariant(), parameter.ToUpperInvariant()), exact: EditDistance.Between(name, parameter)))
                .OrderBy(static c => c.distance)
                .ThenBy(static c => c.exact)
                .ThenBy(static c => c.index)
                .Select(static c => c.parameter)
                .ToList();
            return new Hole(name, new TextSpan(span.Start + 1 + start, name.Length), candidates);
        }

        private static IEnumerable<string> TypeParametersInScope(IMethodSymbol method)
        {
            foreach (var parameter in method.TypeParameters)
            {
                yield return parameter.Name;
            }

            for (var type = method.ContainingType; type is not null; type = type.ContainingType)
            {
                foreach (var parameter in type.TypeParameters)
                {
                    yield return parameter.Name;
                }
            }
        }
    }
}
