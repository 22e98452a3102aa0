using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// CACHED012 inside a key's value: the key writer writes arrays, sequences, dictionaries, tuples, pairs, groupings,
/// memories and the records generated code reshapes part by part, so a part whose type keeps object.ToString() puts
/// its type name in the key, and different values share one entry, as a parameter of that type would.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>The fix a CACHED012 message names for a default key's parameter (the message as it was before parts were checked).</summary>
    private const string DefaultKeyFix = "override ToString, use a record, mark it [CacheKeyIgnore], or set Key/KeyBuilder";

    /// <summary>
    /// CACHED012 for a key value of <paramref name="type"/> that keeps object.ToString(), or holds a part that does;
    /// nothing for any other. Once per value: its own type first, else the first part found. <paramref name="keys"/>:
    /// the element type of <paramref name="type"/> that is each key (a [MultiCached] method's), checked in its stead.
    /// </summary>
    private void CheckKeyText(ITypeSymbol type, Location location, string subject, string fix, ITypeSymbol? keys = null)
    {
        var problem = keys is null
            ? TextProblem(type)
            : TextProblem(keys) is { } inKeys ? (inKeys.Type, "element type" + (inKeys.Where is null ? string.Empty : "'s " + inKeys.Where)) : null;
        if (problem is { } found)
        {
            Report(DiagnosticDescriptors.KeyParameterWithoutValueToString, location, subject, MethodName, type.ToDisplayString(s_readableFormat),
                found.Where is null ? string.Empty : $", whose {found.Where} is '{found.Type.ToDisplayString(s_readableFormat)}'", fix);
        }
    }

    /// <summary>Whether only a delegate can fill <paramref name="parameter"/>: constrained to Delegate, directly or through another type parameter.</summary>
    private static bool OnlyDelegates(ITypeParameterSymbol parameter)
        // C# refuses circular constraints (CS0454): the walk ends.
        => parameter.ConstraintTypes.Any(static c => c.SpecialType is SpecialType.System_Delegate or SpecialType.System_MulticastDelegate
            || (c is ITypeParameterSymbol other && OnlyDelegates(other)));

    /// <summary>The type of a key value, or of its first part, that keeps object.ToString(), with where that part sits (null: the value itself); else null.</summary>
    private (ITypeSymbol Type, string? Where)? TextProblem(ITypeSymbol type)
        => !HasValueToString(type) ? (type, null)
            : PartWithoutValueToString(type) is { } part ? (part.Type, part.Where)
            : null;

    /// <summary>
    /// CACHED012 for a Key template's hole. Its value is written as <c>CacheKeyTemplate</c> writes it: a collection by
    /// its elements, as a default key writes them, anything else by its own ToString, which generated code does not
    /// reshape. A record's ToString prints its members and a tuple's its items, each by their own ToString, where a
    /// collection names only its type: <c>record Filter(string Q, List&lt;int&gt; Ids)</c> in <c>"s:{filter}"</c> would
    /// be one key for every list of ids.
    /// </summary>
    private void CheckHoleText(ITypeSymbol type, Location location, string subject)
    {
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        var part = IsSequence(type) ? PartWithoutValueToString(type, [], seen, inHole: true) : PrintedPartWithoutValueText(type, [], seen);
        var problem = !HasValueToString(type) ? (type, null)
            : part is { } inside ? (inside.Type, inside.Where)
            : ((ITypeSymbol Type, string? Where)?)null;
        if (problem is { } found)
        {
            // A part the key writer itself writes by its type name takes the fixes of any key value; one a value's own
            // ToString prints (a collection inside a record or a tuple) needs that text replaced.
            var printed = found.Where is not null && PartWithoutValueToString(type)?.Where != found.Where;
            var fix = printed
                ? "give the value a ToString of your own that writes every part (a record's PrintMembers), or set KeyBuilder"
                : "override ToString, use a record, or set KeyBuilder";
            Report(DiagnosticDescriptors.KeyParameterWithoutValueToString, location, subject, MethodName, type.ToDisplayString(s_readableFormat),
                found.Where is null ? string.Empty : $", whose {found.Where} is '{found.Type.ToDisplayString(s_readableFormat)}'", fix);
        }
    }

    /// <summary>
    /// The first part that a value's own ToString prints by a text naming only its type: a record's printed member, a
    /// tuple's item or a pair's key or value that keeps object.ToString() or is a collection (whose ToString is its type
    /// name), however deep, with where it sits; null when there is none or it cannot be judged.
    /// </summary>
    private (ITypeSymbol Type, string Where)? PrintedPartWithoutValueText(ITypeSymbol type, List<string> path, HashSet<ITypeSymbol> seen)
    {
        if (path.Count >= MaxKeyShapeDepth || !seen.Add(type))
        {
            return null;
        }

        foreach (var (part, where) in PartsPrinted(type))
        {
            path.Add(where);
            var found = IsPrintedByTypeName(part)
                ? (part, string.Join("'s ", path))
                : PrintedPartWithoutValueText(part, path, seen);
            path.RemoveAt(path.Count - 1);
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether a part of a hole's collection, tuple or dictionary is written by its own ToString: a compiler-printed
    /// record, or a pair (a list of pairs is no dictionary, and the writer does not take a pair apart).
    /// </summary>
    private bool IsPrintedWhole(ITypeSymbol part)
        => PrintedRecord(part) is not null
            || (part is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T ? pair.TypeArguments[0] : pair, _known.KeyValuePair));

    /// <summary>The parts a value's own ToString prints by theirs: a compiler-printed record's members, a tuple's items, a pair's key and value.</summary>
    private IEnumerable<(ITypeSymbol Part, string Where)> PartsPrinted(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        if (PrintedRecord(type) is { } record)
        {
            return record.Types.Select((member, i) => (member, "member " + record.Members[i].TrimStart('@')));
        }

        if (TupleItems(type) is { } items)
        {
            return items.Select(static (item, i) => (item, "item " + (i + 1)));
        }

        return type is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair, _known.KeyValuePair) ? KeyAndValue(pair) : [];
    }

    /// <summary>
    /// Whether a part printed by its own ToString names only its type: a type that keeps object.ToString(), or a
    /// collection that does (an array, a list, a dictionary, an immutable array, a collection interface, whose values
    /// are such collections in practice; not one with a ToString of its own, as StringValues or JsonArray), unless
    /// declared as a type that cannot be judged.
    /// </summary>
    private bool IsPrintedByTypeName(ITypeSymbol part)
    {
        if (part is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            part = nullable.TypeArguments[0];
        }

        return !CannotBeJudged(part) && (!HasValueToString(part) || (IsSequence(part) && !DeclaresToString(part)));
    }

    /// <summary>
    /// The first part of a value of <paramref name="type"/> that the key writer writes by a text naming only its type,
    /// with where it sits (<c>element type's item 2</c>); null when every part it writes apart has a value text or
    /// cannot be judged. A type met twice is looked into once, so a record that holds itself ends the walk.
    /// </summary>
    private (ITypeSymbol Type, string Where)? PartWithoutValueToString(ITypeSymbol type)
        => PartWithoutValueToString(type, [], new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default), inHole: false);

    /// <summary>
    /// The walk of <see cref="PartWithoutValueToString(ITypeSymbol)"/>, below <paramref name="path"/>; with
    /// <paramref name="inHole"/>, in a Key template's hole, where nothing is reshaped: a record among the parts is
    /// written by its own ToString, so its printed members are looked into as that prints them
    /// (<see cref="PrintedPartWithoutValueText"/>).
    /// </summary>
    private (ITypeSymbol Type, string Where)? PartWithoutValueToString(ITypeSymbol type, List<string> path, HashSet<ITypeSymbol> seen, bool inHole)
    {
        // As deep as generated code reshapes: deeper, a value is written by its own text.
        if (path.Count >= MaxKeyShapeDepth || !seen.Add(type))
        {
            return null;
        }

        foreach (var (part, where) in PartsWrittenApart(type))
        {
            path.Add(where);
            var found = !HasValueToString(part) && !CannotBeJudged(part)
                ? (part, string.Join("'s ", path))
                : inHole && IsPrintedWhole(part) ? PrintedPartWithoutValueText(part, path, new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default))
                : PartWithoutValueToString(part, path, seen, inHole);
            path.RemoveAt(path.Count - 1);
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// A part declared as an abstract class may hold a derived value whose ToString is its own. (A parameter of such a
    /// type is judged by its declared type, as it always was.) A delegate is never a value text, abstract or not. A
    /// type the compiler cannot resolve has its own error.
    /// </summary>
    private static bool CannotBeJudged(ITypeSymbol type)
        => type.TypeKind == TypeKind.Error
            || (type is { IsAbstract: true, TypeKind: TypeKind.Class } && type.SpecialType is not (SpecialType.System_Delegate or SpecialType.System_MulticastDelegate));

    /// <summary>
    /// The parts a value of <paramref name="type"/> is written by, each with its place, in the order the key writer
    /// and <see cref="KeyShape"/> look for them: a reshaped record's printed members, a pair's key and value, a
    /// tuple's items, a grouping's key and elements, a memory's or a sequence's elements (a dictionary's keys and
    /// values). A value that formats itself is written by its own text, and has no parts here.
    /// </summary>
    private IEnumerable<(ITypeSymbol Part, string Where)> PartsWrittenApart(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        if (type.SpecialType != SpecialType.None || type.TypeKind is TypeKind.TypeParameter or TypeKind.Dynamic or TypeKind.Enum
            || KnownTypeSymbols.Implements(type, _known.IFormattable))
        {
            return [];
        }

        if (PrintedRecord(type) is { } record)
        {
            return record.Types.Select((member, i) => (member, "member " + record.Members[i].TrimStart('@')));
        }

        if (type is INamedTypeSymbol pair && KnownTypeSymbols.Is(pair, _known.KeyValuePair))
        {
            return KeyAndValue(pair);
        }

        if (TupleItems(type) is { } items)
        {
            return items.Select(static (item, i) => (item, "item " + (i + 1)));
        }

        var grouping = KnownTypeSymbols.Is(type, _known.IGrouping) ? (INamedTypeSymbol)type : null;
        var groupings = type.AllInterfaces.Where(i => KnownTypeSymbols.Is(i, _known.IGrouping)).ToList();
        if (grouping is not null || groupings.Count == 1)
        {
            grouping ??= groupings[0];
            return [(grouping.TypeArguments[0], "key type"), (grouping.TypeArguments[1], "element type")];
        }

        if (IsMemoryOfElements(type))
        {
            return [(((INamedTypeSymbol)type).TypeArguments[0], "element type")];
        }

        if (UniqueElementType(type) is not { } element)
        {
            return [];
        }

        return element is INamedTypeSymbol entry && KnownTypeSymbols.Is(entry, _known.KeyValuePair) && IsDictionary(type)
            ? KeyAndValue(entry)
            : [(element, "element type")];
    }

    private static (ITypeSymbol Part, string Where)[] KeyAndValue(INamedTypeSymbol pair)
        => [(pair.TypeArguments[0], "key type"), (pair.TypeArguments[1], "value type")];

    /// <summary>A value tuple's items, or a <c>System.Tuple</c>'s, whose eighth type argument (<c>Rest</c>) holds the items after the seventh; else null.</summary>
    private static List<ITypeSymbol>? TupleItems(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { IsTupleType: true } tuple)
        {
            return tuple.TupleElements.Select(static e => e.Type).ToList();
        }

        if (type is not INamedTypeSymbol reference || !IsReferenceTuple(reference))
        {
            return null;
        }

        var items = reference.TypeArguments.ToList();
        if (items.Count == 8 && TupleItems(items[7]) is { } rest)
        {
            items.RemoveAt(7);
            items.AddRange(rest);
        }

        return items;
    }

    /// <summary>A sequence of pairs that is a dictionary (its keys and values are what a message names), not a list of pairs.</summary>
    private bool IsDictionary(ITypeSymbol type)
        => new[] { _known.IDictionary, _known.IReadOnlyDictionary, _known.NonGenericIDictionary }
            .Any(known => KnownTypeSymbols.Is(type, known) || KnownTypeSymbols.Implements(type, known));
}
