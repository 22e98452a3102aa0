using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>The targets of an [InvalidateCache] method and the names generated members go by.</summary>
internal sealed partial class Parser
{
    private const string KeyMethodPrefix = "__CachedKey_";

    private EquatableArray<InvalidationSpec> ParseInvalidations()
    {
        var targets = _attribute.ConstructorArguments.Length == 1 && _attribute.ConstructorArguments[0].Kind == TypedConstantKind.Array
            ? _attribute.ConstructorArguments[0].Values.Select(static v => v.Value as string).Where(static v => v is not null).ToList()
            : [];
        var specs = new List<InvalidationSpec>();
        foreach (var targetName in targets)
        {
            var candidates = _method.ContainingType.GetMembers(targetName!).OfType<IMethodSymbol>()
                .Select(m => (Method: m, Attribute: m.GetAttributes().FirstOrDefault(a =>
                    KnownTypeSymbols.Is(a.AttributeClass, _known.CachedAttribute) || KnownTypeSymbols.Is(a.AttributeClass, _known.MultiCachedAttribute))))
                .Where(static c => c.Attribute is not null)
                .ToList();
            if (candidates.Count == 0)
            {
                var cachedMethods = _method.ContainingType.GetMembers().OfType<IMethodSymbol>()
                    .Where(m => HasAttribute(m, _known.CachedAttribute) || HasAttribute(m, _known.MultiCachedAttribute))
                    .Select(static m => m.Name)
                    .Distinct()
                    .ToList();
                Report(DiagnosticDescriptors.InvalidateTargetNotFound, ArgumentLocation(null, targetName), MethodName, targetName!, _method.ContainingType.Name, cachedMethods.Count == 0 ? "none" : string.Join(", ", cachedMethods));
                continue;
            }

            // Every overload of the name whose keys this method can build: the name covers them all, and an entry of one
            // left out would be served stale (an entry dropped too many costs one recompute).
            var matches = new List<InvalidationSpec>();
            (string Name, string Type)? firstMissing = null;
            string? keysProblem = null;
            string? genericProblem = null;
            foreach (var (target, attribute) in candidates)
            {
                if (KnownTypeSymbols.Is(attribute!.AttributeClass, _known.MultiCachedAttribute))
                {
                    var keys = MatchKeys(target, attribute, ref keysProblem);
                    if (keys is not null)
                    {
                        matches.Add(new InvalidationSpec(NamesOf(target), EquatableArray<string>.Empty, keys));
                    }

                    continue;
                }

                if (TargetTypeArguments(target, out var problem) is not { } typeArguments)
                {
                    genericProblem ??= problem;
                    continue;
                }

                var arguments = MatchKeyArguments(target, typeArguments, attribute, ref firstMissing, out var key);
                if (arguments is not null && key.NeedsInstance && _method.IsStatic)
                {
                    firstMissing ??= ("this", target.ContainingType.Name);
                    continue;
                }

                if (arguments is not null)
                {
                    matches.Add(new InvalidationSpec(NamesOf(target), arguments.ToEquatableArray()));
                }
            }

            if (matches.Count > 0)
            {
                specs.AddRange(matches);
            }
            else if (firstMissing is null && genericProblem is not null)
            {
                Report(DiagnosticDescriptors.GenericMethodUnsupported, ArgumentLocation(null, targetName), MethodName, $"names generic '{targetName}' in [InvalidateCache]: {genericProblem}");
            }
            else if (firstMissing is null && keysProblem is not null)
            {
                Report(DiagnosticDescriptors.InvalidateKeysMismatch, ArgumentLocation(null, targetName), MethodName, targetName!, keysProblem);
            }
            else
            {
                Report(DiagnosticDescriptors.InvalidateKeyMismatch, ArgumentLocation(null, targetName), MethodName, targetName!, firstMissing?.Name ?? "?", firstMissing?.Type ?? "?");
            }
        }

        return specs.ToEquatableArray();
    }

    /// <summary>
    /// This method's arguments for the target's key method, matched by name and type (nullability included; a generic
    /// target's type parameters read as <paramref name="typeArguments"/>, this method's own), or null with the first
    /// key parameter this method lacks.
    /// </summary>
    private List<string>? MatchKeyArguments(IMethodSymbol target, ITypeSymbol[] typeArguments, AttributeData attribute, ref (string Name, string Type)? firstMissing, out KeySpec key)
    {
        key = ParseKey(target, attribute, report: false);
        var arguments = new List<string>();
        foreach (var needed in key.Parameters)
        {
            var targetParameter = target.Parameters.First(p => Identifier(p.Name) == needed.Name);
            var neededType = Substitute(targetParameter.Type, target.TypeParameters, typeArguments);
            var source = _method.Parameters.FirstOrDefault(p =>
                p.Name == targetParameter.Name && SymbolEqualityComparer.IncludeNullability.Equals(p.Type, neededType));
            if (source is null)
            {
                firstMissing ??= (targetParameter.Name, targetParameter.Type.ToDisplayString(s_readableFormat));
                return null;
            }

            // A dynamic argument would make the key method's call one bound at run time, its result dynamic too.
            arguments.Add(source.Type.TypeKind == TypeKind.Dynamic ? "(object?)" + Identifier(source.Name) : Identifier(source.Name));
        }

        return arguments;
    }

