using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>Where a cached method's static state can live: a field of its type, or a nested class of its own.</summary>
internal sealed partial class Parser
{
    /// <summary>
    /// Whether a static initializer of <paramref name="type"/> may run code, and so call one of its cached methods
    /// before the generated state is made: C# runs a partial type's static initializers file by file, the generated
    /// file's after the user's, so the state field would still be null then. Such a type's states go in nested classes,
    /// made when first read. Only literals, <c>default</c>, <c>typeof</c>, <c>nameof</c>, arrays of them, operators on
    /// them and casts to built-in types run nothing; a name may be a property and a cast to a type of the user's an
    /// operator of theirs, so they count as code.
    /// </summary>
    private static bool StaticInitializersMayCall(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is not TypeDeclarationSyntax declaration)
            {
                continue;
            }

            foreach (var member in declaration.Members)
            {
                var initializer = member switch
                {
                    FieldDeclarationSyntax field when IsStatic(field.Modifiers) && !field.Modifiers.Any(SyntaxKind.ConstKeyword)
                        => field.Declaration.Variables.Select(static v => v.Initializer?.Value).FirstOrDefault(static v => v is not null && !RunsNothing(v)),
                    PropertyDeclarationSyntax property when IsStatic(property.Modifiers) && property.Initializer is { } value && !RunsNothing(value.Value)
                        => value.Value,
                    EventFieldDeclarationSyntax field when IsStatic(field.Modifiers)
                        => field.Declaration.Variables.Select(static v => v.Initializer?.Value).FirstOrDefault(static v => v is not null && !RunsNothing(v)),
                    _ => null,
                };
                if (initializer is not null)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool IsStatic(SyntaxTokenList modifiers) => modifiers.Any(SyntaxKind.StaticKeyword);

    private static bool RunsNothing(ExpressionSyntax expression) => expression switch
    {
        LiteralExpressionSyntax or DefaultExpressionSyntax or TypeOfExpressionSyntax => true,
        InvocationExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.ValueText: "nameof" } } => true,
        ParenthesizedExpressionSyntax parenthesized => RunsNothing(parenthesized.Expression),
        CastExpressionSyntax { Type: PredefinedTypeSyntax } cast => RunsNothing(cast.Expression),
        PrefixUnaryExpressionSyntax unary => RunsNothing(unary.Operand),
        BinaryExpressionSyntax binary => RunsNothing(binary.Left) && RunsNothing(binary.Right),
        ConditionalExpressionSyntax conditional => RunsNothing(conditional.Condition) && RunsNothing(conditional.WhenTrue) && RunsNothing(conditional.WhenFalse),
        InitializerExpressionSyntax array => array.Expressions.All(RunsNothing),
        ArrayCreationExpressionSyntax { Initializer: { } elements } creation
            => creation.Type.RankSpecifiers.SelectMany(static r => r.Sizes).All(static s => s is OmittedArraySizeExpressionSyntax || RunsNothing(s)) && RunsNothing(elements),
        ImplicitArrayCreationExpressionSyntax creation => RunsNothing(creation.Initializer),
        _ => false,
    };
}
