using System;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators;

/// <summary>The pipeline that registers the project's System.Text.Json contexts (one file for the whole project).</summary>
public sealed partial class CachedGenerator
{
    public static partial class Steps
    {
        /// <summary>
        /// The project's JsonSerializerContexts, by fully qualified name, sorted and without repeats; with whether it
        /// references Cached.Core, and its language version.
        /// </summary>
        public const string JsonContexts = "JsonContexts";
    }

    private static void RegisterJsonContexts(IncrementalGeneratorInitializationContext context)
    {
        var hasRegistry = context.CompilationProvider
            // Where global::Cached is not the library (a global type Cached, an extern alias), the file could only fail.
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName("Cached.Serializers.JsonContexts") is not null && LibraryNamespace.Problem(compilation) is null);
        // The registration is written for the project's language version: any project with a context gets it, cached
        // methods or none, so it must never fail a build that uses no Cached feature.
        var version = context.ParseOptionsProvider
            .Select(static (options, _) => options is CSharpParseOptions parse ? parse.LanguageVersion : LanguageVersion.Latest);
        var contexts = context.SyntaxProvider
            .ForAttributeWithMetadataName(Parser.JsonSerializableAttribute, static (node, _) => node is ClassDeclarationSyntax, Parser.ParseJsonContext)
            .Where(static name => name is not null)
            .Collect()
            // A partial context declared in several files is found once per declaration.
            .Select(static (names, _) => names.Distinct(StringComparer.Ordinal).OrderBy(static n => n, StringComparer.Ordinal).Select(static n => n!).ToEquatableArray())
            .Combine(hasRegistry)
            .Combine(version)
            .WithTrackingName(Steps.JsonContexts);

        context.RegisterSourceOutput(contexts, static (spc, found) =>
        {
            // A module initializer needs C# 9, as System.Text.Json's generator does: before it, no context is generated.
            var ((names, hasRegistry), version) = found;
            if (names.Count > 0 && hasRegistry && version >= LanguageVersion.CSharp9)
            {
                var registration = Emitter.EmitJsonContextRegistration(names, fileLocal: version >= LanguageVersion.CSharp11);
                spc.AddSource(Emitter.JsonContextsFileName, SourceText.From(registration, Encoding.UTF8));
            }
        });
    }
}
