using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// Values a default key would write by an ambiguous text, found wherever they sit: a record whose text is the
/// compiler's and a key-value pair, whose texts neither quote nor escape, as a parameter or inside a tuple, a sequence,
/// a dictionary or another record, however deep.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>How deep <see cref="KeyShape"/> looks into records and collections inside one another.</summary>
    private const int MaxKeyShapeDepth = 8;

    /// <summary>
    /// How generated code reshapes a value of <paramref name="type"/> for a default key (see <see cref="KeyShapeSpec"/>),
    /// or null when the key writer writes it unambiguously as it is. <paramref name="nested"/>: the value sits inside
    /// another, where the writer meets it as an object, so no overload of its own writes a sequence of pairs as
    /// <c>{k:v}</c>. A type met again inside itself (<c>record Node(Node? Next)</c>) keeps its text where it recurs.
    /// </summary>
    private KeyShapeSpec? KeyShape(ITypeSymbol type, bool nested) => ShapeOf(type, nested, new List<ITypeSymbol>());

    /// <summary>
    /// The shape of a [MultiCached] key type without a KeyBuilder: a record, a pair or a tuple holding one. A key is
    /// formatted on its own, where a collection is written by its text, so a collection key keeps it.
    /// </summary>
    private KeyShapeSpec? MultiKeyShape(ITypeSymbol type)
        => KeyShape(type, nested: true) is { Kind: not (KeyShapeKind.Sequence or KeyShapeKind.Dictionary) } shape ? shape : null;

    private KeyShapeSpec? ShapeOf(ITypeSymbol type, bool nested, List<ITypeSymbol> open)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        if (type.SpecialType == SpecialType.System_String || type.TypeKind is TypeKind.TypeParameter or TypeKind.Dynamic or TypeKind.Enum
            || type.IsRefLikeType || open.Count >= MaxKeyShapeDepth || open.Any(o => SymbolEqualityComparer.Default.Equals(o, type)))
        {
            return null;
        }

        open.Add(type);
        try
        {
            return RecordShape(type, open) ?? PairShape(type, open) ?? TupleShape(type, open) ?? CollectionShape(type, nested, open);
        }
        finally
        {
            open.RemoveAt(open.Count - 1);
        }
    }

    /// <summary>A record whose text is the compiler's: its printed members, each in its own shape.</summary>
    private KeyShapeSpec? RecordShape(ITypeSymbol type, List<ITypeSymbol> open)
        => PrintedRecord(type) is { } record
            ? new KeyShapeSpec(KeyShapeKind.Record, Parts(record.Types, open), new EquatableArray<string>(record.Members), record.ExactType)
            : null;

    /// <summary>A <c>KeyValuePair</c>, always: its own text is <c>[key, value]</c>, whatever the key and the value hold.</summary>
    private KeyShapeSpec? PairShape(ITypeSymbol type, List<ITypeSymbol> open)
        => type is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair, _known.KeyValuePair)
            ? new KeyShapeSpec(KeyShapeKind.Pair, Parts(pair.TypeArguments, open))
            : null;

    /// <summary>
    /// A tuple (a value tuple, or a <c>System.Tuple</c> of at most seven items) one of whose elements needs a shape; the
    /// writer writes any other tuple element by element already.
    /// </summary>
    private KeyShapeSpec? TupleShape(ITypeSymbol type, List<ITypeSymbol> open)
    {
        var elements = type switch
        {
            INamedTypeSymbol { IsTupleType: true } tuple => tuple.TupleElements.Select(static e => e.Type).ToArray(),
            INamedTypeSymbol reference when IsReferenceTuple(reference) && reference.TypeArguments.Length <= 7 => reference.TypeArguments.ToArray(),
            _ => null,
        };
        if (elements is null)
        {
            return null;
        }

        var parts = Parts(elements, open);
        return parts.Any(static p => p.Shape is not null)
            ? new KeyShapeSpec(KeyShapeKind.Tuple, parts, new EquatableArray<string>(elements.Select(static (_, i) => "Item" + (i + 1))))
            : null;
    }

    /// <summary>
    /// A sequence whose elements need a shape, or one of pairs written as a dictionary (<c>{k:v}</c>) whose key or value
    /// does, or that sits where the writer would not know it for one. Arrays and lists of pairs are written as
    /// sequences of pairs, as the key writer's overloads for them do. A type that is a sequence of two element types
    /// is left as it is: the generated code could not tell which to read.
    /// </summary>
    private KeyShapeSpec? CollectionShape(ITypeSymbol type, bool nested, List<ITypeSymbol> open)
    {
        if (IsMemoryOfElements(type) || UniqueElementType(type) is not { } element)
        {
            return null;
        }

        var isList = type is IArrayTypeSymbol || KnownTypeSymbols.Is(type, _known.List);
        if (!isList && element is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair, _known.KeyValuePair))
        {
            var parts = Parts(pair.TypeArguments, open);
            var writtenAsDictionary = !nested || KnownTypeSymbols.Implements(type, _known.NonGenericIDictionary)
                || KnownTypeSymbols.Is(type, _known.NonGenericIDictionary);
            return parts.Any(static p => p.Shape is not null) || !writtenAsDictionary
                ? new KeyShapeSpec(KeyShapeKind.Dictionary, parts)
                : null;
        }

        return ShapeOf(element, nested: true, open) is { } shape
            ? new KeyShapeSpec(KeyShapeKind.Sequence, new EquatableArray<KeyShapePart>([new KeyShapePart(shape)]))
            : null;
    }

    /// <summary>The element type of a sequence that implements <c>IEnumerable&lt;T&gt;</c> for one <c>T</c> only; else null.</summary>
    private static ITypeSymbol? UniqueElementType(ITypeSymbol type)
    {
        if (type.SpecialType == SpecialType.System_String)
        {
            return null;
        }

        if (type is IArrayTypeSymbol array)
        {
            return array.ElementType;
        }

        var candidates = (type is INamedTypeSymbol named && named.ConstructedFrom.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T
                ? [named]
                : type.AllInterfaces.Where(static i => i.ConstructedFrom.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T))
            .Select(static i => i.TypeArguments[0])
            .Distinct<ITypeSymbol>(SymbolEqualityComparer.Default)
            .ToArray();
        return candidates.Length == 1 ? candidates[0] : null;
    }

    private EquatableArray<KeyShapePart> Parts(IEnumerable<ITypeSymbol> types, List<ITypeSymbol> open)
        => new(types.Select(t => new KeyShapePart(ShapeOf(t, nested: true, open))).ToArray());
}
