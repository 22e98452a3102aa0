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
/// CACHED002: gives the cached method the implementation the generated body calls on a miss.
/// <list type="bullet">
/// <item><description>
/// Add: a new method with the signature the generator expects (<c>private</c>, static when the cached method is,
/// the same return type and parameters), whose body throws <see cref="System.NotImplementedException"/>. When a method
/// of that name exists with other parameter types, the new one is an overload beside it; when it has the same
/// parameter types (another return type or static-ness), no overload is possible and only Change is offered.
/// </description></item>
/// <item><description>
/// Change: the existing method of that name, in the same file, gets the expected return type, static-ness and
/// parameter types; it keeps its body, and its parameter names when it has as many parameters.
/// </description></item>
/// </list>
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ImplementationCodeFixProvider)), Shared]
public sealed class ImplementationCodeFixProvider : CodeFixProvider
{
    private const string AddKey = DiagnosticIds.ImplementationMissing + ".Add";
    private const string ChangeKey = DiagnosticIds.ImplementationMissing + ".Change";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = [DiagnosticIds.ImplementationMissing];

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
            if (Target.Find(syntax, diagnostic, context.CancellationToken) is not { } target)
            {
                continue;
            }

            var stub = target.Stub(syntax.Model, context.CancellationToken);
            var signature = ImplementationMethod.Signature(stub);
            if (target.CanAdd)
            {
                var edits = new MemberEdits();
                edits.AddAfter(target.Method, stub);
                context.RegisterCodeFix(CodeAction.Create($"Add '{signature}'", _ => Task.FromResult(syntax.With(edits)!), AddKey), diagnostic);
            }

            foreach (var namesake in target.NamesakesIn(syntax.Root.SyntaxTree, context.CancellationToken))
            {
                var edits = new MemberEdits();
                edits.Replace(namesake, target.Change(namesake, syntax.Model, context.CancellationToken));
                var title = $"Change '{ImplementationMethod.Signature(namesake)}' to '{signature}'";
                context.RegisterCodeFix(CodeAction.Create(title, _ => Task.FromResult(syntax.With(edits)!), ChangeKey), diagnostic);
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
        var added = new HashSet<(SyntaxNode, string)>();
        foreach (var diagnostic in diagnostics)
        {
            if (Target.Find(syntax, diagnostic, context.CancellationToken) is not { } target)
            {
                continue;
            }

            if (context.CodeActionEquivalenceKey == AddKey && target.CanAdd && added.Add((target.Method, target.Name)))
            {
                edits.AddAfter(target.Method, target.Stub(syntax.Model, context.CancellationToken));
            }
            else if (context.CodeActionEquivalenceKey == ChangeKey
                && target.NamesakesIn(syntax.Root.SyntaxTree, context.CancellationToken).FirstOrDefault() is { } namesake)
            {
                edits.Replace(namesake, target.Change(namesake, syntax.Model, context.CancellationToken));
            }
        }

        return syntax.With(edits);
    }

    /// <summary>A cached method and the name of the implementation it lacks.</summary>
    private sealed class Target
    {
        private readonly IMethodSymbol _symbol;
        private readonly ImmutableArray<IMethodSymbol> _namesakes;

        private Target(MethodDeclarationSyntax method, IMethodSymbol symbol, string name)
        {
            Method = method;
            _symbol = symbol;
            Name = name;
            _namesakes = symbol.ContainingType.GetMembers(name).OfType<IMethodSymbol>()
                .Where(m => m.MethodKind == MethodKind.Ordinary
                    && !SymbolEqualityComparer.Default.Equals(m, symbol)
                    && !SymbolEqualityComparer.Default.Equals(m.PartialDefinitionPart, symbol))
                .ToImmutableArray();
        }

        public MethodDeclarationSyntax Method { get; }

        public string Name { get; }

        /// <summary>False when a method of the name has the same parameter types: C# cannot have both.</summary>
        public bool CanAdd => !_namesakes.Any(m => Syntax.SameParameterTypes(m, _symbol));