    /// <summary>
    /// The keys this method names for a [MultiCached] target: its parameter of the target's KeysFrom name, holding
    /// one key or a collection of keys (element type and nullability as the target's), or null with the problem.
    /// </summary>
    private InvalidatedKeysSpec? MatchKeys(IMethodSymbol target, AttributeData attribute, ref string? problem)
    {
        var keysFrom = KeysFromName(attribute);
        var targetKeys = target.Parameters.FirstOrDefault(p => p.Name == keysFrom);
        var keyType = targetKeys is null ? null : EnumerableElementType(targetKeys.Type);
        if (targetKeys is null || keyType is null)
        {
            // The target reports its own CACHED007.
            problem ??= "its KeysFrom does not name a collection of keys";
            return null;
        }

        var shownKey = keyType.ToDisplayString(s_readableFormat);
        var source = _method.Parameters.FirstOrDefault(p => p.Name == keysFrom);
        if (source is null)
        {
            problem ??= $"add a parameter '{keysFrom}' of type '{shownKey}' or a collection of them (e.g. 'IEnumerable<{shownKey}>')";
            return null;
        }

        var isSingle = SymbolEqualityComparer.IncludeNullability.Equals(source.Type, keyType);
        if (!isSingle && (source.Type.SpecialType == SpecialType.System_String
            || !SymbolEqualityComparer.IncludeNullability.Equals(EnumerableElementType(source.Type), keyType)))
        {
            problem ??= $"its parameter '{keysFrom}' is a '{source.Type.ToDisplayString(s_readableFormat)}', not a '{shownKey}' or a collection of them";
            return null;
        }

        var builderName = NamedString(attribute, "KeyBuilder");
        MemberCallSpec? builder = null;
        var builderArguments = new List<string>();
        if (builderName is not null)
        {
            // A missing builder is the target's own CACHED010; static then, so that only that error shows.
            var declared = MultiKeyBuilders(target, targetKeys, keyType, builderName).FirstOrDefault(candidate => candidate.IsStatic || !target.IsStatic);
            if (declared is { IsStatic: false } && _method.IsStatic)
            {
                problem ??= $"its KeyBuilder '{builderName}' is an instance method: make '{_method.Name}' an instance method";
                return null;
            }

            // The builder's other arguments are this method's parameters of the same names and types.
            foreach (var needed in declared?.Parameters.Skip(1) ?? [])
            {
                var targetType = target.Parameters.First(p => p.Name == needed.Name).Type;
                var argument = _method.Parameters.FirstOrDefault(p => p.Name == needed.Name && SymbolEqualityComparer.IncludeNullability.Equals(p.Type, targetType));
                if (argument is null)
                {
                    problem ??= $"its KeyBuilder '{builderName}' takes '{needed.Name}': add a parameter '{needed.Name}' of type '{targetType.ToDisplayString(s_readableFormat)}'";
                    return null;
                }

                builderArguments.Add(Identifier(argument.Name));
            }

            // The lambda that calls it is in this method, among this method's parameters.
            builder = declared is null ? new MemberCallSpec(builderName, IsStatic: true) : CallOf(declared, Identifier(builderName), _method);
        }

        return new InvalidatedKeysSpec(Identifier(source.Name), isSingle, keyType.ToDisplayString(s_typeFormat), builder, builder is null ? MultiKeyShape(keyType) : null)
        {
            BuilderArguments = builderArguments.ToEquatableArray(),
        };
    }

    /// <summary>
    /// Whether the names <paramref name="suffix"/> gives clash with a member the user declared: the method's name with
    /// it (for an overload's suffix), or its state or key method's. The generator does not see its own output, so any
    /// member found is the user's.
    /// </summary>
    private static bool Clashes(IMethodSymbol method, string suffix)
        => (suffix.Length > 0 && !method.ContainingType.GetMembers(method.Name + suffix).IsEmpty)
            || !method.ContainingType.GetMembers("__cached_" + method.Name + suffix).IsEmpty
            || !method.ContainingType.GetMembers(KeyMethodPrefix + method.Name + suffix).IsEmpty;

    /// <summary>
    /// The names of a cached method's static state and key method; overloads get a stable suffix. A generic method's
    /// state is the field <c>Method</c> of a nested class generic in its type parameters, one per instantiation; so is
    /// the state of a method whose type has a static initializer that may call it (the class is not generic then).
    /// </summary>
    private GeneratedNames NamesOf(IMethodSymbol method)
    {
        var overloads = method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>()
            .Where(m => m.IsPartialDefinition && (HasAttribute(m, _known.CachedAttribute) || HasAttribute(m, _known.MultiCachedAttribute)))
            .ToList();
        var suffix = overloads.Count <= 1
            ? string.Empty
            : "_" + overloads.FindIndex(m => SymbolEqualityComparer.Default.Equals(m, method)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Get(int) and Get(long) are Get_0 and Get_1: a method of the type named Get_0 would take the same names, so the
        // overload's suffix grows an underscore until no member is named like it, nor like the state or key method.
        while (Clashes(method, suffix))
        {
            suffix = "_" + suffix;
        }
        var typeParameters = TypeParameterList(method);
        var keyMethod = KeyMethodPrefix + method.Name + suffix + typeParameters;
        if (typeParameters.Length == 0)
        {
            var name = "__cached_" + method.Name + suffix;
            return StaticInitializersMayCall(method.ContainingType)
                ? new GeneratedNames(name + ".Method", keyMethod, name)
                : new GeneratedNames(name, keyMethod);
        }

        var stateClass = "__cached_" + method.Name + suffix + typeParameters;
        var field = StateMemberName(method, "Method");
        return new GeneratedNames(stateClass + "." + field, keyMethod, stateClass, field, StateMemberName(method, "Prefix"));
    }

    /// <summary>
    /// A member of a generic method's state class: <paramref name="name"/>, with leading underscores while a type
    /// parameter of the method is named so. The class is generic in those parameters, and a member named like one of
    /// them does not build (CS0102).
    /// </summary>
    private static string StateMemberName(IMethodSymbol method, string name)
    {
        while (method.TypeParameters.Any(p => p.Name == name))
        {
            name = "_" + name;
        }

        return name;
    }
}
