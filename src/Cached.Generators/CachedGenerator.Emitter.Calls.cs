using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>How generated code names what the user declared: the methods it calls (the body, a KeyBuilder, a SkipCacheWhen predicate) and the types it declares again.</summary>
internal static partial class Emitter
{
    /// <summary>The method as a static lambda reaches it: an instance one through the instance its state holds.</summary>
    private static string Call(MemberCallSpec method, State state) => Call(method, method.IsStatic ? null : state.Access(State.Instance));

    /// <summary>
    /// The method as generated code names it: <c>ProductKey</c>, or through <paramref name="instance"/> (an instance
    /// method, when given), or through its qualifier where the bare name would not reach it
    /// (<c>global::Demo.Catalog.ProductKey</c>, <c>this.GetUserCore</c>).
    /// </summary>
    private static string Call(MemberCallSpec method, string? instance)
        => (method.IsStatic ? method.Qualifier : instance ?? method.Qualifier) is { } qualifier ? qualifier + "." + method.Name : method.Name;

    /// <summary>
    /// The forwarder a static lambda calls for a base class's body that a method of its name in the type would take the
    /// plain call from: <c>private int __CachedCore_Get(int id) => base.GetCore(id);</c>; and, marked <c>[Obsolete]</c>,
    /// for a body marked <c>[Obsolete(error: true)]</c> (<see cref="MethodSpec.IsObsoleteForwarder"/>). Written for such
    /// bodies only.
    /// </summary>
    private static void EmitForwarder(CodeWriter writer, MethodSpec method)
    {
        if (method.BaseImplementation is not { } body)
        {
            return;
        }

        var signature = method.Signature;
        var modifiers = method.Implementation.IsStatic ? "private static" : "private";
        var declaration = Declaration($"{modifiers} {signature.ReturnType}", method.Implementation.Name, ParameterList(signature), signature.TypeParameters);
        if (method.IsObsoleteForwarder && !writer.Obsolete)
        {
            // With a message: a call of it from the user's code, which only warns, says what to call instead.
            writer.Line($"[global::System.Obsolete(\"Called by the generated code only: call {Parser.Identifier(signature.Name)}\")]");
        }

        MemberAttributes(writer);
        writer.ExpressionBodied(declaration, $"{Call(body, instance: null)}({string.Join(", ", signature.Parameters.Select(static p => p.Name))})");
    }

    /// <summary>Whether the file declares a type or a type parameter (a generic method's too) named in lowercase letters only.</summary>
    private static bool DeclaresLowercaseNames(TypeSpec spec)
        => spec.Type.Declarations.Any(static d => NamesLowercaseOnly(d.NameWithTypeParameters))
            || spec.Methods.Any(static m => m.Signature.TypeParameters is { } generic && NamesLowercaseOnly(generic.List));

    /// <summary>
    /// Whether a declaration's name or one of its type parameters is of lowercase ASCII letters only, which C# warns
    /// about where it is declared (CS8981): variance keywords aside.
    /// </summary>
    private static bool NamesLowercaseOnly(string nameWithTypeParameters)
        => nameWithTypeParameters.Split('<', ',', '>', ' ')
            .Select(static part => part.TrimStart('@'))
            .Any(static part => part.Length > 0 && part is not ("in" or "out") && part.All(static c => c is >= 'a' and <= 'z'));
}
