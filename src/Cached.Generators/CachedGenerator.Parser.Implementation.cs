using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators;

/// <summary>
/// The method that runs on a miss (<c>&lt;Name&gt;Core</c>, or the one Implementation names): found, or CACHED002; and
/// called as found, or CACHED039.
/// </summary>
internal sealed partial class Parser
{
    // A method with the type that declares it, for messages: 'protected int RepositoryBase.GetCore(int id)'.
    private static readonly SymbolDisplayFormat s_memberFormat = s_signatureFormat.AddMemberOptions(SymbolDisplayMemberOptions.IncludeContainingType);

    /// <summary>
    /// The method's name as written in its declaration: an explicit interface implementation's symbol is named
    /// <c>Demo.IStore.Get</c>, and a Core named after that is no method a user can declare.
    /// </summary>
    private string SimpleName => _syntax.Identifier.ValueText;

    /// <summary>The implementation the generated body calls, or null with CACHED002 when there is none of its signature.</summary>
    private IMethodSymbol? CheckImplementation(string name)
    {
        var namesakes = ImplementationCandidates(name);
        var found = namesakes.Select(candidate => AsCalledBy(candidate, _method)).FirstOrDefault(candidate =>
            candidate is not null
            && candidate.IsStatic == _method.IsStatic
            && SymbolEqualityComparer.Default.Equals(candidate.ReturnType, _method.ReturnType)
            && candidate.ParameterTypes.Count == _method.Parameters.Length
            && _method.Parameters.All(p => p.RefKind == candidate.Method.Parameters[p.Ordinal].RefKind && SymbolEqualityComparer.Default.Equals(candidate.ParameterTypes[p.Ordinal], p.Type)));
        if (found is not null)
        {
            return found.Method;
        }

        var signature = ImplementationSignature(name);
        if (namesakes.Count == 0)
        {
            Report(DiagnosticDescriptors.ImplementationMissing, ImplementationLocation, MethodName, signature);
        }
        else
        {
            Report(DiagnosticDescriptors.ImplementationSignatureMismatch, ImplementationLocation, MethodName, name, namesakes[0].ToDisplayString(s_signatureFormat), signature);
        }

        return null;
    }

    private Location ImplementationLocation => NamedString("Implementation") is null ? _location : ArgumentLocation("Implementation");

    /// <summary>
    /// How the generated code calls <paramref name="body"/>, checked against the method C# binds that call to: among the
    /// methods of its name, an applicable one that a more derived type declares hides a base class's, and in one type
    /// the closer match wins (a [MultiCached] body gets the missing keys as a list). A non-virtual body of a base class
    /// that such a method hides is reached through <c>base</c>, as the plain call would have reached it: from the
    /// invalidating method itself, or from a forwarder (<see cref="MethodSpec.BaseImplementation"/>) where the call is
    /// in a static lambda. Any other is CACHED039, and null.
    /// </summary>
    private (MemberCallSpec Call, MemberCallSpec? Base, MultiSpec? Multi)? ImplementationCall(IMethodSymbol body, string name, GeneratedNames names, MultiSpec? multi, bool tokenFromRuntime)
    {
        var found = BoundImplementationCall(body, name, names, multi, tokenFromRuntime);
        if (found is not { } bound || !IsObsoleteAsError(body) || bound.Base is not null && !IsInvalidation)
        {
            return found;
        }

        // A body marked [Obsolete(error: true)], to keep callers off it, cannot be called from the generated code
        // (CS0619 in the generated file: no pragma lifts an error), but can be from a member that is itself obsolete.
        // The forwarder that calls it is marked [Obsolete] (IsObsoleteForwarder), and the warning a call to that raises
        // is lifted in the generated file.
        return (new MemberCallSpec(ForwarderName(names), body.IsStatic), bound.Base ?? bound.Call, bound.Multi);
    }

