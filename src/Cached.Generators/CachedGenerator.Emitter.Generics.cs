using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>
/// Generic methods: their state lives in a private nested class generic in the method's type parameters, so each
/// closed instantiation has a <c>CachedMethod</c> of its own without reflection (no MakeGenericType, no Activator:
/// trimming- and NativeAOT-safe); every generated generic member repeats the method's constraints.
/// </summary>
internal static partial class Emitter
{
    /// <summary>
    /// A method's static state: a field, or for a generic method <c>__cached_Echo&lt;T&gt;</c>, a class holding the
    /// field <c>Method</c> and, for a default key, the key's <c>Prefix</c> with the type arguments written in, made once.
    /// </summary>
    private static void EmitState(CodeWriter writer, MethodSpec method, string fieldType)
    {
        if (method.Names.StateClass is not { } stateClass)
        {
            EmitField(writer, method, fieldType);
            return;
        }

        var typeParameters = method.Signature.TypeParameters;
        writer.Line(s_generatedCode);
        writer.Line($"private static class {stateClass}");
        EmitConstraints(writer, typeParameters);
        writer.Open();
        if (typeParameters?.KeyPrefix is { } prefix)
        {
            writer.Wrapped($"public static readonly string Prefix = {prefix};");
            writer.Line();
        }

        EmitField(writer, method, fieldType, "Method");
        writer.Close();
    }

    /// <summary>A method's declaration, its type parameters after the name and its constraint clauses after the parameters.</summary>
    private static void Declaration(CodeWriter writer, string head, string name, string parameters, TypeParametersSpec? typeParameters)
    {
        // A key method's name already carries its type parameters (it is called by that name).
        var declared = typeParameters is null || name.EndsWith(typeParameters.List, System.StringComparison.Ordinal) ? name : name + typeParameters.List;
        writer.Declaration(head, declared, parameters);
        EmitConstraints(writer, typeParameters);
    }

    private static void EmitConstraints(CodeWriter writer, TypeParametersSpec? typeParameters)
    {
        if (typeParameters is null)
        {
            return;
        }

        writer.Indent();
        foreach (var constraint in typeParameters.Constraints)
        {
            writer.Wrapped(constraint);
        }

        writer.Outdent();
    }
}
