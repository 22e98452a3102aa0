using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>The method that runs on a miss (<c>&lt;Name&gt;Core</c>, or the one Implementation names): found, or CACHED002.</summary>
internal sealed partial class Parser
{
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
        var location = NamedString("Implementation") is null ? _location : ArgumentLocation("Implementation");
        if (namesakes.Count == 0)
        {
            Report(DiagnosticDescriptors.ImplementationMissing, location, MethodName, signature);
        }
        else
        {
            Report(DiagnosticDescriptors.ImplementationSignatureMismatch, location, MethodName, name, namesakes[0].ToDisplayString(s_signatureFormat), signature);
        }

        return null;
    }

    /// <summary>
    /// How generated code in <paramref name="caller"/> names <paramref name="target"/>: by <paramref name="code"/> alone,
    /// as a person would write the call, unless a parameter or type parameter of the caller is named like it (the name
    /// would be that parameter: CS0149, CS8820 in a static lambda) or it is static and a base class declares it (a
    /// method of its name in the caller's type would take the call): then through <c>this</c>, or the type that
    /// declares it. An instance method called from a static lambda is reached through the instance in its state anyway.
    /// </summary>
    private static MemberCallSpec CallOf(IMethodSymbol target, string code, IMethodSymbol caller)
    {
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
    {
        var type = _method.ContainingType;
        var candidates = type.GetMembers(name).OfType<IMethodSymbol>()
            .Where(candidate => !SymbolEqualityComparer.Default.Equals(candidate, _method) && !SymbolEqualityComparer.Default.Equals(candidate.PartialDefinitionPart, _method))
            .ToList();
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            candidates.AddRange(current.GetMembers(name).OfType<IMethodSymbol>()
                .Where(candidate => candidate.MethodKind == MethodKind.Ordinary
                    && _semanticModel.Compilation.IsSymbolAccessibleWithin(candidate, type)));
        }

        return candidates;
    }
}
