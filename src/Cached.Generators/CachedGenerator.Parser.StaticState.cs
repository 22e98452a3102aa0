using System.Linq;
using System.Runtime.CompilerServices;
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
    /// made when first read. Only literals, <c>default</c>, <c>typeof</c>, <c>nameof</c>, members of built-in types,
    /// arrays and collections of them, operators on them and casts to built-in types run nothing, stored into a
    /// built-in type; a name may be a property and a cast or a store into a type of the user's an operator of theirs,
    /// so they count as code.
    /// </summary>
    private static bool StaticInitializersMayCall(INamedTypeSymbol type)
        // Asked for each method of the type and each method naming one of them: read once per type of a compilation.
        => (bool)s_staticInitializersMayCall.GetValue(type, static t => ReadStaticInitializers(t) ? s_true : s_false);

    private static readonly ConditionalWeakTable<INamedTypeSymbol, object> s_staticInitializersMayCall = new();

    private static bool ReadStaticInitializers(INamedTypeSymbol type)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is not TypeDeclarationSyntax declaration)
            {
                continue;
            }

            foreach (var member in declaration.Members)
            {
                var mayCall = member switch
                {
                    FieldDeclarationSyntax field when IsStatic(field.Modifiers) && !field.Modifiers.Any(SyntaxKind.ConstKeyword)
                        => field.Declaration.Variables.Any(v => v.Initializer is { } value && !RunsNothing(value.Value, field.Declaration.Type)),
                    PropertyDeclarationSyntax property when IsStatic(property.Modifiers)
                        => property.Initializer is { } value && !RunsNothing(value.Value, property.Type),
                    EventFieldDeclarationSyntax field when IsStatic(field.Modifiers)
                        => field.Declaration.Variables.Any(v => v.Initializer is { } value && !RunsNothing(value.Value, field.Declaration.Type)),
                    _ => false,
                };
                if (mayCall)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="value"/>, stored in a member of <paramref name="type"/>, runs nothing of the user's:
    /// <c>default</c> anywhere, <c>null</c> into a nullable or array type; other constants only into a built-in type (or
    /// an array of one), since a literal stored into a type of the user's goes through its implicit operator.
    /// </summary>
    private static bool RunsNothing(ExpressionSyntax value, TypeSyntax type)
        => Unsuppressed(value) is LiteralExpressionSyntax { RawKind: (int)SyntaxKind.DefaultLiteralExpression } or DefaultExpressionSyntax
            // null into a struct of the user's goes through its operator from a reference type; into T? it does not.
            || (Unsuppressed(value) is LiteralExpressionSyntax { RawKind: (int)SyntaxKind.NullLiteralExpression } && type is NullableTypeSyntax or ArrayTypeSyntax)
            || (IsBuiltIn(type is ArrayTypeSyntax array ? array.ElementType : type) && RunsNothing(value));

    private static bool IsBuiltIn(TypeSyntax type) => type is PredefinedTypeSyntax or NullableTypeSyntax { ElementType: PredefinedTypeSyntax };

    private static ExpressionSyntax Unsuppressed(ExpressionSyntax value)
        => value is PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression } suppressed ? Unsuppressed(suppressed.Operand) : value;

    private static bool IsStatic(SyntaxTokenList modifiers) => modifiers.Any(SyntaxKind.StaticKeyword);

    private static bool RunsNothing(ExpressionSyntax expression) => expression switch
    {
        LiteralExpressionSyntax or DefaultExpressionSyntax or TypeOfExpressionSyntax => true,
        // string.Empty, int.MaxValue: members of the built-in types.
        MemberAccessExpressionSyntax { Expression: PredefinedTypeSyntax } => true,
        PostfixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.SuppressNullableWarningExpression } suppressed => RunsNothing(suppressed.Operand),
        CollectionExpressionSyntax collection => collection.Elements.All(static e => e is ExpressionElementSyntax element && RunsNothing(element.Expression)),
        ArrayCreationExpressionSyntax { Initializer: null, Type.ElementType: PredefinedTypeSyntax } empty => empty.Type.RankSpecifiers.SelectMany(static r => r.Sizes).All(static s => s is OmittedArraySizeExpressionSyntax || RunsNothing(s)),
        InvocationExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.ValueText: "nameof" } } => true,
        ParenthesizedExpressionSyntax parenthesized => RunsNothing(parenthesized.Expression),
        CastExpressionSyntax { Type: PredefinedTypeSyntax } cast => RunsNothing(cast.Expression),
        PrefixUnaryExpressionSyntax unary => RunsNothing(unary.Operand),
        BinaryExpressionSyntax binary => RunsNothing(binary.Left) && RunsNothing(binary.Right),
        ConditionalExpressionSyntax conditional => RunsNothing(conditional.Condition) && RunsNothing(conditional.WhenTrue) && RunsNothing(conditional.WhenFalse),
        InitializerExpressionSyntax array => array.Expressions.All(RunsNothing),
        ArrayCreationExpressionSyntax { Initializer: { } elements, Type.ElementType: PredefinedTypeSyntax } creation
            => creation.Type.RankSpecifiers.SelectMany(static r => r.Sizes).All(static s => s is OmittedArraySizeExpressionSyntax || RunsNothing(s)) && RunsNothing(elements),
        ImplicitArrayCreationExpressionSyntax creation => RunsNothing(creation.Initializer),
        _ => false,
    };
}
