using System.Linq;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// Memories of elements (<c>Memory&lt;T&gt;</c>, <c>ReadOnlyMemory&lt;T&gt;</c>, <c>ReadOnlySequence&lt;T&gt;</c>): keyed by
/// their elements, as arrays are, in a default key and in a template's hole alike.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>
    /// The hole of a memory of elements (<c>Memory&lt;T&gt;</c>, <c>ReadOnlyMemory&lt;T&gt;</c>, <c>ReadOnlySequence&lt;T&gt;</c>
    /// of anything but <c>char</c>, nullable or not) as an array of its elements, which a hole writes as a collection
    /// (<c>sum:[1,2]</c>) and a tag hole expands element by element; null for any other parameter. Boxed as it is, a
    /// memory reached the key writer as a nested value it cannot write, and every call threw.
    /// </summary>
    private string? MemoryHole(IParameterSymbol parameter)
    {
        var type = parameter.Type;
        var nullable = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T };
        if (nullable)
        {
            type = ((INamedTypeSymbol)type).TypeArguments[0];
        }

        if (!IsMemoryOfElements(type))
        {
            return null;
        }

        var name = Identifier(parameter.Name);
        if (!KnownTypeSymbols.Is(type.OriginalDefinition, _known.ReadOnlySequence))
        {
            return nullable ? $"{name}?.ToArray()" : $"{name}.ToArray()";
        }

        // ToArray of a sequence is an extension method, named in full: the generated file has no using of its own.
        return nullable
            ? $"({name}.HasValue ? global::System.Buffers.BuffersExtensions.ToArray({name}.GetValueOrDefault()) : null)"
            : $"global::System.Buffers.BuffersExtensions.ToArray({name})";
    }

    /// <summary>
    /// <c>Memory&lt;T&gt;</c>, <c>ReadOnlyMemory&lt;T&gt;</c> or <c>ReadOnlySequence&lt;T&gt;</c> of anything but <c>char</c>: keyed
    /// by its elements, as an array is, since its ToString names only the type and the length. One of chars reads as its text.
    /// </summary>
    private bool IsMemoryOfElements(ITypeSymbol type)
        => type is INamedTypeSymbol { IsGenericType: true } named
            && (KnownTypeSymbols.Is(named.OriginalDefinition, _known.Memory) || KnownTypeSymbols.Is(named.OriginalDefinition, _known.ReadOnlyMemory)
                || KnownTypeSymbols.Is(named.OriginalDefinition, _known.ReadOnlySequence))
            && named.TypeArguments[0].SpecialType != SpecialType.System_Char;

    /// <summary>
    /// The first memory of elements (<see cref="IsMemoryOfElements"/>) inside <paramref name="type"/>: as an element
    /// type or a type argument, a tuple's element included. A nullable memory is no nesting: it is written by its elements.
    /// </summary>
    private ITypeSymbol? NestedMemoryOfElements(ITypeSymbol type, bool nested)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            return NestedMemoryOfElements(nullable.TypeArguments[0], nested);
        }

        if (nested && IsMemoryOfElements(type))
        {
            return type;
        }

        // Only where the key writes elements: arrays, sequences (dictionaries included) and tuples. Another generic
        // type is written by its own ToString, whatever its type arguments.
        var inside = type switch
        {
            IArrayTypeSymbol array => new[] { array.ElementType },
            INamedTypeSymbol named when named.IsTupleType || IsReferenceTuple(named) || IsEnumerable(named) => named.TypeArguments.AsEnumerable(),
            _ => Enumerable.Empty<ITypeSymbol>(),
        };
        return inside.Select(t => NestedMemoryOfElements(t, nested: true)).FirstOrDefault(static found => found is not null);
    }
}
