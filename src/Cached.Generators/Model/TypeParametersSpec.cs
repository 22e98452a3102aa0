namespace Cached.Generators.Model;

/// <summary>
/// The type parameters of a generic method as the generated code repeats them: <see cref="List"/> is
/// <c>&lt;T, U&gt;</c>, each of <see cref="Constraints"/> a clause <c>where T : class, new()</c>. The nested state
/// class, the key method and the partial method's implementation all declare them so.
/// </summary>
/// <param name="List">The type parameter list: <c>&lt;T, U&gt;</c>.</param>
/// <param name="Constraints">One clause a constrained type parameter: <c>where T : notnull</c>.</param>
/// <param name="KeyPrefix">
/// The default key's prefix as a C# expression (<c>"Demo.Svc.Echo&lt;" + TypeName&lt;T&gt;.Value + "&gt;"</c>), which the
/// state class computes once per closed method; null when the method's key is not the default one.
/// </param>
/// <param name="OwnConstraints">
/// The clauses of the partial method's own implementation when they differ from <see cref="Constraints"/>: an override's
/// or an explicit interface implementation's, which inherits its constraints and may restate none but <c>class</c>,
/// <c>struct</c> and <c>default</c> (CS0460); null when they are <see cref="Constraints"/>.
/// </param>
internal sealed record TypeParametersSpec(string List, EquatableArray<string> Constraints, string? KeyPrefix = null, EquatableArray<string>? OwnConstraints = null)
{
    /// <summary>The type parameters as the partial method's implementation declares them.</summary>
    public TypeParametersSpec ForMethod() => OwnConstraints is { } own ? this with { Constraints = own, OwnConstraints = null } : this;
}
