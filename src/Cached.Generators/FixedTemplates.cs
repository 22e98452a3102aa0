namespace Cached.Generators;

/// <summary>
/// Reads a Key or tag template that has no hole as the fixed text it stands for, the way every template is read:
/// <c>{{</c> and <c>}}</c> are a brace each, a lone <c>}</c> is one too, and a lone <c>{</c> opens a hole. The one
/// reading of the generator's key and tag parsers and the shared-key analyzer, so that a key one takes as fixed the
/// others take as fixed too (three readings drifted: <c>"b{{x}}"</c> went the template way for keys alone).
/// </summary>
internal static class FixedTemplates
{
    /// <summary>The text <paramref name="template"/> stands for, or null when it has a hole.</summary>
    public static string? TextOf(string template)
    {
        if (template.IndexOf('{') < 0 && template.IndexOf('}') < 0)
        {
            // Most keys and tags: no brace, nothing to copy.
            return template;
        }

        var text = new System.Text.StringBuilder(template.Length);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                i++;
            }
            else if (c == '{')
            {
                return null;
            }

            text.Append(c);
        }

        return text.ToString();
    }
}
