using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// Where the attributes stand. AttributeTargets.Method lets C# accept them on accessors, local functions, lambdas and
/// operators, none of which gets a generated body: left silent, such code would run uncached, or invalidate nothing,
/// with no word (CACHED035). A member of a C# 14 extension block is a method, in a type the generator cannot reopen
/// (CACHED029).
/// </summary>
internal sealed partial class Parser
{
    /// <summary>True for the nodes the attributes belong on; every other node that carries one is <see cref="Misplaced"/>.</summary>
    public static bool IsMethodDeclaration(SyntaxNode node) => node is MethodDeclarationSyntax;

    /// <summary>CACHED035 on each of <paramref name="context"/>'s attributes, named <paramref name="attribute"/> (<c>Cached</c>).</summary>
    public static EquatableArray<DiagnosticInfo> Misplaced(GeneratorAttributeSyntaxContext context, string attribute)
    {
        var site = SiteOf(context.TargetNode, context.TargetSymbol);
        return context.Attributes
            .Select(a => new DiagnosticInfo(
                DiagnosticDescriptors.MisplacedAttribute,
                a.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? context.TargetNode.GetLocation(),
                new[] { attribute, site }.ToEquatableArray()))
            .ToEquatableArray();
    }

    /// <summary>
    /// False, with CACHED029, for a member of a C# 14 extension block. Checked before partial-ness: CACHED001 would
    /// ask to make the block, a type without a name, partial.
    /// </summary>
    private bool CheckExtensionBlock()
    {
        if (!IsInExtensionBlock)
        {
            return true;
        }

        Report(DiagnosticDescriptors.UnsupportedContainingType, _location, MethodName,
            $"an extension block of '{_method.ContainingType.ContainingType.Name}', whose members Cached cannot implement: declare a classic extension method in the static class instead, with a 'this' parameter{ClassicExtensionHint()}");
        return false;
    }

    /// <summary>What the attribute sits on, for the message: <c>the get accessor of 'Counter.Current'</c>.</summary>
    private static string SiteOf(SyntaxNode node, ISymbol? symbol)
    {
        var type = symbol?.ContainingType?.Name ?? node.Ancestors().OfType<BaseTypeDeclarationSyntax>().FirstOrDefault()?.Identifier.ValueText;
        var member = node.Ancestors().OfType<MemberDeclarationSyntax>().FirstOrDefault() switch
        {
            MethodDeclarationSyntax method => $"'{type}.{method.Identifier.ValueText}'",
            BasePropertyDeclarationSyntax property => $"'{type}.{NameOf(property)}'",
            _ => $"'{type}'",
        };
        return node switch
        {
            AccessorDeclarationSyntax accessor => $"the {accessor.Keyword.ValueText} accessor of {member}",
            LocalFunctionStatementSyntax local => $"the local function '{local.Identifier.ValueText}' in {member}",
            AnonymousFunctionExpressionSyntax => $"a lambda in {member}",
            OperatorDeclarationSyntax op => $"the operator {op.OperatorToken.ValueText} of '{type}'",
            ConversionOperatorDeclarationSyntax conversion => $"the {conversion.ImplicitOrExplicitKeyword.ValueText} conversion to '{conversion.Type}' of '{type}'",
            _ => $"a {node.Kind()} in '{type}'",
        };
    }

    private static string NameOf(BasePropertyDeclarationSyntax property) => property switch
    {
        PropertyDeclarationSyntax p => p.Identifier.ValueText,
        EventDeclarationSyntax e => e.Identifier.ValueText,
        IndexerDeclarationSyntax => "this[]",
        _ => property.Kind().ToString(),
    };

    /// <summary>
    /// For a member of an extension block, the classic extension method to declare instead, from the block's receiver:
    /// <c> ('static partial int Twice(this int x)')</c>; empty when the block's syntax does not show it.
    /// </summary>
    private string ClassicExtensionHint()
    {
        // An extension block is a TypeDeclarationSyntax whose parameter list is its receiver, also to this Roslyn.
        if ((_syntax.Parent as TypeDeclarationSyntax)?.ParameterList?.Parameters is not { Count: 1 } receivers)
        {
            return string.Empty;
        }

        var receiver = receivers[0];
        var parameters = new[] { "this " + receiver }.Concat(_syntax.ParameterList.Parameters.Select(static p => p.ToString()));
        return $" ('static partial {_syntax.ReturnType} {SimpleName}({string.Join(", ", parameters)})')";
    }
}
