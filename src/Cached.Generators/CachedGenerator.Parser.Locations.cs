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
    private Location ArgumentLocation(string? name, object? value = null)
    {
        var arguments = _attributeSyntax?.ArgumentList?.Arguments
            .Where(a => name is null ? a.NameEquals is null && a.NameColon is null : a.NameEquals?.Name.Identifier.ValueText == name)
            .ToList();
        if (arguments is not { Count: > 0 })
        {
            return AttributeLocation;
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

    private bool Holds(ExpressionSyntax expression, object value)
        => expression is TypeOfExpressionSyntax typeOf
            ? value is ITypeSymbol type && SymbolEqualityComparer.Default.Equals(_semanticModel.GetTypeInfo(typeOf.Type).Type, type)
            : _semanticModel.GetConstantValue(expression) is { HasValue: true } constant && Equals(constant.Value, value);

    /// <summary>
    /// The hole <c>{name...}</c> at <paramref name="index"/> of the Key template, when the template is a plain string
    /// literal whose text is its value (no escapes), so positions match; else the whole Key.
    /// </summary>
    private Location TemplateHoleLocation(int index, int length)
    {
        var key = ArgumentLocation("Key");
        var node = key.SourceTree?.GetRoot().FindNode(key.SourceSpan, getInnermostNodeForTie: true);
        if (node is LiteralExpressionSyntax { Token: var token } && token.IsKind(SyntaxKind.StringLiteralToken)
            && token.Text == "\"" + token.ValueText + "\"" && index + length <= token.ValueText.Length)
        {
            return Location.Create(key.SourceTree!, new Microsoft.CodeAnalysis.Text.TextSpan(token.SpanStart + 1 + index, length));
        }

        return key;
    }
}
