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
internal sealed record TypeParametersSpec(string List, EquatableArray<string> Constraints, string? KeyPrefix = null);
