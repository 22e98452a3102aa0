using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>
/// The key method of a [Cached] method, written once and used by both the call and the [InvalidateCache] methods
/// that target it.
/// </summary>
internal static partial class Emitter
{
    /// <summary>The stack buffer a key is written into; a longer key moves to a heap array.</summary>
    private const int KeyBufferLength = 256;

    /// <summary>
    /// Fixed and builder keys are strings already: <c>string __CachedKey_X(args)</c>. Templates and default keys are
    /// written into the caller's buffer, <c>ReadOnlySpan&lt;char&gt; __CachedKey_X(Span&lt;char&gt; __buffer, args)</c>,
    /// so that the call can build its key on the stack.
    /// </summary>
    private static void EmitKeyMethod(CodeWriter writer, string name, KeySpec key)
    {
        var modifiers = key.NeedsInstance ? "private" : "private static";
        var parameters = key.Parameters.Select(static p => $"{p.Type} {p.Name}").ToList();
        var arguments = string.Join(", ", key.Parameters.Select(static p => p.Name));
        writer.Line(s_generatedCode);
        if (!key.WritesIntoBuffer)
        {
            writer.Declaration($"{modifiers} string", name, string.Join(", ", parameters));
            writer.Open();
            writer.Wrapped(key switch
            {
                FixedKeySpec fixedKey => $"return {Literal(fixedKey.Key)};",
                BuilderKeySpec builder => $"return {builder.Builder.Name}({arguments});",
                _ => throw new System.InvalidOperationException("Unexpected key " + key),
            });
            writer.Close();
            return;
        }

        parameters.Insert(0, "global::System.Span<char> __buffer");
        writer.Declaration($"{modifiers} global::System.ReadOnlySpan<char>", name, string.Join(", ", parameters));
        writer.Open();
        if (key is TemplateKeySpec template)
        {
            writer.Line("var __culture = global::System.Globalization.CultureInfo.InvariantCulture;");
            writer.Line("int __length;");
            writer.Wrapped($"while (!global::System.MemoryExtensions.TryWrite(__buffer, __culture, $\"{template.Interpolation}\", out __length))");
            writer.Open();
            writer.Line("__buffer = new char[__buffer.Length * 2];");
            writer.Close();
            writer.Line();
            writer.Line("return __buffer.Slice(0, __length);");
        }
        else
        {
            var defaultKey = (DefaultKeySpec)key;
            writer.Wrapped($"var __writer = new {Runtime}CacheKeyWriter(__buffer, {defaultKey.Prefix});");
            if (defaultKey.IncludeInstance)
            {
                writer.Line("__writer.Instance(this);");
            }

            foreach (var parameter in key.Parameters)
            {
                writer.Line($"__writer.{WriterMethod(parameter.KeyKind)}({parameter.Name});");
            }

            writer.Line("return __writer.Close();");
        }

        writer.Close();
    }

    /// <summary>
    /// The string form of a buffer-written key, for [InvalidateCache]: the runtime deletes by string, and an async
    /// method cannot hold a stack buffer, so the buffer lives here.
    /// </summary>
    private static void EmitKeyString(CodeWriter writer, string name, KeySpec key)
    {
        var modifiers = key.NeedsInstance ? "private" : "private static";
        var parameters = string.Join(", ", key.Parameters.Select(static p => $"{p.Type} {p.Name}"));
        writer.Line(s_generatedCode);
        writer.ExpressionBodied($"{modifiers} string {name}({parameters})", $"{KeyOnStack(name, key)}.ToString()");
    }

    /// <summary>A call of a buffer-written key method with a new stack buffer: <c>__CachedKey_X(stackalloc char[256], id)</c>.</summary>
    private static string KeyOnStack(string name, KeySpec key)
        => $"{name}({string.Join(", ", new[] { $"stackalloc char[{KeyBufferLength}]" }.Concat(key.Parameters.Select(static p => p.Name)))})";

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
