using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// Where each diagnostic goes: on the syntax at fault (the attribute argument, the parameter, the return type), as
/// the compiler reports its own, so the squiggle lands where the fix is. Only called on the way to a diagnostic.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>The attribute as written (<c>Cached(Ttl = 5)</c>), or the method's name if it cannot be found.</summary>
    private Location AttributeLocation => _attributeSyntax?.GetLocation() ?? _location;

    private Location ReturnTypeLocation => _syntax.ReturnType.GetLocation();

    private Location ParameterLocation(IParameterSymbol parameter)
        => parameter.Ordinal < _syntax.ParameterList.Parameters.Count
            ? _syntax.ParameterList.Parameters[parameter.Ordinal].GetLocation()
            : _location;

    /// <summary>
    /// The value of the attribute's argument <paramref name="name"/> (null: its constructor arguments). Given a
    /// <paramref name="value"/>, the element of that argument that holds it (a name among several, one
    /// <c>typeof</c> of an array); else the whole value; the attribute when the argument is not written.
    /// </summary>
    private Location ArgumentLocation(string? name, object? value = null) => ArgumentLocationIn(_attributeSyntax, name, value);

    /// <inheritdoc cref="ArgumentLocation(string?, object?)"/>
    /// <remarks>In <paramref name="attribute"/>, which may be another attribute of the method than the one parsed: the [InvalidateTags] beside an [InvalidateCache].</remarks>
    private Location ArgumentLocationIn(AttributeSyntax? attribute, string? name, object? value = null)
    {
        var arguments = Arguments(attribute, name);
        if (arguments.Count == 0)
        {
            return attribute?.GetLocation() ?? _location;
        }

        if (value is not null)
        {
            var holder = arguments.SelectMany(static a => a.Expression.DescendantNodesAndSelf().OfType<ExpressionSyntax>()).FirstOrDefault(e => Holds(e, value));
            if (holder is not null)
            {
                return holder.GetLocation();
            }
        }

        return arguments[0].Expression.GetLocation();
    }

    /// <summary>The attribute's arguments named <paramref name="name"/> (null: its constructor arguments).</summary>
    private static List<AttributeArgumentSyntax> Arguments(AttributeSyntax? attribute, string? name)
        => attribute?.ArgumentList?.Arguments
            .Where(a => name is null ? a.NameEquals is null && a.NameColon is null : a.NameEquals?.Name.Identifier.ValueText == name)
            .ToList() ?? [];

    /// <summary>
    /// The element at <paramref name="index"/> of an array argument (<c>Tags = new[] { "a", "b" }</c>, <c>["a", "b"]</c>),
    /// or of the constructor's <c>params</c> arguments (<paramref name="name"/> null: <c>[InvalidateTags("a", "b")]</c>,
    /// or one array given for them); the whole argument when the elements cannot be told apart.
    /// </summary>
    private Location ElementLocation(AttributeSyntax? attribute, string? name, int index)
    {
        var arguments = Arguments(attribute, name);
        var elements = arguments.Count == 1 ? ElementsOf(arguments[0].Expression) : null;
        if (elements is null && name is null && arguments.Count > 0)
        {
            elements = arguments.Select(static a => a.Expression).ToList();
        }

        return elements is not null && index < elements.Count ? elements[index].GetLocation() : ArgumentLocationIn(attribute, name);
    }

    private static List<ExpressionSyntax>? ElementsOf(ExpressionSyntax expression) => expression switch
    {
        ArrayCreationExpressionSyntax { Initializer: { } initializer } => [.. initializer.Expressions],
        ImplicitArrayCreationExpressionSyntax creation => [.. creation.Initializer.Expressions],
        CollectionExpressionSyntax collection => collection.Elements.OfType<ExpressionElementSyntax>().Select(static e => e.Expression).ToList(),
        _ => null,
    };

    private bool Holds(ExpressionSyntax expression, object value)
        => expression is TypeOfExpressionSyntax typeOf
            ? value is ITypeSymbol type && SymbolEqualityComparer.Default.Equals(_semanticModel.GetTypeInfo(typeOf.Type).Type, type)
            : _semanticModel.GetConstantValue(expression) is { HasValue: true } constant && Equals(constant.Value, value);

    /// <summary>
    /// The hole <c>{name...}</c> at <paramref name="index"/> of the template at <paramref name="key"/> (a Key, a tag),
    /// when the template is a plain string literal whose text is its value (no escapes), so positions match; else the
    /// whole template.
    /// </summary>
    private static Location TemplateHoleLocation(Location key, int index, int length)
    {
        var node = key.SourceTree?.GetRoot().FindNode(key.SourceSpan, getInnermostNodeForTie: true);
        if (node is LiteralExpressionSyntax { Token: var token } && token.IsKind(SyntaxKind.StringLiteralToken)
            && token.Text == "\"" + token.ValueText + "\"" && index + length <= token.ValueText.Length)
        {
            return Location.Create(key.SourceTree!, new Microsoft.CodeAnalysis.Text.TextSpan(token.SpanStart + 1 + index, length));
        }

        return key;
    }
}
