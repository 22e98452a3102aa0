using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// Generic methods: what is refused, how their type parameters and constraints are repeated, and how a method the
/// generated code calls (the implementation, a key builder, a skip predicate, an invalidation's target) is matched
/// against the cached method's own type parameters.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>
    /// False, with CACHED015, for the generic shapes that cannot be cached: a [MultiCached] method that is generic or
    /// in a generic type, whose entries are keyed by the key values alone, a type parameter that hides one of the
    /// containing type's, and a type parameter that allows ref structs, which cannot be stored.
    /// </summary>
    private bool CheckGeneric()
    {
        if (_kind == CachedMethodKind.MultiCached && !_method.IsGenericMethod && GenericContainingType() is { } generic)
        {
            // Repo<int> and Repo<long> would read each other's entries, and no Namespace (a constant) can tell them apart.
            Report(DiagnosticDescriptors.GenericMethodUnsupported, _location, MethodName,
                $"is a [MultiCached] method of the generic type '{generic.ToDisplayString(s_readableFormat)}': its entries are keyed by the key values alone, so its closed types would share them; declare it in a non-generic type, or use a [Cached] method, whose default key names the type arguments");
            return false;
        }

        if (!_method.IsGenericMethod)
        {
            return true;
        }

        if (_kind == CachedMethodKind.MultiCached)
        {
            Report(DiagnosticDescriptors.GenericMethodUnsupported, _syntax.TypeParameterList?.GetLocation() ?? _location, MethodName,
                "is a generic [MultiCached] method: its entries are keyed by the key values alone, so its instantiations would share them; declare a non-generic method for each type");
            return false;
        }

        var ok = true;
        var outer = TypeParametersInScope(_method.ContainingType);
        foreach (var parameter in _method.TypeParameters.Where(p => outer.Contains(p.Name)))
        {
            // The generated state class would see the method's parameter where the key needs the type's (CS0693).
            Report(DiagnosticDescriptors.GenericMethodUnsupported, TypeParameterLocation(parameter), MethodName,
                $"has a type parameter '{parameter.Name}' named like one of its containing type's, which it hides: rename it");
            ok = false;
        }

        foreach (var parameter in _method.TypeParameters.Where(static p => p.AllowsRefLikeType))
        {
            Report(DiagnosticDescriptors.GenericMethodUnsupported, AllowsRefStructLocation(parameter), MethodName,
                $"lets its type parameter '{parameter.Name}' be a ref struct, which cannot be stored: remove 'allows ref struct'");
            ok = false;
        }

        return ok;
    }

    /// <summary>The method's containing type, or one it is nested in, that is generic; null when none is.</summary>
    private INamedTypeSymbol? GenericContainingType()
    {
        for (var type = _method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (type.TypeParameters.Length > 0)
            {
                return type;
            }
        }

        return null;
    }

    /// <summary>The <c>allows ref struct</c> of a type parameter's constraint clause, else its clause, else the type parameters.</summary>
    private Location AllowsRefStructLocation(ITypeParameterSymbol parameter)
    {
        var clause = _syntax.ConstraintClauses.FirstOrDefault(c => c.Name.Identifier.ValueText == parameter.Name);
        var allows = clause?.Constraints.FirstOrDefault(static c => c.ToString().StartsWith("allows", System.StringComparison.Ordinal));
        return allows?.GetLocation() ?? clause?.GetLocation() ?? _syntax.TypeParameterList?.GetLocation() ?? _location;
    }

    /// <summary>
    /// The type parameters and constraint clauses the generated code repeats; null for a method that is not generic. An
    /// override or an explicit interface implementation inherits its constraints and may restate none but <c>class</c>,
    /// <c>struct</c> and <c>default</c> (CS0460): its own implementation's clauses are the user's, as written, which name
    /// no type.
    /// </summary>
    private TypeParametersSpec? TypeParametersOf(string? keyPrefix)
    {
        if (!_method.IsGenericMethod)
        {
            return null;
        }

        // The generated key method and state class are new declarations: they take every constraint, inherited or not.
        var constraints = _method.TypeParameters.Select(ConstraintClause).Where(static c => c is not null).Select(static c => c!).ToEquatableArray();
        var own = _method.IsOverride || _method.ExplicitInterfaceImplementations.Length > 0
            ? _syntax.ConstraintClauses.Select(static c => c.ToString()).ToEquatableArray()
            : (EquatableArray<string>?)null;
        return new TypeParametersSpec(TypeParameterList(_method), constraints, keyPrefix, own);
    }

    /// <summary><c>&lt;T, U&gt;</c>, or nothing for a method that is not generic.</summary>
    private static string TypeParameterList(IMethodSymbol method)
        => method.IsGenericMethod ? "<" + string.Join(", ", method.TypeParameters.Select(static p => Identifier(p.Name))) + ">" : string.Empty;

    /// <summary>
    /// <c>where T : class?, global::Demo.IShape, new()</c>: the primary constraint, the types, then <c>new()</c>, as C#
    /// orders them; null when the parameter has none. A partial method's two parts must agree on them (CS0761).
    /// </summary>
    private static string? ConstraintClause(ITypeParameterSymbol parameter) => ConstraintClause(parameter, s_typeFormat);

    private static string? ConstraintClause(ITypeParameterSymbol parameter, SymbolDisplayFormat format)
    {
        var constraints = new List<string>();
        if (parameter.HasReferenceTypeConstraint)
        {
            constraints.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
        }
        else if (parameter.HasUnmanagedTypeConstraint)
        {
            constraints.Add("unmanaged");
        }
        else if (parameter.HasValueTypeConstraint)
        {
            constraints.Add("struct");
        }
        else if (parameter.HasNotNullConstraint)
        {
            constraints.Add("notnull");
        }

        constraints.AddRange(parameter.ConstraintTypes.Select(t => t.ToDisplayString(format)));
        if (parameter.HasConstructorConstraint)
        {
            constraints.Add("new()");
        }

        return constraints.Count == 0 ? null : $"where {Identifier(parameter.Name)} : {string.Join(", ", constraints)}";
    }

    /// <summary>
    /// <paramref name="candidate"/> as <paramref name="method"/> calls it: its types with the method's type parameters
    /// in place of its own (matched by position) when both are generic of one arity and the method's constraints imply
    /// the candidate's, so the call compiles; as it is when neither is generic; else null.
    /// </summary>
    private CalledMethod? AsCalledBy(IMethodSymbol candidate, IMethodSymbol method)
    {
        if (candidate.Arity != method.Arity)
        {
            return null;
        }

        var arguments = method.TypeParameters.CastArray<ITypeSymbol>();
        for (var i = 0; i < arguments.Length; i++)
        {
            if (!Implies(method.TypeParameters[i], candidate.TypeParameters[i], candidate.TypeParameters, arguments))
            {
                return null;
            }
        }

        return new CalledMethod(
            candidate,
            Substitute(candidate.ReturnType, candidate.TypeParameters, arguments),
            candidate.Parameters.Select(p => Substitute(p.Type, candidate.TypeParameters, arguments)).ToList());
    }

    /// <summary>
    /// The types that stand for an [InvalidateCache] target's type parameters in this method: a generic target's type
    /// parameters must be this method's own, by name, with constraints that imply the target's; null (and
    /// <paramref name="problem"/>) when they are not. Empty for a target that is not generic.
    /// </summary>
    private ITypeSymbol[]? TargetTypeArguments(IMethodSymbol target, out string? problem)
    {
        problem = null;
        var arguments = new ITypeSymbol[target.Arity];
        for (var i = 0; i < arguments.Length; i++)
        {
            var name = target.TypeParameters[i].Name;
            if (_method.TypeParameters.FirstOrDefault(p => p.Name == name) is not { } own)
            {
                problem = $"declare its type parameter '{name}' on '{_method.Name}' too, so that the entry of each instantiation can be named";
                return null;
            }

            arguments[i] = own;
        }

        for (var i = 0; i < arguments.Length; i++)
        {
            if (!Implies((ITypeParameterSymbol)arguments[i], target.TypeParameters[i], target.TypeParameters, arguments))
            {
                problem = $"give '{_method.Name}'s type parameter '{arguments[i].Name}' at least the constraints of '{target.Name}' ({ConstraintClause(target.TypeParameters[i], s_readableFormat) ?? "none"})";
                return null;
            }
        }

        return arguments;
    }

    /// <summary>
    /// True when a type argument <paramref name="given"/> meets the constraints of <paramref name="required"/>: each of
    /// them is one of <paramref name="given"/>'s own (constraint types compared after putting <paramref name="arguments"/>
    /// in place of <paramref name="parameters"/>).
    /// </summary>
    private bool Implies(ITypeParameterSymbol given, ITypeParameterSymbol required, IReadOnlyList<ITypeParameterSymbol> parameters, IReadOnlyList<ITypeSymbol> arguments)
    {
        var isValueType = given.HasValueTypeConstraint || given.HasUnmanagedTypeConstraint;
        var isNotNull = isValueType || given.HasNotNullConstraint
            || (given.HasReferenceTypeConstraint && given.ReferenceTypeConstraintNullableAnnotation != NullableAnnotation.Annotated);
        return (!required.HasReferenceTypeConstraint || given.HasReferenceTypeConstraint)
            && (!required.HasValueTypeConstraint || isValueType)
            && (!required.HasUnmanagedTypeConstraint || given.HasUnmanagedTypeConstraint)
            && (!required.HasNotNullConstraint || isNotNull)
            && (!required.HasConstructorConstraint || given.HasConstructorConstraint || isValueType)
            && required.ConstraintTypes.All(type => given.ConstraintTypes.Any(own => SymbolEqualityComparer.Default.Equals(own, Substitute(type, parameters, arguments))));
    }

    /// <summary>
    /// <paramref name="type"/> with <paramref name="arguments"/> in place of <paramref name="parameters"/>, keeping
    /// nullable annotations (<c>T?</c> stays annotated), so that types can be compared with or without nullability.
    /// Roslyn's own <c>Construct</c> is not used: with another method's type parameters as arguments it can turn an
    /// unconstrained <c>T?</c> into <c>Nullable&lt;T&gt;</c>.
    /// </summary>
    private ITypeSymbol Substitute(ITypeSymbol type, IReadOnlyList<ITypeParameterSymbol> parameters, IReadOnlyList<ITypeSymbol> arguments)
    {
        if (parameters.Count == 0)
        {
            return type;
        }

        switch (type)
        {
            case ITypeParameterSymbol parameter:
                for (var i = 0; i < parameters.Count; i++)
                {
                    if (SymbolEqualityComparer.Default.Equals(parameters[i].OriginalDefinition, parameter.OriginalDefinition))
                    {
                        return arguments[i].WithNullableAnnotation(parameter.NullableAnnotation);
                    }
                }

                return type;
            case INamedTypeSymbol { IsTupleType: true } tuple:
                // Constructed again from its elements, which keeps their names: (int Count, string Name) built from the
                // ValueTuple definition would lose them, and a Core declared with them would not match (CACHED002).
                var elementTypes = tuple.TupleElements.Select(e => Substitute(e.Type, parameters, arguments)).ToImmutableArray();
                return _semanticModel.Compilation.CreateTupleTypeSymbol(
                        elementTypes,
                        tuple.TupleElements.Select(static e => e.IsExplicitlyNamedTupleElement ? e.Name : null).ToImmutableArray(),
                        elementNullableAnnotations: elementTypes.Select(static t => t.NullableAnnotation).ToImmutableArray())
                    .WithNullableAnnotation(tuple.NullableAnnotation);
            case INamedTypeSymbol { IsGenericType: true } named:
                // A type nested in a generic type (Outer<T>.Inner<U>) is found again in the substituted outer type.
                var definition = named.ContainingType is { IsGenericType: true } outer
                    ? ((INamedTypeSymbol)Substitute(outer, parameters, arguments)).GetTypeMembers(named.Name, named.Arity).FirstOrDefault()
                    : named.OriginalDefinition;
                if (definition is null || named.Arity == 0)
                {
                    return (definition ?? named).WithNullableAnnotation(named.NullableAnnotation);
                }

                var typeArguments = named.TypeArguments.Select(a => Substitute(a, parameters, arguments)).ToImmutableArray();
                return definition.Construct(typeArguments, named.TypeArgumentNullableAnnotations).WithNullableAnnotation(named.NullableAnnotation);
            case IArrayTypeSymbol array:
                return _semanticModel.Compilation.CreateArrayTypeSymbol(Substitute(array.ElementType, parameters, arguments), array.Rank, array.ElementNullableAnnotation)
                    .WithNullableAnnotation(array.NullableAnnotation);
            default:
                return type;
        }
    }

    /// <summary>A method of the type as a cached method calls it: its return and parameter types in the caller's type parameters.</summary>
    private sealed record CalledMethod(IMethodSymbol Method, ITypeSymbol ReturnType, IReadOnlyList<ITypeSymbol> ParameterTypes)
    {
        public bool IsStatic => Method.IsStatic;
    }

    /// <summary>
    /// CACHED019 for a fixed or template key of a generic method, or of a method of a generic type, that leaves out one
    /// of the type parameters: the instantiations (<c>Echo&lt;int&gt;</c>, <c>Echo&lt;string&gt;</c>) or closed types
    /// (<c>Settings&lt;int&gt;</c>, <c>Settings&lt;long&gt;</c>) would share entries of different types. The default key
    /// names them all, in its prefix.
    /// </summary>
    private void CheckKeyNamesTypeParameters(IMethodSymbol method, string template, HashSet<string> used)
    {
        var chain = new List<INamedTypeSymbol>();
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            chain.Insert(0, type);
        }

        // Outermost first, as they are written: Outer<T>.Inner<U>.Find<V> lists T, U, V.
        var missing = chain.SelectMany(static t => t.TypeParameters).Concat(method.TypeParameters)
            .Select(static p => p.Name).Where(name => !used.Contains(name)).Distinct().ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var names = (missing.Count == 1 ? "type parameter " : "type parameters ") + string.Join(", ", missing.Select(static n => $"'{n}'"));
        var holes = string.Join(" and ", missing.Select(static n => "'{" + n + "}'"));
        Report(DiagnosticDescriptors.KeyWithoutTypeParameters, ArgumentLocation("Key"), template, MethodName, names, holes);
    }

    /// <summary>The type parameters a Key template may name: the method's and its containing types'.</summary>
    private static HashSet<string> TypeParametersInScope(IMethodSymbol method)
    {
        var names = TypeParametersInScope(method.ContainingType);
        names.UnionWith(method.TypeParameters.Select(static p => p.Name));
        return names;
    }

    /// <summary>The type parameters of <paramref name="type"/> and of the types it is nested in.</summary>
    private static HashSet<string> TypeParametersInScope(INamedTypeSymbol type)
    {
        var names = new HashSet<string>(System.StringComparer.Ordinal);
        for (var current = type; current is not null; current = current.ContainingType)
        {
            names.UnionWith(current.TypeParameters.Select(static p => p.Name));
        }

        return names;
    }

    private Location TypeParameterLocation(ITypeParameterSymbol parameter)
        => _syntax.TypeParameterList?.Parameters.FirstOrDefault(p => p.Identifier.ValueText == parameter.Name)?.GetLocation()
            ?? _syntax.TypeParameterList?.GetLocation() ?? _location;

    /// <summary>A name as code, in its generic form when the method is generic: <c>EchoCore&lt;T&gt;</c>, <c>@default</c>.</summary>
    private string Called(string name) => Identifier(name) + TypeParameterList(_method);

    /// <summary>The declaration a missing implementation should have: <c>private T EchoCore&lt;T&gt;(T value) where T : notnull</c>.</summary>
    private string ImplementationSignature(string name)
    {
        var parameters = string.Join(", ", _method.Parameters.Select(static p => p.Type.ToDisplayString(s_readableFormat) + " " + p.Name));
        var constraints = _method.TypeParameters.Select(static p => ConstraintClause(p, s_readableFormat)).Where(static c => c is not null)
            .Select(static c => " " + c);
        return $"private {(_method.IsStatic ? "static " : string.Empty)}{_method.ReturnType.ToDisplayString(s_readableFormat)} {Called(name)}({parameters}){string.Concat(constraints)}";
    }
}