        /// <summary>
        /// The diagnostic lies on the method's name (the implementation is <c>&lt;Name&gt;Core</c>) or on the
        /// attribute's Implementation argument (then it is the name that argument gives).
        /// </summary>
        public static Target? Find(DocumentSyntax syntax, Diagnostic diagnostic, CancellationToken cancellationToken)
        {
            var model = syntax.Model;
            var token = syntax.Root.FindToken(diagnostic.Location.SourceSpan.Start);
            var method = token.Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
            if (method is null || model.GetDeclaredSymbol(method, cancellationToken) is not { } symbol)
            {
                return null;
            }

            var argument = token.Parent!.AncestorsAndSelf().OfType<AttributeArgumentSyntax>().FirstOrDefault();
            if (argument is null)
            {
                return new Target(method, symbol, symbol.Name + KnownNames.ImplementationSuffix);
            }

            return argument.NameEquals?.Name.Identifier.ValueText == KnownNames.Implementation
                && model.GetConstantValue(argument.Expression, cancellationToken).Value is string name
                && SyntaxFacts.IsValidIdentifier(name)
                ? new Target(method, symbol, name)
                : null;
        }

        public MethodDeclarationSyntax Stub(SemanticModel model, CancellationToken cancellationToken)
            => ImplementationMethod.Stub(Method, Name, model, cancellationToken);

        /// <summary>The methods of the name declared in <paramref name="tree"/>: Change rewrites them there.</summary>
        public IEnumerable<MethodDeclarationSyntax> NamesakesIn(SyntaxTree tree, CancellationToken cancellationToken)
            => _namesakes.SelectMany(static m => m.DeclaringSyntaxReferences)
                .Where(reference => reference.SyntaxTree == tree)
                .Select(reference => reference.GetSyntax(cancellationToken))
                .OfType<MethodDeclarationSyntax>();

        /// <summary>The namesake with the expected return type, static-ness and parameter types; its body as it was.</summary>
        public MethodDeclarationSyntax Change(MethodDeclarationSyntax namesake, SemanticModel model, CancellationToken cancellationToken)
        {
            var expected = Method.ParameterList.Parameters;
            var actual = namesake.ParameterList.Parameters;
            ParameterListSyntax parameters;
            if (expected.Count == actual.Count)
            {
                parameters = namesake.ParameterList.ReplaceNodes(actual, (original, _) =>
                {
                    var source = expected[actual.IndexOf(original)];
                    // A default value the new type may not hold goes: Core is always called with every argument.
                    return original
                        .WithDefault(null)
                        .WithIdentifier(original.Default is null ? original.Identifier : original.Identifier.WithTrailingTrivia())
                        .WithType(source.Type?.WithTriviaFrom(original.Type!))
                        .WithModifiers(SyntaxFactory.TokenList(original.Modifiers.Where(static m => !IsRefKind(m))
                            .Concat(source.Modifiers.Where(IsRefKind).Select(static m => m.WithoutTrivia().WithTrailingTrivia(SyntaxFactory.Space)))));
                });
            }
            else
            {
                parameters = ImplementationMethod.ParametersOf(Method.ParameterList, model, cancellationToken).WithTriviaFrom(namesake.ParameterList);
            }

            var changed = namesake
                .WithReturnType(Method.ReturnType.WithTriviaFrom(namesake.ReturnType))
                .WithParameterList(parameters);
            if (Method.TypeParameterList is { } typeParameters)
            {
                // The expected types name the method's type parameters: the namesake declares them, constraints too.
                var clauses = Method.ConstraintClauses;
                if (clauses.Count > 0)
                {
                    // What followed the parameter list (the space before "=>" or the line before "{") follows the clauses.
                    clauses = clauses.Replace(clauses.Last(), clauses.Last().WithoutTrivia().WithTrailingTrivia(changed.ParameterList.CloseParenToken.TrailingTrivia));
                    changed = changed.WithParameterList(changed.ParameterList.WithCloseParenToken(changed.ParameterList.CloseParenToken.WithTrailingTrivia(SyntaxFactory.Space)));
                }

                changed = changed
                    .WithIdentifier(changed.Identifier.WithTrailingTrivia())
                    .WithTypeParameterList(typeParameters.WithoutTrivia())
                    .WithConstraintClauses(clauses);
            }
            return Modifiers.WithStatic(changed, _symbol.IsStatic);
        }

        private static bool IsRefKind(SyntaxToken modifier)
            => modifier.Kind() is SyntaxKind.RefKeyword or SyntaxKind.OutKeyword or SyntaxKind.InKeyword or SyntaxKind.ReadOnlyKeyword;
    }
}
