using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;

namespace Cached.CodeFixes;

/// <summary>
/// Writes the method the generated body calls on a miss, as the generator expects it (see its CACHED002 check):
/// private, static when the cached method is, the same return type, the same parameter types and ref kinds.
/// Parameters keep their names; they lose what only the cached method needs (default values, <c>this</c>, Cached's
/// own attributes such as <c>[CacheKeyIgnore]</c>), since the generated body passes every argument itself.
/// </summary>
internal static class ImplementationMethod
{
    /// <summary>The cached method turned into its implementation: its body, trivia and type parameters kept.</summary>
    public static MethodDeclarationSyntax From(MethodDeclarationSyntax cached, string name, SemanticModel model, bool keepAsync, CancellationToken cancellationToken)
    {
        var modifiers = new List<SyntaxToken> { Modifiers.Token(SyntaxKind.PrivateKeyword) };
        foreach (var kind in new[] { SyntaxKind.StaticKeyword, SyntaxKind.UnsafeKeyword, SyntaxKind.AsyncKeyword })
        {
            if (cached.Modifiers.Any(kind) && (kind != SyntaxKind.AsyncKeyword || keepAsync))
            {
                modifiers.Add(Modifiers.Token(kind));
            }
        }

        return cached
            .WithParameterList(ParametersOf(cached.ParameterList, model, cancellationToken))
            .WithAttributeLists(default)
            .WithModifiers(SyntaxFactory.TokenList(modifiers))
            .WithReturnType(cached.ReturnType.WithoutLeadingTrivia())
            .WithExplicitInterfaceSpecifier(null)
            .WithIdentifier(SyntaxFactory.Identifier(name).WithTriviaFrom(cached.Identifier))
            .WithLeadingTrivia(MemberLeadingTrivia(cached));
    }

