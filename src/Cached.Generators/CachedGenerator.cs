using System.Collections.Immutable;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators;

/// <summary>
/// Writes the bodies of partial methods marked [Cached], [MultiCached] and [InvalidateCache]: attribute →
/// <see cref="Parser"/> → equatable <see cref="MethodSpec"/> → <see cref="Emitter"/>, one file per containing type.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CachedGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline's steps, for tests that check incrementality.</summary>
    public static class Steps
    {
        /// <summary>Parsed [Cached] methods.</summary>
        public const string Cached = "CachedMethods";

        /// <summary>Parsed [MultiCached] methods.</summary>
        public const string MultiCached = "MultiCachedMethods";

        /// <summary>Parsed [InvalidateCache] methods.</summary>
        public const string Invalidate = "InvalidateMethods";

        /// <summary>Every spec, grouped for emission.</summary>
        public const string Specs = "AllSpecs";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var cached = Parse(context, Parser.CachedAttribute, CachedMethodKind.Cached, Steps.Cached);
        var multi = Parse(context, Parser.MultiCachedAttribute, CachedMethodKind.MultiCached, Steps.MultiCached);
        var invalidate = Parse(context, Parser.InvalidateCacheAttribute, CachedMethodKind.Invalidate, Steps.Invalidate);

        foreach (var results in new[] { cached, multi, invalidate })
        {
            context.RegisterSourceOutput(results.Where(static r => r.Diagnostics.Count > 0), static (spc, result) =>
            {
                foreach (var diagnostic in result.Diagnostics)
                {
                    spc.ReportDiagnostic(diagnostic.ToDiagnostic());
                }
            });
        }

        var specs = cached.Collect()
            .Combine(multi.Collect())
            .Combine(invalidate.Collect())
            .Select(static (all, _) => all.Left.Left.Concat(all.Left.Right).Concat(all.Right)
                .Select(static r => r.Spec)
                .Where(static s => s is not null)
                .Select(static s => s!)
                .ToEquatableArray())
            .WithTrackingName(Steps.Specs);

        context.RegisterSourceOutput(specs, static (spc, all) =>
        {
            foreach (var group in all.GroupBy(static s => s.ContainingType))
            {
                var methods = group.OrderBy(static m => m.Kind).ThenBy(static m => m.Names.Field, System.StringComparer.Ordinal).ThenBy(static m => m.Signature.Name, System.StringComparer.Ordinal).ToEquatableArray();
                spc.AddSource(group.Key.FileName, SourceText.From(Emitter.Emit(new TypeSpec(group.Key, methods)), System.Text.Encoding.UTF8));
            }
        });
    }

    private static IncrementalValuesProvider<ParseResult> Parse(IncrementalGeneratorInitializationContext context, string attribute, CachedMethodKind kind, string step)
        => context.SyntaxProvider
            .ForAttributeWithMetadataName(attribute, static (node, _) => node is MethodDeclarationSyntax, (ctx, ct) => Parser.Parse(ctx, kind, ct))
            .WithTrackingName(step);
}
