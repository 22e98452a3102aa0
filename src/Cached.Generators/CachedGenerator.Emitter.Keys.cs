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
    private static void EmitKeyMethod(CodeWriter writer, string name, KeySpec key, TypeParametersSpec? typeParameters)
    {
        var modifiers = key.NeedsInstance ? "private" : "private static";
        var parameters = key.Parameters.Select(static p => $"{p.Type} {p.Name}").ToList();
        var arguments = string.Join(", ", key.Parameters.Select(static p => p.Name));
        writer.Line(s_generatedCode);
        if (!key.WritesIntoBuffer)
        {
            Declaration(writer, $"{modifiers} string", name, string.Join(", ", parameters), typeParameters);
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

        if (key is DefaultKeySpec defaultKey)
        {
            // The caller starts the writer on its stack and closes it: only the arguments are written here, so the
            // hit path keeps the writer in the cached method's own frame.
            parameters.Insert(0, $"ref {Runtime}CacheKeyWriter __writer");
            Declaration(writer, $"{modifiers} void", name, string.Join(", ", parameters), typeParameters);
            writer.Open();
            if (defaultKey.IncludeInstance)
            {
                writer.Line("__writer.Instance(this);");
            }

            foreach (var parameter in key.Parameters)
            {
                writer.Line($"__writer.{WriterMethod(parameter.KeyKind)}({parameter.Name});");
            }

            writer.Close();
            return;
        }

        var template = (TemplateKeySpec)key;
        parameters.Insert(0, "global::System.Span<char> __buffer");
        Declaration(writer, $"{modifiers} global::System.ReadOnlySpan<char>", name, string.Join(", ", parameters), typeParameters);
        writer.Open();
        writer.Line("var __culture = global::System.Globalization.CultureInfo.InvariantCulture;");
        writer.Line("int __length;");
        writer.Wrapped($"while (!global::System.MemoryExtensions.TryWrite(__buffer, __culture, $\"{template.Interpolation}\", out __length))");
        writer.Open();
        writer.Line("__buffer = new char[__buffer.Length * 2];");
        writer.Close();
        writer.Line();
        writer.Line("return __buffer.Slice(0, __length);");
        writer.Close();
    }

    /// <summary>
    /// The string form of a buffer-written key, for [InvalidateCache]: the runtime deletes by string, and an async
    /// method cannot hold a stack buffer, so the buffer lives here.
    /// </summary>
    private static void EmitKeyString(CodeWriter writer, string name, KeySpec key, TypeParametersSpec? typeParameters)
    {
        var modifiers = key.NeedsInstance ? "private" : "private static";
        var parameters = string.Join(", ", key.Parameters.Select(static p => $"{p.Type} {p.Name}"));
        writer.Line(s_generatedCode);
        if (key is DefaultKeySpec defaultKey)
        {
            Declaration(writer, $"{modifiers} string", name, parameters, typeParameters);
            writer.Open();
            EmitWriterStart(writer, defaultKey);
            writer.Wrapped($"{WriteArguments(name, key)};");
            writer.Line("return __writer.Finish();");
            writer.Close();
            return;
        }

        if (typeParameters is { Constraints.Count: > 0 })
        {
            // Constraint clauses stand between the parameters and the body.
            Declaration(writer, $"{modifiers} string", name, parameters, typeParameters);
            writer.Open();
            writer.Wrapped($"return {KeyOnStack(name, key)}.ToString();");
            writer.Close();
            return;
        }

        writer.ExpressionBodied($"{modifiers} string {name}({parameters})", $"{KeyOnStack(name, key)}.ToString()");
    }

    /// <summary><c>var __writer = new CacheKeyWriter(stackalloc char[256], "Ns.Type.Method");</c></summary>
    private static void EmitWriterStart(CodeWriter writer, DefaultKeySpec key)
        => writer.Wrapped($"var __writer = new {Runtime}CacheKeyWriter(stackalloc char[{KeyBufferLength}], {key.Prefix});");

    /// <summary>The call that writes a default key's arguments: <c>__CachedKey_X(ref __writer, id, region)</c>.</summary>
    private static string WriteArguments(string name, KeySpec key)
        => $"{name}({string.Join(", ", key.Parameters.Select(static p => p.Name).Prepend("ref __writer"))})";

    /// <summary>A call of a template key method with a new stack buffer: <c>__CachedKey_X(stackalloc char[256], id)</c>.</summary>
    private static string KeyOnStack(string name, KeySpec key)
        => $"{name}({string.Join(", ", key.Parameters.Select(static p => p.Name).Prepend($"stackalloc char[{KeyBufferLength}]"))})";

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
