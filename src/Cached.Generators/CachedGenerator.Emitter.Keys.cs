using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>
/// How a [Cached] method's key is written: inline in the method, into a stack buffer where it has parts to write, so
/// that a hit makes no string; and as a string by a key method when an [InvalidateCache] method needs it.
/// </summary>
internal static partial class Emitter
{
    /// <summary>The expression <see cref="EmitKey"/> returns for a key left in the stack buffer, a span.</summary>
    private const string SpanKey = "__key.Close()";

    /// <summary>
    /// Writes the statements that build <paramref name="key"/> in the method's frame and returns the expression that
    /// gives it: a literal, the builder's call, or <c>__key.Close()</c> for a template or default key
    /// (<c>__key.Finish()</c>, a string, when <paramref name="asString"/>).
    /// </summary>
    private static string EmitKey(CodeWriter writer, KeySpec key, bool asString = false)
    {
        var close = asString ? "__key.Finish()" : SpanKey;
        switch (key)
        {
            case FixedKeySpec fixedKey:
                return Literal(fixedKey.Key);
            case BuilderKeySpec builder:
                return $"{Call(builder.Builder, instance: null)}({string.Join(", ", key.Parameters.Select(static p => p.Name))})";
            case DefaultKeySpec { IncludeInstance: false, Parameters.Count: 0 } bare when IsLiteral(bare.Prefix):
                // Nothing to write: the key is the constant "N.Type.Method()".
                return bare.Prefix.Substring(0, bare.Prefix.Length - 1) + "()\"";
            case TemplateKeySpec template:
                writer.Filled($"{writer.Local($"{Runtime}CacheKeyTemplate")} __key = {TemplateOnStack(template)};");
                return close;
            default:
                var defaultKey = (DefaultKeySpec)key;
                var shapes = new KeyShapeWriter();
                var arguments = WrittenArguments(defaultKey, shapes);
                EmitShapeFunctions(writer, shapes);
                writer.Filled($"{writer.Local($"{Runtime}CacheKeyWriter")} __key = new {Runtime}CacheKeyWriter(stackalloc char[{defaultKey.BufferLength}], {defaultKey.Prefix});");
                if (arguments.Length > 0)
                {
                    writer.Filled($"__key{arguments};");
                }

                return close;
        }
    }

    /// <summary>
    /// The key as a string, for the [InvalidateCache] methods that name this method: the runtime deletes by string,
    /// and an async method cannot hold a stack buffer. <c>private static string __CachedKey_X(args)</c>.
    /// </summary>
    private static void EmitKeyMethod(CodeWriter writer, string name, KeySpec key, TypeParametersSpec? typeParameters)
    {
        var modifiers = key.NeedsInstance ? "private" : "private static";
        var parameters = string.Join(", ", key.Parameters.Select(static p => $"{p.Type} {p.Name}"));
        var declaration = Declaration($"{modifiers} string", name, parameters, typeParameters);
        MemberAttributes(writer);
        switch (key)
        {
            case TemplateKeySpec template:
                writer.ExpressionBodied(declaration, $"{TemplateOnStack(template)}.Finish()");
                return;
            case DefaultKeySpec defaultKey:
                var start = $"new {Runtime}CacheKeyWriter(stackalloc char[{defaultKey.BufferLength}], {defaultKey.Prefix})";
                var shapes = new KeyShapeWriter();
                if (WrittenArguments(defaultKey, shapes) is not { Length: > 0 } arguments)
                {
                    writer.ExpressionBodied(declaration, $"{start}.Finish()");
                    return;
                }

                writer.Filled(declaration);
                writer.Open();
                EmitShapeFunctions(writer, shapes);
                writer.Filled($"{writer.Local($"{Runtime}CacheKeyWriter")} __key = {start};");
                writer.Filled($"return __key{arguments}.Finish();");
                writer.Close();
                return;
            default:
                writer.ExpressionBodied(declaration, EmitKey(writer, key));
                return;
        }
    }

    /// <summary><c>CacheKeyTemplate.Write(stackalloc char[16], $"user:{id}")</c>: invariant text in a stack buffer as long as the longest key (<see cref="KeyBuffer"/>).</summary>
    private static string TemplateOnStack(TemplateKeySpec template)
        => $"{Runtime}CacheKeyTemplate.Write(stackalloc char[{template.BufferLength}], $\"{template.Interpolation}\")";

    /// <summary>
    /// The chained calls that write a default key's parts: <c>.Instance(this).Argument(id).Enum(region)</c>; the local
    /// functions their reshaping needs go to <paramref name="shapes"/>.
    /// </summary>
    private static string WrittenArguments(DefaultKeySpec key, KeyShapeWriter shapes)
        => (key.IncludeInstance ? ".Instance(this)" : string.Empty)
            + string.Concat(key.Parameters.Select(p => p.KeyShape is { } shape
                ? $".Argument({shapes.Reshaped(shape, p.Name, p.Name.TrimStart('@'))})"
                : p.KeyKind == KeyArgumentKind.Dynamic ? $".Argument((object?){p.Name})"
                : $".{WriterMethod(p.KeyKind)}({p.Name})"));

    private static bool IsLiteral(string expression)
        => expression.Length >= 2 && expression[0] == '"' && expression[expression.Length - 1] == '"' && !expression.Contains("\" + ");

    private static string WriterMethod(KeyArgumentKind kind) => kind switch
    {
        KeyArgumentKind.Sequence => "Sequence",
        KeyArgumentKind.Enum => "Enum",
        KeyArgumentKind.NullableEnum => "NullableEnum",
        KeyArgumentKind.Formattable => "Formattable",
        KeyArgumentKind.NullableFormattable => "NullableFormattable",
        _ => "Argument",
    };
}
