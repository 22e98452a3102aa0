using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>What an [InvalidateCache] method deletes after its body: each target's entries.</summary>
internal static partial class Emitter
{
    /// <summary>
    /// One target's delete, as an expression: a [Cached] target's key method in its string form (the runtime deletes
    /// by string); a [MultiCached] target gets the keys and turns each into its cache key as its own calls do.
    /// </summary>
    private static string Delete(InvalidationSpec invalidation, SignatureSpec signature, bool isAsync)
    {
        var what = invalidation.Keys is not { } keys
            ? $"{invalidation.Target.KeyMethod}({string.Join(", ", invalidation.Arguments)})"
            : InvalidatedKeys(keys);
        return isAsync
            ? $"{invalidation.Target.Field}.InvalidateAsync({what}, {TokenArgument(signature)})"
            : $"{invalidation.Target.Field}.Invalidate({what})";
    }

    /// <summary>The keys, state and cache key lambda a [MultiCached] target's <c>Invalidate</c> takes.</summary>
    private static string InvalidatedKeys(InvalidatedKeysSpec keys)
    {
        var values = keys.IsSingle ? $"new {keys.KeyType}[] {{ {keys.Parameter} }}" : keys.Parameter;
        if (keys.KeyBuilder is { } builder && keys.BuilderArguments.Count > 0)
        {
            // The builder's other arguments ride in the state, after the instance an instance builder is called on.
            var elements = new List<string>();
            if (!builder.IsStatic)
            {
                elements.Add("this");
            }

            elements.AddRange(keys.BuilderArguments);
            string Access(int index) => elements.Count == 1 ? "__state" : "__state.Item" + (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var tuple = elements.Count == 1 ? elements[0] : "(" + string.Join(", ", elements) + ")";
            var offset = builder.IsStatic ? 0 : 1;
            var arguments = keys.BuilderArguments.Select((_, i) => ", " + Access(i + offset));
            return $"{values}, {tuple}, static (__state, __key) => {Call(builder, builder.IsStatic ? null : Access(0))}(__key{string.Concat(arguments)})";
        }

        var state = keys.KeyBuilder is { IsStatic: false } ? "this" : "(object?)null";
        return $"{values}, {state}, {CacheKeyOf(keys.KeyBuilder, null, keys.KeyShape)}";
    }
}
