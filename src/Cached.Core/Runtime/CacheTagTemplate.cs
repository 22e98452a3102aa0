using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Cached.Runtime;

/// <summary>
/// Writes a tag template (<c>Tags = new[] { "user:{id}" }</c>, <c>[InvalidateTags("user:{ids}")]</c>) as a key template
/// is written, culture-invariant, with one difference: a hole that names a collection stands for each of its elements,
/// so <c>user:{ids}</c> with <c>[1, 2]</c> is the two tags <c>user:1</c> and <c>user:2</c> (an empty collection, no tag;
/// two such holes, every pair). A method that invalidates a list of users, or an entry computed from several, names each
/// user's tag. Used by generated code: <c>CacheTagTemplate.Expand($"user:{ids}")</c>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[InterpolatedStringHandler]
public ref struct CacheTagTemplate
{
    private DefaultInterpolatedStringHandler _text;

    // Null until a hole names a collection: then every tag so far, each continued by the parts that follow.
    private List<string>? _tags;

    /// <summary>Starts a tag; the compiler calls this for <see cref="Expand"/>.</summary>
    public CacheTagTemplate(int literalLength, int formattedCount)
    {
        _text = new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture);
        _tags = null;
    }

    /// <summary>The tags the interpolated <paramref name="template"/> stands for: one, or one per element of each collection it names.</summary>
    public static string[] Expand(ref CacheTagTemplate template) => template.Finish();

    /// <summary>The tags of several templates and fixed tags, in order: <c>Concat(Expand($"user:{ids}"), ["users"])</c>.</summary>
    public static string[] Concat(params string[][] tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        return tags.Length == 1 ? tags[0] : [.. tags.SelectMany(static part => part)];
    }

    /// <summary>Appends the template's literal text.</summary>
    public void AppendLiteral(string value)
    {
        if (_tags is null)
        {
            _text.AppendLiteral(value);
            return;
        }

        Continue(value);
    }

    /// <summary>Appends a value, or each element of a collection.</summary>
    public void AppendFormatted<T>(T value) => AppendFormatted(value, 0, CacheKeyTemplate.DefaultFormat(value));

    /// <summary>Appends a value with a format: <c>{day:D2}</c>.</summary>
    public void AppendFormatted<T>(T value, string? format) => AppendFormatted(value, 0, format);

    /// <summary>Appends a value padded to an alignment: <c>{id,5}</c>.</summary>
    public void AppendFormatted<T>(T value, int alignment) => AppendFormatted(value, alignment, CacheKeyTemplate.DefaultFormat(value));

    /// <summary>Appends a value with an alignment and a format: <c>{id,5:D2}</c>.</summary>
    public void AppendFormatted<T>(T value, int alignment, string? format)
    {
        if (value is IEnumerable elements and not string && CacheKeyWriter.TryEnumerate(elements, out var items))
        {
            Branch(items, alignment, format);
        }
        else if (_tags is null)
        {
            if (CacheKeyTemplate.FormatsItself(value))
            {
                _text.AppendFormatted(value, alignment, format);
            }
            else
            {
                _text.AppendFormatted(CacheKeyTemplate.HoleText(value!), alignment);
            }
        }
        else
        {
            Continue(TextOf(value, alignment, format));
        }
    }

    /// <summary>
    /// Every tag so far, once for each element <paramref name="items"/> gives. A collection that cannot be enumerated
    /// (a default <c>ImmutableArray</c>) is written as a key template writes it, <c>null</c>.
    /// </summary>
    private void Branch(IEnumerator items, int alignment, string? format)
    {
        var heads = _tags ?? [_text.ToStringAndClear()];
        var branched = new List<string>();
        try
        {
            while (items.MoveNext())
            {
                var text = TextOf(items.Current, alignment, format);
                foreach (var head in heads)
                {
                    branched.Add(head + text);
                }
            }
        }
        finally
        {
            (items as IDisposable)?.Dispose();
        }

        _tags = branched;
    }

    private readonly void Continue(string text)
    {
        for (var i = 0; i < _tags!.Count; i++)
        {
            _tags[i] += text;
        }
    }

    private static string TextOf<T>(T value, int alignment, string? format)
    {
        var text = new DefaultInterpolatedStringHandler(0, 1, CultureInfo.InvariantCulture);
        if (CacheKeyTemplate.FormatsItself(value))
        {
            // An element of a collection hole written without a format: a date and time as in a hole of its own.
            text.AppendFormatted(value, alignment, format ?? CacheKeyTemplate.DefaultFormat(value));
        }
        else
        {
            text.AppendFormatted(CacheKeyTemplate.HoleText(value!), alignment);
        }

        return text.ToStringAndClear();
    }

    private string[] Finish() => _tags is { } tags ? [.. tags] : [_text.ToStringAndClear()];
}
