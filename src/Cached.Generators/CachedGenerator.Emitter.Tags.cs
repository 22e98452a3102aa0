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
    /// <c>private static string[] __CachedTags_X(int id) =&gt; CacheTagTemplate.Expand($"user:{id}");</c>: a template is
    /// written as a Key is, invariant, except that a hole naming a collection stands for each element (one tag each); a
    /// fixed tag is its literal. Several tags with a template among them are joined by <c>CacheTagTemplate.Concat</c>.
    /// </summary>
    private static void EmitTagsMethod(CodeWriter writer, TagsSpec tags, TypeParametersSpec? typeParameters)
    {
        var parameters = string.Join(", ", tags.Parameters.Select(static p => $"{p.Type} {p.Name}"));
        var declaration = Declaration("private static string[]", tags.Method, parameters, typeParameters);
        MemberAttributes(writer);
        if (tags.Tags.All(static tag => tag is FixedKeySpec))
        {
            writer.ExpressionBodied(declaration, $"new[] {{ {string.Join(", ", tags.Tags.Select(static tag => Literal(((FixedKeySpec)tag).Key)))} }}");
            return;
        }

        var values = tags.Tags.Select(static tag => tag is TemplateKeySpec template
            ? $"{Runtime}CacheTagTemplate.Expand($\"{template.Interpolation}\")"
            : $"new[] {{ {Literal(((FixedKeySpec)tag).Key)} }}").ToList();
        if (values.Count == 1)
        {
            writer.ExpressionBodied(declaration, values[0]);
            return;
        }

        writer.ExpressionBodied(declaration, $"{Runtime}CacheTagTemplate.Concat({string.Join(", ", values)})");
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