    /// <summary>
    /// Whether a call to <paramref name="method"/> is an error for being obsolete: <c>[Obsolete(..., error: true)]</c>
    /// on it or on a method it overrides, which C# judges an override's call by (the override need not repeat it).
    /// </summary>
    private static bool IsObsoleteAsError(IMethodSymbol method)
    {
        for (var current = method; current is not null; current = current.OverriddenMethod)
        {
            if (current.GetAttributes().Any(static a => IsAttribute(a, "ObsoleteAttribute", "System") && a.ConstructorArguments.Length == 2 && a.ConstructorArguments[1].Value is true))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The forwarder's name: as the method's key method is named, overload suffix and type parameters included
    /// (<c>__CachedCore_Get_1&lt;T&gt;</c>); an invalidating method's, which its names do not number among the cached
    /// overloads of its name, by its own name, its parameters telling it from theirs as they tell the methods apart.
    /// </summary>
    private string ForwarderName(GeneratedNames names)
        => IsInvalidation ? "__CachedCore_" + _method.Name + TypeParameterList(_method) : "__CachedCore_" + names.KeyMethod.Substring(KeyMethodPrefix.Length);

    /// <summary>
    /// CACHED045 when a <c>KeyBuilder</c> or <c>SkipCacheWhen</c> method (<paramref name="argument"/>) is obsolete as an
    /// error: the generated code calls it, which C# refuses (CS0619, in the generated file, where no pragma lifts it),
    /// unless the cached method or a type around it is obsolete too.
    /// </summary>
    private void CheckHelperNotObsoleteAsError(IMethodSymbol helper, string argument)
    {
        if (!IsObsoleteAsError(helper) || InObsoleteContext(_method))
        {
            return;
        }

        Report(DiagnosticDescriptors.HelperObsoleteAsError, ArgumentLocation(argument), MethodName, argument, helper.Name);
    }

    /// <summary>Whether <paramref name="symbol"/> or a type that contains it is <c>[Obsolete]</c>, where C# lets obsolete members be called.</summary>
    private static bool InObsoleteContext(ISymbol symbol)
    {
        for (var current = symbol; current is not null; current = current.ContainingType)
        {
            if (current.GetAttributes().Any(static a => IsAttribute(a, "ObsoleteAttribute", "System")))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How the generated code calls <paramref name="body"/> (<see cref="ImplementationCall"/>), an obsolete body aside.</summary>
    private (MemberCallSpec Call, MemberCallSpec? Base, MultiSpec? Multi)? BoundImplementationCall(IMethodSymbol body, string name, GeneratedNames names, MultiSpec? multi, bool tokenFromRuntime)
    {
        var call = CallOf(body, Called(name), _method);
        if (!HasNamesake(body))
        {
            // Nothing else of its name for the call to bind to: the common case, which needs no speculative binding
            // (issue 14 item 9 counts the generator's time per method).
            return (call, null, multi);
        }

        var others = OtherBoundMethods(body, call, multi, tokenFromRuntime);
        if (others.Count == 0)
        {
            return (call, null, multi);
        }

        // A [MultiCached] body that takes the keys as another collection (IEnumerable<int>) than the missing keys'
        // (List<int>), beside an overload that takes theirs: the missing keys cast to the body's type reach the body.
        if (multi is not null && body.Parameters.FirstOrDefault(p => Identifier(p.Name) == multi.KeysParameter) is { } keys
            && multi with { KeysCast = keys.Type.ToDisplayString(s_typeFormat) } is var cast
            && OtherBoundMethods(body, call, cast, tokenFromRuntime).Count == 0)
        {
            return (call, null, cast);
        }

        if (IsReachableThroughBase(body))
        {
            var throughBase = call with { Qualifier = "base" };
            return IsInvalidation ? (throughBase, null, multi) : (new MemberCallSpec(ForwarderName(names), IsStatic: false), throughBase, multi);
        }

        Report(DiagnosticDescriptors.ImplementationHidden, ImplementationLocation, MethodName, body.ToDisplayString(s_memberFormat),
            string.Join(" or ", others.Select(static other => $"'{other.ToDisplayString(s_memberFormat)}'")));
        return null;
    }

    /// <summary>The methods other than <paramref name="body"/> that C# binds the generated call to (<see cref="BoundMethods"/>).</summary>
    private List<ISymbol> OtherBoundMethods(IMethodSymbol body, MemberCallSpec call, MultiSpec? multi, bool tokenFromRuntime)
        => BoundMethods(call, multi, tokenFromRuntime)
            .Where(bound => !SymbolEqualityComparer.Default.Equals(bound.OriginalDefinition, body.OriginalDefinition))
            .ToList();

    /// <summary>Whether the method's type or a base class declares another method of <paramref name="body"/>'s name.</summary>
    private bool HasNamesake(IMethodSymbol body)
    {
        for (var type = _method.ContainingType; type is not null; type = type.BaseType)
        {
            foreach (var member in type.GetMembers(body.Name))
            {
                if (member is IMethodSymbol method && !SymbolEqualityComparer.Default.Equals(method.OriginalDefinition, body.OriginalDefinition))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The methods C# binds the generated call to, bound here with arguments of the types the generated code passes:
    /// one; several when the call is ambiguous or bound at run time (a <c>dynamic</c> argument); none when it cannot tell.
    /// </summary>
    private ImmutableArray<ISymbol> BoundMethods(MemberCallSpec call, MultiSpec? multi, bool tokenFromRuntime)
    {
        var type = _method.ContainingType.ToDisplayString(s_typeFormat);
        var receiver = call.IsStatic ? call.Qualifier ?? type : $"default({type})";
        var arguments = _method.Parameters.Select(p => $"default({ArgumentType(p, multi, tokenFromRuntime)})");
        var expression = SyntaxFactory.ParseExpression($"{receiver}.{call.Name}({string.Join(", ", arguments)})");
        // In the method's parameter list: its type parameters are in scope there, and the type's members are accessible.
        var info = _semanticModel.GetSpeculativeSymbolInfo(_syntax.ParameterList.SpanStart, expression, SpeculativeBindingOption.BindAsExpression);
        return info.Symbol is { } symbol ? [symbol] : info.CandidateSymbols;
    }

    /// <summary>The type of what the generated call passes for <paramref name="parameter"/>: the missing keys as the runtime hands them, the runtime's token.</summary>
    private string ArgumentType(IParameterSymbol parameter, MultiSpec? multi, bool tokenFromRuntime)
    {
        if (multi is not null && Identifier(parameter.Name) == multi.KeysParameter)
        {
            return multi.KeysCast ?? multi.Conversion switch
            {
                KeysConversion.ToArray => multi.KeyType + "[]",
                KeysConversion.ToHashSet => $"global::System.Collections.Generic.HashSet<{multi.KeyType}>",
                _ => $"global::System.Collections.Generic.List<{multi.KeyType}>",
            };
        }

        return tokenFromRuntime && IsCancellationToken(parameter.Type) ? "global::System.Threading.CancellationToken" : parameter.Type.ToDisplayString(s_typeFormat);
    }

    /// <summary>
    /// True when <c>base.Name(...)</c> in the method's type reaches <paramref name="body"/> as a plain call of it would:
    /// a method of a base class that no override can replace (not virtual, or a sealed override), with no method of its
    /// name in a class in between, whose own would take the call. A virtual one called so would skip the override of a
    /// further derived type.
    /// </summary>
    private bool IsReachableThroughBase(IMethodSymbol body)
    {
        if (body.IsStatic || body.IsVirtual || body.IsAbstract || (body.IsOverride && !body.IsSealed))
        {
            return false;
        }

        for (var type = _method.ContainingType.BaseType; type is not null; type = type.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, body.ContainingType.OriginalDefinition))
            {
                return true;
            }

            if (!type.GetMembers(body.Name).IsEmpty)
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>
    /// How generated code in <paramref name="caller"/> names <paramref name="target"/>: by <paramref name="code"/> alone,
    /// as a person would write the call, unless a parameter or type parameter of the caller is named like it (the name
    /// would be that parameter: CS0149, CS8820 in a static lambda) or it is static and a base class declares it (a
    /// method of its name in the caller's type would take the call): then through <c>this</c>, or the type that
    /// declares it. An instance method called from a static lambda is reached through the instance in its state anyway.
    /// </summary>
    private MemberCallSpec CallOf(IMethodSymbol target, string code, IMethodSymbol caller)
    {
        // Its [Experimental] id, if any, is lifted in the generated file (ExperimentalIds).
        _called.Add(target.OriginalDefinition);
        var hidden = caller.Parameters.Any(p => p.Name == target.Name) || caller.TypeParameters.Any(p => p.Name == target.Name);
        var inherited = target.IsStatic && !SymbolEqualityComparer.Default.Equals(target.ContainingType.OriginalDefinition, caller.ContainingType.OriginalDefinition);
        var qualifier = !hidden && !inherited ? null : target.IsStatic ? target.ContainingType.ToDisplayString(s_typeFormat) : "this";
        return new MemberCallSpec(code, target.IsStatic, qualifier);
    }

    /// <summary>
    /// The methods named <paramref name="name"/> the generated body could call: the type's own, then those its base
    /// types declare that it can reach (a protected <c>GetCore</c> of a repository base class). The generated call
    /// <c>GetCore(id)</c> finds those too, and asking for a private one would have the user hide them.
    /// </summary>
    private List<IMethodSymbol> ImplementationCandidates(string name)
        => HelperCandidates(_method.ContainingType, name)
            .Where(candidate => !SymbolEqualityComparer.Default.Equals(candidate, _method) && !SymbolEqualityComparer.Default.Equals(candidate.PartialDefinitionPart, _method))
            .ToList();

    /// <summary>
    /// The methods named <paramref name="name"/> a <c>KeyBuilder</c> or <c>SkipCacheWhen</c> of a method of
    /// <paramref name="type"/> may be: the type's own, then those its base types declare that it can reach, as for the
    /// body (<see cref="ImplementationCandidates"/>); the generated call finds them too (<see cref="CallOf"/>).
    /// </summary>
    private IEnumerable<IMethodSymbol> HelperCandidates(INamedTypeSymbol type, string name)
    {
        foreach (var own in type.GetMembers(name).OfType<IMethodSymbol>())
        {
            yield return own;
        }

        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            foreach (var inherited in current.GetMembers(name).OfType<IMethodSymbol>())
            {
                if (inherited.MethodKind == MethodKind.Ordinary && _semanticModel.Compilation.IsSymbolAccessibleWithin(inherited, type))
                {
                    yield return inherited;
                }
            }
        }
    }
}
