using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.CodeFixes;

/// <summary>
/// CACHED001: makes the attributed method and every type around it <c>partial</c>. A method with a body keeps it in a
/// new private <c>&lt;Name&gt;Core</c> (or the method its Implementation argument names), with the same signature,
/// and becomes a partial declaration without a body, whose body the generator writes.
/// </summary>
/// <remarks>
/// Not offered for an abstract or extern method, for an implementing part whose declaration is elsewhere, or when the
/// implementation method already exists with the same parameters: moving the body there would make a duplicate.
/// </remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MethodNotPartialCodeFixProvider)), Shared]
public sealed class MethodNotPartialCodeFixProvider : CodeFixProvider
{
    private const string EquivalenceKey = DiagnosticIds.MethodNotPartial;

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticIds.MethodNotPartial];

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
            var edits = new MemberEdits();
            var title = Plan(Syntax.MethodAt(syntax.Root, diagnostic), syntax.Model, edits, context.CancellationToken);
            if (title is not null)
            {
                context.RegisterCodeFix(CodeAction.Create(title, _ => Task.FromResult(syntax.With(edits)!), EquivalenceKey), diagnostic);
            }
        }
    }

    private static async Task<Document?> FixAllAsync(FixAllContext context, Document document, ImmutableArray<Diagnostic> diagnostics)
    {
        if (await DocumentSyntax.ReadAsync(document, context.CancellationToken).ConfigureAwait(false) is not { } syntax)
        {
            return null;
        }

        var edits = new MemberEdits();
        foreach (var diagnostic in diagnostics)
        {
            Plan(Syntax.MethodAt(syntax.Root, diagnostic), syntax.Model, edits, context.CancellationToken);
        }

        return syntax.With(edits);
    }

    /// <summary>Adds the fix of one method to <paramref name="edits"/> and returns its title; null when there is none.</summary>
    private static string? Plan(MethodDeclarationSyntax? method, SemanticModel model, MemberEdits edits, CancellationToken cancellationToken)
    {
        // An explicit interface implementation cannot be partial (nor have a Core of its qualified name).
        if (method is null || method.ExplicitInterfaceSpecifier is not null || model.GetDeclaredSymbol(method, cancellationToken) is not { } symbol
            || symbol.IsAbstract || symbol.IsExtern || symbol.PartialDefinitionPart is not null)
        {
            return null;
        }

        var types = method.Ancestors().OfType<TypeDeclarationSyntax>().Where(static t => !t.Modifiers.Any(SyntaxKind.PartialKeyword)).ToList();
        var isPartial = method.Modifiers.Any(SyntaxKind.PartialKeyword);
        var hasBody = method.Body is not null || method.ExpressionBody is not null;
        var implementation = KnownNames.ImplementationOf(symbol);
        if (hasBody && HasImplementation(symbol, implementation))
        {
            return null;
        }

        if (hasBody)
        {
            if (edits.Replace(method, Declaration(method)))
            {
                edits.AddAfter(method, ImplementationMethod.From(method, implementation, model, keepAsync: true, cancellationToken));
            }
        }
        else if (!isPartial)
        {
            edits.Replace(method, Modifiers.WithAccessibilityIfRequired(Modifiers.Edit(method, static _ => false, SyntaxKind.PartialKeyword)));
        }

        foreach (var type in types)
        {
            edits.MakePartial(type);
        }

        var names = new List<string>();
        if (!isPartial)
        {
            names.Add($"'{symbol.Name}'");
        }

        names.AddRange(types.Select(static t => $"type '{t.Identifier.ValueText}'"));
        var partial = names.Count == 0 ? null : "Make " + Syntax.JoinNames(names) + " partial";
        if (!hasBody)
        {
            return partial;
        }

        var move = $"the body of '{symbol.Name}' to '{implementation}'";
        return partial is null ? "Move " + move : partial + " and move " + move;
    }

    /// <summary>
    /// The method as a partial declaration: no body, no <c>async</c> (which needs one), <c>partial</c> last, and an
    /// accessibility where C# requires one (a partial method that returns a value: <c>private</c>, what it had). An
    /// <c>[EnumeratorCancellation]</c> stays with the body, in Core: the generated part is no iterator.
    /// </summary>
    private static MethodDeclarationSyntax Declaration(MethodDeclarationSyntax method)
    {
        var body = (SyntaxNode?)method.Body ?? method.ExpressionBody!;
        var beforeBody = body.GetFirstToken().GetPreviousToken();
        var declaration = method.ReplaceToken(beforeBody, beforeBody.WithTrailingTrivia())
            .WithBody(null)
            .WithExpressionBody(null)
            // A comment after the body's closing brace goes with the body, to Core: the declaration keeps the line end.
            .WithSemicolonToken(SyntaxFactory.Token(SyntaxKind.SemicolonToken).WithTrailingTrivia(method.GetTrailingTrivia().Where(static t => t.IsKind(SyntaxKind.EndOfLineTrivia))));
        declaration = declaration.WithParameterList(ImplementationMethod.WithoutAttribute(declaration.ParameterList, "EnumeratorCancellation"));
        return Modifiers.WithAccessibilityIfRequired(Modifiers.Edit(declaration, static m => m.IsKind(SyntaxKind.AsyncKeyword), SyntaxKind.PartialKeyword));
    }

    /// <summary>True when a method of that name takes the same parameter types: the moved body would duplicate it.</summary>
    private static bool HasImplementation(IMethodSymbol method, string name)
        => method.ContainingType.GetMembers(name).OfType<IMethodSymbol>()
            .Any(candidate => !SymbolEqualityComparer.Default.Equals(candidate, method) && Syntax.SameParameterTypes(candidate, method));
}
