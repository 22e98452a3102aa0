using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>The keys and dictionary of a [MultiCached] method, and the SkipCacheWhen rule of both cached kinds.</summary>
internal sealed partial class Parser
{
    /// <summary>
    /// The parameter name KeysFrom gives, as the symbol has it: <c>"@class"</c> names the parameter <c>@class</c>, whose
    /// name is <c>class</c>, as C# reads an identifier (and as a template's <c>{@class}</c> does).
    /// </summary>
    private static string? KeysFromName(AttributeData attribute)
    {
        var name = NamedString(attribute, "KeysFrom");
        return name is not null && name.StartsWith("@", System.StringComparison.Ordinal) ? name.Substring(1) : name;
    }

    private MultiSpec? ParseMulti(string resultType)
    {
        var keysFrom = KeysFromName(_attribute);
        if (keysFrom is null)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, AttributeLocation, MethodName, "is not set: name the parameter that holds the keys" + KeysParameterCandidates());
            return null;
        }

        var parameter = _method.Parameters.FirstOrDefault(p => p.Name == keysFrom);
        if (parameter is null)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, ArgumentLocation("KeysFrom"), MethodName, $"names '{NamedString("KeysFrom")}', which is not a parameter" + KeysParameterCandidates());
            return null;
        }

        var elementType = EnumerableElementType(parameter.Type);
        if (elementType is null || parameter.Type.SpecialType == SpecialType.System_String)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, ArgumentLocation("KeysFrom"), MethodName, $"names '{keysFrom}', whose type '{parameter.Type.ToDisplayString(s_readableFormat)}' is not an IEnumerable<TKey>" + KeysParameterCandidates());
            return null;
        }

        var conversion = ConversionOf(parameter.Type);
        if (conversion is null)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, ArgumentLocation("KeysFrom"), MethodName, $"names '{keysFrom}' of type '{parameter.Type.ToDisplayString(s_readableFormat)}': use an array, List, IList, ICollection, IReadOnlyList, IReadOnlyCollection, IEnumerable, HashSet, ISet or IReadOnlySet");
            return null;
        }

        var dictionary = ResultTypeSymbol() as INamedTypeSymbol;
        var valueType = DictionaryValueType(dictionary, elementType);
        if (valueType is null)
        {
            Report(DiagnosticDescriptors.InvalidMultiCachedReturn, ReturnTypeLocation, MethodName, _method.ReturnType.ToDisplayString(s_readableFormat), elementType.ToDisplayString(s_readableFormat));
            return null;
        }

        var keyBuilder = NamedString("KeyBuilder");
        MemberCallSpec? builder = null;
        IMethodSymbol? builderMethod = null;
        var builderArguments = EquatableArray<string>.Empty;
        if (keyBuilder is not null)
        {
            var target = MultiKeyBuilders(_method, parameter, elementType, keyBuilder).FirstOrDefault(candidate => candidate.IsStatic || !_method.IsStatic);
            if (target is null)
            {
                Report(DiagnosticDescriptors.InvalidKeyBuilder, ArgumentLocation("KeyBuilder"), MethodName, keyBuilder, elementType.ToDisplayString(s_readableFormat) + " key",
                    (_method.IsStatic ? " (static)" : string.Empty) + WhyNotAKeyBuilder(parameter, elementType, keyBuilder));
                return null;
            }

            builderMethod = target;
            CheckHelperNotObsoleteAsError(target, "KeyBuilder");
            ReportNullsRefused(keyBuilder, target.Parameters.Skip(1).Select(taken => (_method.Parameters.First(p => p.Name == taken.Name).Type, taken)));
            builder = CallOf(target, Identifier(keyBuilder), _method);
            builderArguments = target.Parameters.Skip(1).Select(static p => Identifier(p.Name)).ToEquatableArray();
        }
        else
        {
            // Each key is written by its text (a record, a tuple or a collection part by part), as a default key's
            // argument is: a key type that keeps object.ToString() would put every key of a batch in one entry.
            CheckKeyText(parameter.Type, ArgumentLocation("KeysFrom"), $"KeysFrom parameter '{keysFrom}'", "override ToString, use a record, or set KeyBuilder", keys: elementType);
        }

        foreach (var ignored in _method.Parameters.Where(p => !SymbolEqualityComparer.Default.Equals(p, parameter) && !IsCancellationToken(p.Type) && !HasAttribute(p, _known.CacheKeyIgnoreAttribute)
            && !builderArguments.Contains(Identifier(p.Name))))
        {
            // The builder to write: the one given, with the parameter added, or a new one.
            // The key parameter is not named like the one added (CS0100): "k" then.
            var taken = builderMethod?.Parameters.Select((p, i) => p.Type.ToDisplayString(s_readableFormat) + " " + (i == 0 && p.Name == ignored.Name ? "k" : Identifier(p.Name)))
                ?? [elementType.ToDisplayString(s_readableFormat) + (ignored.Name == "key" ? " k" : " key")];
            var suggested = $"string {keyBuilder ?? "KeyOf"}({string.Join(", ", taken.Append(ignored.Type.ToDisplayString(s_readableFormat) + " " + Identifier(ignored.Name)))})";
            var writtenFrom = builderArguments.Count == 0 ? $"'{keysFrom}' alone" : $"'{keysFrom}' and " + string.Join(", ", builderArguments.Select(static a => "'" + a + "'"));
            Report(DiagnosticDescriptors.MultiKeysIgnoreParameter, ParameterLocation(ignored), MethodName, writtenFrom, Identifier(ignored.Name), suggested);
        }

        return new MultiSpec
        {
            KeysParameter = Identifier(keysFrom),
            KeyType = elementType.ToDisplayString(s_typeFormat),
            ValueType = valueType.ToDisplayString(s_typeFormat),
            DictionaryType = resultType,
            ReturnsConcreteDictionary = KnownTypeSymbols.Is(dictionary, _known.Dictionary),
            Conversion = conversion.Value,
            KeyBuilder = builder,
            KeyBuilderArguments = builderArguments,
            KeyShape = builder is null ? MultiKeyShape(elementType) : null,
            // A single-key method sharing the entries may have stored a null (an unknown id): never a value of a
            // dictionary whose values cannot be null.
            NullValuesMiss = valueType is { IsReferenceType: true, NullableAnnotation: NullableAnnotation.NotAnnotated },
        };
    }

    /// <summary>
    /// The methods a [MultiCached] <paramref name="target"/>'s KeyBuilder <paramref name="name"/> can be: a string from
    /// the key, then from any of the target's other parameters, named and typed as the target's (its keys and a token
    /// aside), as aiocache's key_builder(key, f, *args, **kwargs) reads the call's arguments; the overloads that take
    /// the most come first.
    /// </summary>
    private IEnumerable<IMethodSymbol> MultiKeyBuilders(IMethodSymbol target, IParameterSymbol keys, ITypeSymbol keyType, string name)
        => HelperCandidates(target.ContainingType, name).Where(candidate =>
            candidate.ReturnType.SpecialType == SpecialType.System_String
            && candidate.Parameters.Length >= 1
            && SymbolEqualityComparer.Default.Equals(candidate.Parameters[0].Type, keyType)
            && candidate.Parameters.Skip(1).All(p => p.RefKind is RefKind.None or RefKind.In && target.Parameters.Any(source =>
                source.Name == p.Name
                && !SymbolEqualityComparer.Default.Equals(source, keys)
                && !IsCancellationToken(source.Type)
                && SymbolEqualityComparer.Default.Equals(source.Type, p.Type))))
            // Of overloads that fit, the one that takes the most: PriceKey(id, region) over PriceKey(id).
            .OrderByDescending(static candidate => candidate.Parameters.Length);

    /// <summary>
    /// CACHED044 for each parameter of a KeyBuilder declared not to hold null that the method passes an argument it
    /// declares nullable: the generated call, in a file without nullable warnings, would pass the null on unseen.
    /// </summary>
    private void ReportNullsRefused(string builder, IEnumerable<(ITypeSymbol Passed, IParameterSymbol Taken)> arguments)
    {
        foreach (var (passed, taken) in arguments)
        {
            if (passed is { IsReferenceType: true, NullableAnnotation: NullableAnnotation.Annotated } && taken.Type.NullableAnnotation == NullableAnnotation.NotAnnotated)
            {
                Report(DiagnosticDescriptors.KeyBuilderRefusesNull, ArgumentLocation("KeyBuilder"), MethodName, builder, taken.Name,
                    taken.Type.ToDisplayString(s_readableFormat), passed.ToDisplayString(s_readableFormat));
            }
        }
    }

    /// <summary>
    /// Why a method of the KeyBuilder's name that takes the key first is not one, for CACHED010's message: the first of
    /// its other parameters that is not a parameter of the method by name and type (" ('page' is 'int?' in the
    /// method)"); empty when none takes the key first.
    /// </summary>
    private string WhyNotAKeyBuilder(IParameterSymbol keys, ITypeSymbol keyType, string name)
    {
        foreach (var candidate in HelperCandidates(_method.ContainingType, name).Where(c => c.Parameters.Length > 1 && SymbolEqualityComparer.Default.Equals(c.Parameters[0].Type, keyType)))
        {
            foreach (var taken in candidate.Parameters.Skip(1))
            {
                var source = _method.Parameters.FirstOrDefault(p => p.Name == taken.Name);
                var why = source is null ? $"'{taken.Name}' is not a parameter of the method"
                    : SymbolEqualityComparer.Default.Equals(source, keys) ? $"'{taken.Name}' holds the keys, not one"
                    : IsCancellationToken(source.Type) ? $"'{taken.Name}' is the method's CancellationToken, which is no part of a key"
                    : !SymbolEqualityComparer.Default.Equals(source.Type, taken.Type) ? $"'{taken.Name}' is '{source.Type.ToDisplayString(s_readableFormat)}' in the method"
                    : taken.RefKind is not (RefKind.None or RefKind.In) ? $"'{taken.Name}' is passed by reference"
                    : null;
                if (why is not null)
                {
                    return $" ({why}; after the key it takes the method's own parameters, by name and type)";
                }
            }
        }

        return string.Empty;
    }

    /// <summary>The parameters KeysFrom could name, for a message: " (parameters that can hold the keys: ids)".</summary>
    private string KeysParameterCandidates()
    {
        var candidates = _method.Parameters
            .Where(p => p.Type.SpecialType != SpecialType.System_String && EnumerableElementType(p.Type) is not null && ConversionOf(p.Type) is not null)
            .Select(static p => p.Name)
            .ToList();
        return " (parameters that can hold the keys: " + (candidates.Count == 0 ? "none" : string.Join(", ", candidates)) + ")";
    }

    private ITypeSymbol? DictionaryValueType(INamedTypeSymbol? dictionary, ITypeSymbol keyType)
    {
        if (dictionary is not { IsGenericType: true, TypeArguments.Length: 2 })
        {
            return null;
        }

        var known = KnownTypeSymbols.Is(dictionary, _known.Dictionary)
            || KnownTypeSymbols.Is(dictionary, _known.IDictionary)
            || KnownTypeSymbols.Is(dictionary, _known.IReadOnlyDictionary);
        return known && SymbolEqualityComparer.Default.Equals(dictionary.TypeArguments[0], keyType) ? dictionary.TypeArguments[1] : null;
    }

    private KeysConversion? ConversionOf(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol { Rank: 1 })
        {
            return KeysConversion.ToArray;
        }

        if (type is not INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named)
        {
            return null;
        }

        // The runtime hands the missing keys over as a List<TKey>: these types take it as it is, sets need a copy.
        if (new[] { _known.List, _known.IList, _known.ICollection, _known.IEnumerable, _known.IReadOnlyList, _known.IReadOnlyCollection }
            .Any(known => KnownTypeSymbols.Is(named, known)))
        {
            return KeysConversion.AsList;
        }

        return new[] { _known.HashSet, _known.ISet, _known.IReadOnlySet }.Any(known => KnownTypeSymbols.Is(named, known))
            ? KeysConversion.ToHashSet
            : null;
    }

    private SkipRuleSpec? ParseSkipCacheWhen(MultiSpec? multi)
    {
        var name = NamedString("SkipCacheWhen");
        if (name is null)
        {
            return null;
        }

        var dictionary = ResultTypeSymbol() as INamedTypeSymbol;
        // A sequence result is judged by its items: the predicate takes T[] or a type it converts to (IReadOnlyList<T>).
        var valueType = multi is null ? _storedType ?? ResultTypeSymbol() : dictionary?.TypeArguments[1];
        var keyType = multi is null ? null : dictionary?.TypeArguments[0];
        foreach (var declared in HelperCandidates(_method.ContainingType, name))
        {
            // A generic predicate is called with the method's type arguments: IsEmpty<T>(result).
            var p = declared.Arity == 0 ? declared.Parameters.Select(static p => p.Type).ToList() : AsCalledBy(declared, _method)?.ParameterTypes;
            if (p is null || declared.ReturnType.SpecialType != SpecialType.System_Boolean || (!declared.IsStatic && _method.IsStatic))
            {
                continue;
            }

            var passesKey = multi is not null && p.Count == 2 && SymbolEqualityComparer.Default.Equals(p[0], keyType) && SymbolEqualityComparer.Default.Equals(p[1], valueType);
            if (passesKey || (p.Count == 1 && TakesValue(p[0], valueType)))
            {
                CheckHelperNotObsoleteAsError(declared, "SkipCacheWhen");
                return new SkipRuleSpec(CallOf(declared, declared.Arity == 0 ? Identifier(name) : Called(name), _method), passesKey);
            }
        }

        var expected = multi is null
            ? valueType?.ToDisplayString(s_readableFormat) + " result"
            : $"{valueType?.ToDisplayString(s_readableFormat)} value)' or 'bool {name}({keyType?.ToDisplayString(s_readableFormat)} key, {valueType?.ToDisplayString(s_readableFormat)} value";
        Report(DiagnosticDescriptors.InvalidSkipCacheWhen, ArgumentLocation("SkipCacheWhen"), MethodName, name, expected, _method.IsStatic ? " (static)" : string.Empty);
        return null;
    }

    private static bool IsSequence(ITypeSymbol type)
        => type.SpecialType != SpecialType.System_String && EnumerableElementType(type) is not null;

    private static ITypeSymbol? EnumerableElementType(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol array)
        {
            return array.ElementType;
        }

        var candidates = type is INamedTypeSymbol named && named.ConstructedFrom.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T
            ? [named]
            : type.AllInterfaces.Where(static i => i.ConstructedFrom.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);
        return candidates.Select(static i => i.TypeArguments[0]).FirstOrDefault();
    }
}
