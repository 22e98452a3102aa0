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
    /// <c>{k:v}</c>. A type met again inside itself (<c>record Tree(string Name, List&lt;Tree&gt; Children)</c>) is
    /// reshaped by a local function of generated code that calls itself where the type recurs.
    /// </summary>
    private KeyShapeSpec? KeyShape(ITypeSymbol type, bool nested) => ShapeOf(type, nested, new ShapeWalk());

    /// <summary>
    /// The shape of a [MultiCached] key type without a KeyBuilder: a record, a pair or a tuple holding one. A key is
    /// formatted on its own, where a collection is written by its text, so a collection key keeps it.
    /// </summary>
    private KeyShapeSpec? MultiKeyShape(ITypeSymbol type)
        => KeyShape(type, nested: true) is { Kind: not (KeyShapeKind.Sequence or KeyShapeKind.Dictionary) } shape ? shape : null;

    private KeyShapeSpec? ShapeOf(ITypeSymbol type, bool nested, ShapeWalk walk)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        // Primitives, string, object and DateTime are written as they are, and most parameters are one: answered
        // before any interface is looked through.
        if (type.SpecialType is >= SpecialType.System_Object and <= SpecialType.System_UIntPtr or SpecialType.System_DateTime
            || type.TypeKind is TypeKind.TypeParameter or TypeKind.Dynamic or TypeKind.Enum
            || type.IsRefLikeType)
        {
            return null;
        }

        if (walk.Open.FirstOrDefault(o => SymbolEqualityComparer.Default.Equals(o.Type, type)) is { Type: not null } recurring)
        {
            walk.Recurring.Add(recurring.Function);
            return new KeyShapeSpec(KeyShapeKind.Recur, default, Function: recurring.Function);
        }

        if (walk.Open.Count >= MaxKeyShapeDepth)
        {
            return null;
        }

        var function = ShapeFunctionName(type, nested);
        walk.Open.Add((type, function));
        try
        {
            var shape = RecordShape(type, nested, walk) ?? PairShape(type, walk) ?? GroupingShape(type, walk) ?? TupleShape(type, walk)
                ?? CollectionShape(type, nested, walk);
            return shape is not null && walk.Recurring.Remove(function)
                ? shape with { Function = function, FunctionType = type.IsValueType ? type.ToDisplayString(s_typeFormat) + "?" : type.WithNullableAnnotation(NullableAnnotation.Annotated).ToDisplayString(s_typeFormat) }
                : shape;
        }
        finally
        {
            walk.Open.RemoveAt(walk.Open.Count - 1);
        }
    }

    /// <summary>
    /// <c>__shape_Tree_1a2b3c4d</c>: the local function that reshapes a recurring type, named by the type and a stable
    /// hash of its full name and position (a string's own hash code changes from process to process), so that one type
    /// met in two parameters gets one function.
    /// </summary>
    private static string ShapeFunctionName(ITypeSymbol type, bool nested)
    {
        var hash = 2166136261u;
        foreach (var c in type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + (nested ? "/n" : "/t"))
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return "__shape_" + type.Name + "_" + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The types being reshaped, outermost first, with their functions' names; and the functions a recurrence called.</summary>
    private sealed class ShapeWalk
    {
        public List<(ITypeSymbol Type, string Function)> Open { get; } = [];

        public HashSet<string> Recurring { get; } = [];
    }

    /// <summary>
    /// A record whose text is the compiler's: its printed members, each in its own shape. A record inside another value
    /// that is not sealed and is marked obsolete or experimental keeps its text: its exact-type check would name it in
    /// generated code, where the user's pragmas for it do not reach (a parameter's type is named in the signature anyway).
    /// </summary>
    private KeyShapeSpec? RecordShape(ITypeSymbol type, bool nested, ShapeWalk walk)
    {
        if (PrintedRecord(type) is not { } record
            || (nested && record.ExactType is not null && ContainingTypesAndSelf(type).Any(IsMarkedForLater)))
        {
            return null;
        }

        return new KeyShapeSpec(KeyShapeKind.Record, Parts(record.Types, walk), new EquatableArray<string>(record.Members), record.ExactType);
    }

    private static IEnumerable<ITypeSymbol> ContainingTypesAndSelf(ITypeSymbol type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.ContainingType)
        {
            yield return current;
        }
    }

    /// <summary>A <c>KeyValuePair</c>, always: its own text is <c>[key, value]</c>, whatever the key and the value hold.</summary>
    private KeyShapeSpec? PairShape(ITypeSymbol type, ShapeWalk walk)
        => type is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair, _known.KeyValuePair)
            ? new KeyShapeSpec(KeyShapeKind.Pair, Parts(pair.TypeArguments, walk))
            : null;

    /// <summary>
    /// An <c>IGrouping&lt;K, E&gt;</c> (a lookup's group, a GroupBy's): its key and its elements, always, since as a
    /// sequence alone its key would be lost.
    /// </summary>
    private KeyShapeSpec? GroupingShape(ITypeSymbol type, ShapeWalk walk)
    {
        var grouping = KnownTypeSymbols.Is(type, _known.IGrouping)
            ? (INamedTypeSymbol)type
            : type.AllInterfaces.FirstOrDefault(i => KnownTypeSymbols.Is(i, _known.IGrouping));
        return grouping is null || type.AllInterfaces.Count(i => KnownTypeSymbols.Is(i, _known.IGrouping)) > 1
            ? null
            : new KeyShapeSpec(KeyShapeKind.Grouping, Parts(grouping.TypeArguments, walk));
    }

    /// <summary>
    /// A tuple one of whose elements needs a shape; the writer writes any other tuple element by element already. A
    /// <c>System.Tuple</c> of eight type arguments reads its last one, itself a tuple, as <c>Rest</c>.
    /// </summary>
    private KeyShapeSpec? TupleShape(ITypeSymbol type, ShapeWalk walk)
    {
        var elements = type switch
        {
            INamedTypeSymbol { IsTupleType: true } tuple => tuple.TupleElements.Select(static e => e.Type).ToArray(),
            INamedTypeSymbol reference when IsReferenceTuple(reference) => reference.TypeArguments.ToArray(),
            _ => null,
        };
        if (elements is null)
        {
            return null;
        }

        var parts = Parts(elements, walk);
        return parts.Any(static p => p.Shape is not null)
            ? new KeyShapeSpec(KeyShapeKind.Tuple, parts, new EquatableArray<string>(elements.Select((_, i) => i == 7 && !type.IsTupleType ? "Rest" : "Item" + (i + 1))))
            : null;
    }

    /// <summary>
    /// A sequence whose elements need a shape, or one of pairs written as a dictionary (<c>{k:v}</c>) whose key or value
    /// does, or that sits where the writer would not know it for one. Arrays and lists of pairs are written as
    /// sequences of pairs, as the key writer's overloads for them do. A type that is a sequence of two element types
    /// is left as it is: the generated code could not tell which to read.
    /// </summary>
    private KeyShapeSpec? CollectionShape(ITypeSymbol type, bool nested, ShapeWalk walk)
    {
        if (IsMemoryOfElements(type) || UniqueElementType(type) is not { } element)
        {
            return null;
        }

        // What the writer's own overloads for arrays and lists (a class derived from one included) write element by element.
        var isList = type is IArrayTypeSymbol || KnownTypeSymbols.Is(type, _known.List) || KnownTypeSymbols.DerivesFrom(type, _known.List);
        if (!isList && element is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair, _known.KeyValuePair))
        {
            var parts = Parts(pair.TypeArguments, walk);
            var writtenAsDictionary = !nested || KnownTypeSymbols.Implements(type, _known.NonGenericIDictionary)
                || KnownTypeSymbols.Is(type, _known.NonGenericIDictionary);
            return parts.Any(static p => p.Shape is not null) || !writtenAsDictionary
                ? new KeyShapeSpec(KeyShapeKind.Dictionary, parts)
                : null;
        }

        return ShapeOf(element, nested: true, walk) is { } shape
            ? new KeyShapeSpec(KeyShapeKind.Sequence, new EquatableArray<KeyShapePart>([new KeyShapePart(shape)]), SkipsDefault: HasIsDefault(type))
            : null;
    }

    /// <summary>
    /// A struct sequence with a public <c>IsDefault</c> (<c>ImmutableArray&lt;T&gt;</c>): its default value cannot be
    /// enumerated, so generated code writes it as <c>null</c>, as the key writer does one it meets as it is.
    /// </summary>
    private static bool HasIsDefault(ITypeSymbol type)
        => type.IsValueType && type.GetMembers("IsDefault").OfType<IPropertySymbol>()
            .Any(static p => !p.IsStatic && p.DeclaredAccessibility == Accessibility.Public && p.Type.SpecialType == SpecialType.System_Boolean);

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

    private EquatableArray<KeyShapePart> Parts(IEnumerable<ITypeSymbol> types, ShapeWalk walk)
        => new(types.Select(t => new KeyShapePart(ShapeOf(t, nested: true, walk))).ToArray());
}
