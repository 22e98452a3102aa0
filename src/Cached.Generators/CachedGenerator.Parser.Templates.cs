using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators;

/// <summary>What a Key or tag template needs of the project to be written as C# code.</summary>
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
}
