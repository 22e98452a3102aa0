using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>
/// Tags: a static method per tagged method that builds its tags as keys are built, the static lambda that calls it
/// (the runtime calls that only on a miss, so a hit builds no tag), and the call an [InvalidateTags] method makes.
/// </summary>
internal static partial class Emitter
{
    private const string TagInvalidation = Runtime + "TagInvalidation.";

    /// <summary>
    /// <c>private static string[] __CachedTags_X(int id) =&gt; new[] { CacheKeyTemplate.Write(stackalloc char[256],
    /// $"user:{id}").Finish(), "users" };</c>: a template is written as a Key is, invariant, into a stack buffer, then
    /// to the string the cache keeps; a fixed tag is its literal. Several tags with a template among them take a line each.
    /// </summary>
    private static void EmitTagsMethod(CodeWriter writer, TagsSpec tags, TypeParametersSpec? typeParameters)
    {
        var parameters = string.Join(", ", tags.Parameters.Select(static p => $"{p.Type} {p.Name}"));
        var values = tags.Tags.Select(static tag => tag is TemplateKeySpec template ? $"{TemplateOnStack(template)}.Finish()" : Literal(((FixedKeySpec)tag).Key)).ToList();
        var declaration = Declaration("private static string[]", tags.Method, parameters, typeParameters);
        writer.Line(s_generatedCode);
        if (values.Count == 1 || tags.Tags.All(static tag => tag is FixedKeySpec))
        {
            writer.ExpressionBodied(declaration, $"new[] {{ {string.Join(", ", values)} }}");
            return;
        }

        writer.Filled(declaration + " => new[]");
        writer.Open();
        foreach (var value in values)
        {
            writer.Filled(value + ",");
        }

        writer.Close("};");
    }

    /// <summary>
    /// The tags argument of a call into the runtime, after the skip rule: <c>, static __state =&gt; __CachedTags_X(__state.id)</c>,
    /// for a [MultiCached] method <c>static (__state, __key) =&gt; ...</c> with each entry's key in place of the keys;
    /// nothing for a method without tags, whose call stays as it was.
    /// </summary>
    private static string TagsArgument(TagsSpec? tags, State state, bool perKey)
    {
        if (tags is null)
        {
            return string.Empty;
        }

        var arguments = string.Join(", ", tags.Parameters.Select(p => p.Name == tags.KeyParameter ? "__key" : state.Access(p.Name)));
        return $", static {(perKey ? "(__state, __key)" : "__state")} => {tags.Method}({arguments})";
    }

    /// <summary>
    /// An [InvalidateTags] method's invalidation, after its implementation returned, as an expression: in the alias's
    /// cache, or in the caches of the type's tagged methods; for an async method the started invalidation, to await.
    /// Null when there is neither (CACHED026 said so).
    /// </summary>
    private static string? TagInvalidationCall(TagInvalidationSpec spec, SignatureSpec signature, bool isAsync)
    {
        if (!Invalidates(spec))
        {
            return null;
        }

        var tags = $"{spec.Tags.Method}({string.Join(", ", spec.Tags.Parameters.Select(static p => p.Name))})";
        var token = TokenArgument(signature);
        if (spec.Alias is { } alias)
        {
            return isAsync
                ? $"{TagInvalidation}InvalidateAsync({Literal(alias)}, {tags}, {token})"
                : $"{TagInvalidation}Invalidate({Literal(alias)}, {tags})";
        }

        var methods = string.Join(", ", spec.Methods);
        return isAsync
            ? $"{TagInvalidation}InvalidateAsync({tags}, new {Runtime}ICachedMethod[] {{ {methods} }}, {token})"
            : $"{TagInvalidation}Invalidate({tags}, {methods})";
    }

    private static bool Invalidates(TagInvalidationSpec spec) => spec.Alias is not null || spec.Methods.Count > 0;
}
