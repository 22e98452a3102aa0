using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators;

/// <summary>A Key or tag template as C# code: its text escaped, and what it needs of the project.</summary>
internal sealed partial class Parser
{
    /// <summary>
    /// CACHED040 when the project's language version is below C# 10: a template is written through an interpolated
    /// string handler (CacheKeyTemplate, CacheTagTemplate), which C# 9 refuses inside the generated file (CS8773).
    /// <paramref name="subject"/> names the template in the message (<c>Key template</c>), <paramref name="instead"/>
    /// what to write instead.
    /// </summary>
    private void CheckTemplateLanguage(Location location, string subject, string template, string instead)
    {
        if (_syntax.SyntaxTree.Options is CSharpParseOptions { LanguageVersion: < LanguageVersion.CSharp10 and var version })
        {
            Report(DiagnosticDescriptors.TemplateNeedsCSharp10, location, subject, template, MethodName, version.ToDisplayString(), instead);
        }
    }

    /// <summary><paramref name="text"/> as the inside of a regular C# string literal (see the overload).</summary>
    private static string EscapeLiteral(string text)
    {
        var escaped = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            escaped.Append(EscapeLiteral(text, i));
        }

        return escaped.ToString();
    }

    /// <summary>
    /// The character at <paramref name="index"/> of <paramref name="text"/> as a regular C# string literal holds it:
    /// quotes and backslashes escaped, and so every character C# reads as a line break (U+0085, U+2028 and U+2029 as
    /// well as \n and \r: raw, they would end the literal, CS1010), every other control character, and a lone
    /// surrogate, which compiles but turns into U+FFFD wherever the file is written as UTF-8 (on disk, in the PDB). A
    /// surrogate pair stays as it is.
    /// </summary>
    private static string EscapeLiteral(string text, int index)
    {
        var c = text[index];
        return c switch
        {
            '\\' => "\\\\",
            '"' => "\\\"",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when char.IsControl(c) || SyntaxFacts.IsNewLine(c) || IsLoneSurrogate(text, index) => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
            _ => c.ToString(),
        };
    }

    private static bool IsLoneSurrogate(string text, int index)
        => char.IsHighSurrogate(text[index]) ? !(index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
            : char.IsLowSurrogate(text[index]) && !(index > 0 && char.IsHighSurrogate(text[index - 1]));
}
