using System;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators;

/// <summary>The pipeline that registers the project's System.Text.Json contexts (one file for the whole project).</summary>
public sealed partial class CachedGenerator
{
    public static partial class Steps
    {
        /// <summary>The project's JsonSerializerContexts, by fully qualified name, sorted and without repeats.</summary>
        public const string JsonContexts = "JsonContexts";
    }

    private static void RegisterJsonContexts(IncrementalGeneratorInitializationContext context)
    {
        var hasRegistry = context.CompilationProvider
            .Select(static (compilation, _) => compilation.GetTypeByMetadataName("Cached.Serializers.JsonContexts") is not null);
        var contexts = context.SyntaxProvider
            .ForAttributeWithMetadataName(Parser.JsonSerializableAttribute, static (node, _) => node is ClassDeclarationSyntax, Parser.ParseJsonContext)
            .Where(static name => name is not null)
            .Collect()
            // A partial context declared in several files is found once per declaration.
            .Select(static (names, _) => names.Distinct(StringComparer.Ordinal).OrderBy(static n => n, StringComparer.Ordinal).Select(static n => n!).ToEquatableArray())
            .Combine(hasRegistry)
            .WithTrackingName(Steps.JsonContexts);

        context.RegisterSourceOutput(contexts, static (spc, found) =>
        {
            if (found.Left.Count > 0 && found.Right)
            {
                spc.AddSource(Emitter.JsonContextsFileName, SourceText.From(Emitter.EmitJsonContextRegistration(found.Left), Encoding.UTF8));
            }
        });
    }
}
