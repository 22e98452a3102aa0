using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// Tags: the Tags of a [Cached] or [MultiCached] method's entries, and the tags an [InvalidateTags] method invalidates.
/// A tag is read as a Key is: fixed text, or a template whose holes name parameters (CACHED024 otherwise); null and
/// empty tags are CACHED025.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>
    /// The Tags of this [Cached] or [MultiCached] method; null when it has none (an empty array tags nothing either).
    /// In a [MultiCached] method's tags the KeysFrom parameter stands for each entry's own key.
    /// </summary>
    private TagsSpec? ParseEntryTags(MultiSpec? multi, SequenceSpec? sequence)
    {
        var values = TagValues(NamedValue(_attribute, "Tags"));
        if (values.Count == 0)
        {
            return null;
        }

        if (sequence is { IsAsync: true })
        {
            // An async stream is stored by CachedSequence.Replay when the caller enumerates it, a path that takes no tags.
            Report(DiagnosticDescriptors.OneShotSequence, ArgumentLocation("Tags"), MethodName, _method.ReturnType.ToDisplayString(s_readableFormat),
                $"an async stream cannot carry Tags: return 'Task<IEnumerable<{((INamedTypeSymbol)ResultTypeSymbol()).TypeArguments[0].ToDisplayString(s_readableFormat)}>>' to tag its items, or remove Tags");
            return null;
        }

        (string? Parameter, string Type)? keys = multi is null ? null : (KeysFromName(_attribute), multi.KeyType);
        return ParseTags(values, _attributeSyntax, "Tags", keys);
    }

    /// <summary>
    /// The tags an [InvalidateTags] method invalidates, with the cache they are invalidated in: the alias's, or the
    /// caches of the type's tagged methods (CACHED026 when there is none to reach).
    /// </summary>
    private TagInvalidationSpec? ParseTagInvalidation(AttributeData attribute)
    {
        var syntax = attribute.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax;
        var values = attribute.ConstructorArguments.Length == 1 ? TagValues(attribute.ConstructorArguments[0]) : [];
        if (values.Count == 0)
        {
            Report(DiagnosticDescriptors.EmptyTag, ArgumentLocationIn(syntax, null), MethodName,
                "names no tag in [InvalidateTags]: name the tags to invalidate, e.g. [InvalidateTags(\"user:{id}\")]");
            return null;
        }

        var tags = ParseTags(values, syntax, null, keys: null);
        var alias = NamedString(attribute, "Alias");
        CheckAlias(alias, syntax, "to invalidate in the caches of the type's tagged methods");
        var methods = EquatableArray<string>.Empty;
        if (alias is null)
        {
            methods = TaggedMethods(out var unreachable);
            if (methods.Count == 0)
            {
                var why = unreachable.Count == 0
                    ? string.Empty
                    : $" that it can name (declare the type parameters of generic {string.Join(", ", unreachable.Select(static n => $"'{n}'"))} on '{_method.Name}' to reach {(unreachable.Count == 1 ? "it" : "them")})";
                Report(DiagnosticDescriptors.NothingToInvalidate, syntax?.GetLocation() ?? _location, MethodName, _method.ContainingType.Name, why);
            }
        }

        return tags is null ? null : new TagInvalidationSpec(tags, alias, methods);
    }

    /// <summary>The tags of an attribute argument as written, nulls kept (CACHED025); none for a null array.</summary>
    private static List<string?> TagValues(TypedConstant argument)
        => argument.Kind == TypedConstantKind.Array && !argument.IsNull ? argument.Values.Select(static v => v.Value as string).ToList() : [];

    /// <summary>
    /// Checks each tag and turns it into a fixed key or a template, with the parameters the templates name; null with
    /// a diagnostic on the tag at fault. <paramref name="argument"/> is the attribute argument that holds the tags
    /// (null: the constructor's). With <paramref name="keys"/>, that parameter stands for a [MultiCached] entry's key.
    /// </summary>
    private TagsSpec? ParseTags(List<string?> values, AttributeSyntax? attribute, string? argument, (string? Parameter, string Type)? keys)
    {
        var parameters = _method.Parameters.Where(p => !IsCancellationToken(p.Type)).ToList();
        var tags = new List<KeySpec>();
        var used = new HashSet<string>(System.StringComparer.Ordinal);
        var ok = true;
        for (var i = 0; i < values.Count; i++)
        {
            var tag = values[i];
            var index = i;
            if (tag is null || tag.Length == 0)
            {
                Report(DiagnosticDescriptors.EmptyTag, ElementLocation(attribute, argument, index), MethodName,
                    $"has {(tag is null ? "a null" : "an empty")} tag: give it some text, or remove it");
                ok = false;
                continue;
            }

            if (FixedTemplates.TextOf(tag) is { } text)
            {
                tags.Add(new FixedKeySpec(text));
                continue;
            }

            var (interpolation, names) = ParseTemplate(tag, _method, parameters, (name, start, length) =>
            {
                var what = _method.Parameters.Any(p => p.Name == name && IsCancellationToken(p.Type))
                    ? "its CancellationToken, which a tag cannot hold"
                    : "which is not a parameter" + MemberAccessHint(name, parameters, "give the method a parameter of that value");
                Report(DiagnosticDescriptors.UnknownTagParameter, TemplateHoleLocation(ElementLocation(attribute, argument, index), start, length), tag, MethodName, name, what, ParameterNames(parameters));
                ok = false;
            }, (hole, start, length, wrong) =>
            {
                Report(DiagnosticDescriptors.MalformedTemplateHole, TemplateHoleLocation(ElementLocation(attribute, argument, index), start, length), tag, MethodName, hole, wrong);
                ok = false;
            });
            used.UnionWith(names);
            CheckTemplateLanguage(ElementLocation(attribute, argument, index), "Tag template", tag, "use fixed tags");
            tags.Add(new TemplateKeySpec(interpolation, parameters.Where(p => names.Contains(p.Name)).Select(ToParameterSpec).ToEquatableArray()));
        }

        if (!ok)
        {
            return null;
        }

        // The method that builds the tags takes what the templates name, the key in place of the keys.
        var keyParameter = keys is { Parameter: { } name } && used.Contains(name) ? Identifier(name) : null;
        var tagParameters = parameters.Where(p => used.Contains(p.Name)).Select(ToParameterSpec)
            .Select(p => p.Name == keyParameter ? p with { Type = keys!.Value.Type } : p)
            .ToEquatableArray();
        return new TagsSpec(TagsMethodName(), tags.ToEquatableArray(), tagParameters, keyParameter);
    }

    /// <summary>
    /// <c>__CachedTags_GetUser</c>, with the type parameters of a generic method as it is called; overloads with tags
    /// get a stable suffix, as their state fields do.
    /// </summary>
    private string TagsMethodName()
    {
        var overloads = _method.ContainingType.GetMembers(_method.Name).OfType<IMethodSymbol>()
            .Where(m => m.IsPartialDefinition && (HasAttribute(m, _known.CachedAttribute) || HasAttribute(m, _known.MultiCachedAttribute) || HasAttribute(m, _known.InvalidateTagsAttribute)))
            .ToList();
        var suffix = overloads.Count <= 1
            ? string.Empty
            : "_" + overloads.FindIndex(m => SymbolEqualityComparer.Default.Equals(m, _method)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "__CachedTags_" + _method.Name + suffix + TypeParameterList(_method);
    }

    /// <summary>
    /// The state fields of the type's [Cached] and [MultiCached] methods with Tags, whose caches an [InvalidateTags]
    /// method without Alias invalidates its tags in. A generic one is reached when this method declares its type
    /// parameters (as for [InvalidateCache]); the others are <paramref name="unreachable"/>.
    /// </summary>
    private EquatableArray<string> TaggedMethods(out List<string> unreachable)
    {
        unreachable = [];
        var fields = new List<string>();
        foreach (var member in _method.ContainingType.GetMembers().OfType<IMethodSymbol>().Where(static m => m.IsPartialDefinition))
        {
            var attribute = AttributeOf(member, _known.CachedAttribute) ?? AttributeOf(member, _known.MultiCachedAttribute);
            if (attribute is null || TagValues(NamedValue(attribute, "Tags")).Count == 0)
            {
                continue;
            }

            if (member.IsGenericMethod && TargetTypeArguments(member, out _) is null)
            {
                unreachable.Add(member.Name);
                continue;
            }

            var field = NamesOf(member).Field;
            if (!fields.Contains(field))
            {
                fields.Add(field);
            }
        }

        return fields.ToEquatableArray();
    }
}