    /// <summary>
    /// A new implementation of <paramref name="cached"/> whose body throws <see cref="System.NotImplementedException"/>:
    /// the signature the generator wants, for the user to fill in.
    /// </summary>
    public static MethodDeclarationSyntax Stub(MethodDeclarationSyntax cached, string name, SemanticModel model, CancellationToken cancellationToken)
    {
        var exception = SyntaxFactory.ParseTypeName("global::System.NotImplementedException").WithAdditionalAnnotations(Simplifier.Annotation);
        // Laid out here with the file's own line breaks and indentation: the formatter would write its configured line
        // break, mixing CRLF and LF in one file.
        var eol = EndOfLine(cached);
        var indentation = cached.GetLeadingTrivia().LastOrDefault(static t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        var inner = SyntaxFactory.Whitespace(indentation.ToString() + "    ");
        var body = SyntaxFactory.Block(
            SyntaxFactory.Token(SyntaxKind.OpenBraceToken).WithLeadingTrivia(eol, indentation).WithTrailingTrivia(eol),
            SyntaxFactory.SingletonList<StatementSyntax>(SyntaxFactory.ThrowStatement(
                SyntaxFactory.Token(SyntaxKind.ThrowKeyword).WithLeadingTrivia(inner).WithTrailingTrivia(SyntaxFactory.Space),
                SyntaxFactory.ObjectCreationExpression(SyntaxFactory.Token(SyntaxKind.NewKeyword).WithTrailingTrivia(SyntaxFactory.Space), exception, SyntaxFactory.ArgumentList(), null),
                SyntaxFactory.Token(SyntaxKind.SemicolonToken).WithTrailingTrivia(eol))),
            SyntaxFactory.Token(SyntaxKind.CloseBraceToken).WithLeadingTrivia(indentation));
        // A generic method's Core keeps its type parameters and constraints: the generated body calls EchoCore<T>(...).
        var core = From(cached, name, model, keepAsync: false, cancellationToken);
        var last = core.ConstraintClauses.Count > 0 ? core.ConstraintClauses.Last().GetLastToken() : core.ParameterList.CloseParenToken;
        return core.ReplaceToken(last, last.WithTrailingTrivia())
            .WithExpressionBody(null)
            .WithSemicolonToken(default)
            .WithBody(body)
            .WithTrailingTrivia(cached.GetTrailingTrivia());
    }

    /// <summary>The header of a method as one line, for titles: <c>private Task&lt;User&gt; GetUserCore(int id)</c>.</summary>
    public static string Signature(MethodDeclarationSyntax method)
        => method.WithAttributeLists(default).WithBody(null).WithExpressionBody(null).WithSemicolonToken(default)
            .WithConstraintClauses(default).NormalizeWhitespace().ToString().Trim();

    /// <summary>
    /// The leading trivia of a member added after <paramref name="member"/>: a blank line, then the member's own
    /// indentation (the whitespace that starts its line).
    /// </summary>
    public static SyntaxTriviaList MemberLeadingTrivia(MemberDeclarationSyntax member)
    {
        var leading = member.GetLeadingTrivia();
        var indentation = leading.Count > 0 && leading[leading.Count - 1].IsKind(SyntaxKind.WhitespaceTrivia)
            ? leading[leading.Count - 1]
            : SyntaxFactory.ElasticMarker;
        return SyntaxFactory.TriviaList(EndOfLine(member), indentation);
    }

    /// <summary>The line ending the document already uses, so that added lines match the others.</summary>
    public static SyntaxTrivia EndOfLine(SyntaxNode node)
    {
        var existing = node.SyntaxTree.GetRoot().DescendantTrivia().FirstOrDefault(static t => t.IsKind(SyntaxKind.EndOfLineTrivia));
        return existing.IsKind(SyntaxKind.EndOfLineTrivia) ? existing : SyntaxFactory.ElasticCarriageReturnLineFeed;
    }

    public static ParameterListSyntax ParametersOf(ParameterListSyntax list, SemanticModel model, CancellationToken cancellationToken)
        => list.ReplaceNodes(list.Parameters, (original, _) => ParameterOf(original, model, cancellationToken));

    private static ParameterSyntax ParameterOf(ParameterSyntax parameter, SemanticModel model, CancellationToken cancellationToken)
    {
        // Cached's own attributes stay on the partial declaration; a caller-info attribute needs the default value,
        // which Core does not take (the generated method passes every argument), so it goes with it.
        var cachedAttributes = parameter.AttributeLists.SelectMany(static list => list.Attributes)
            .Where(attribute => KnownNames.IsInCachedNamespace(model.GetTypeInfo(attribute, cancellationToken).Type ?? (model.GetSymbolInfo(attribute, cancellationToken).Symbol as IMethodSymbol)?.ContainingType)
                || (parameter.Default is not null && IsCallerInfo(attribute)))
            .ToList();
        var result = parameter;
        if (result.Default is not null)
        {
            result = result.WithDefault(null).WithIdentifier(result.Identifier.WithTrailingTrivia());
        }

        if (result.Modifiers.Any(SyntaxKind.ThisKeyword))
        {
            result = result.WithModifiers(SyntaxFactory.TokenList(result.Modifiers.Where(static m => !m.IsKind(SyntaxKind.ThisKeyword))))
                .WithLeadingTrivia(parameter.GetLeadingTrivia());
        }

        if (cachedAttributes.Count == 0)
        {
            return result;
        }

        // A list left empty goes with its brackets; the parameter keeps what stood before its first attribute.
        var lists = result.AttributeLists
            .Select(list => list.WithAttributes(SyntaxFactory.SeparatedList(list.Attributes.Where(a => !cachedAttributes.Any(c => c.IsEquivalentTo(a))))))
            .Where(static list => list.Attributes.Count > 0);
        return result.WithAttributeLists(SyntaxFactory.List(lists)).WithoutLeadingTrivia().WithLeadingTrivia(parameter.GetLeadingTrivia());
    }

    private static bool IsCallerInfo(AttributeSyntax attribute)
        => LastName(attribute) is "CallerMemberName" or "CallerFilePath" or "CallerLineNumber" or "CallerArgumentExpression";

    private static string LastName(AttributeSyntax attribute)
    {
        var name = attribute.Name switch
        {
            QualifiedNameSyntax qualified => qualified.Right.Identifier.ValueText,
            AliasQualifiedNameSyntax alias => alias.Name.Identifier.ValueText,
            SimpleNameSyntax simple => simple.Identifier.ValueText,
            _ => attribute.Name.ToString(),
        };
        return name.EndsWith("Attribute", System.StringComparison.Ordinal) ? name.Substring(0, name.Length - "Attribute".Length) : name;
    }

    /// <summary>The parameters without the attribute named <paramref name="name"/> (with or without its suffix); a list left empty goes.</summary>
    public static ParameterListSyntax WithoutAttribute(ParameterListSyntax list, string name)
        => list.ReplaceNodes(list.Parameters, (original, _) =>
        {
            if (!original.AttributeLists.SelectMany(static l => l.Attributes).Any(a => LastName(a) == name))
            {
                return original;
            }

            var lists = original.AttributeLists
                .Select(l => l.WithAttributes(SyntaxFactory.SeparatedList(l.Attributes.Where(a => LastName(a) != name))))
                .Where(static l => l.Attributes.Count > 0);
            return original.WithAttributeLists(SyntaxFactory.List(lists)).WithoutLeadingTrivia().WithLeadingTrivia(original.GetLeadingTrivia());
        });
}
