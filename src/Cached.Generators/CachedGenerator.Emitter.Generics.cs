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
    /// field <c>Method</c> and, for a default key, the key's <c>Prefix</c> with the type arguments written in, made once;
    /// the same class, not generic, when a static initializer of the type may call the method before a field is made.
    /// </summary>
    private static void EmitState(CodeWriter writer, MethodSpec method, string fieldType)
    {
        if (method.Names.StateClass is not { } stateClass)
        {
            EmitField(writer, method, fieldType);
            return;
        }

        var typeParameters = method.Signature.TypeParameters;
        MemberAttributes(writer);
        writer.Filled(Declaration("private static class", stateClass, null, typeParameters));
        writer.Open();
        if (typeParameters?.KeyPrefix is { } prefix)
        {
            writer.Filled($"public static readonly string {method.Names.StatePrefix} = {prefix};");
        }

        EmitField(writer, method, fieldType, method.Names.StateField);
        writer.Close();
    }

    /// <summary>
    /// A declaration as one statement to fill: <c>head name&lt;T&gt;(parameters) where T : ...</c>, the type parameters
    /// after the name (unless it carries them: a key method is called by that name) and the constraint clauses after
    /// the parameters; a type's declaration (<paramref name="parameters"/> null) has no parameter list.
    /// </summary>
    private static string Declaration(string head, string name, string? parameters, TypeParametersSpec? typeParameters)
    {
        var declared = typeParameters is null || name.EndsWith(typeParameters.List, System.StringComparison.Ordinal) ? name : name + typeParameters.List;
        var text = parameters is null ? $"{head} {declared}" : $"{head} {declared}({parameters})";
        return typeParameters is { Constraints.Count: > 0 } ? text + " " + string.Join(" ", typeParameters.Constraints) : text;
    }
}
