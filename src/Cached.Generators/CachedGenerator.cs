using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators;

/// <summary>
/// Writes the bodies of partial methods marked [Cached], [MultiCached], [InvalidateCache] and [InvalidateTags]: attribute →
/// <see cref="Parser"/> → equatable <see cref="MethodSpec"/> → one <see cref="TypeSpec"/> per containing type →
/// <see cref="Emitter"/>, one file per containing type.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class CachedGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline's steps, for tests that check incrementality.</summary>
    public static partial class Steps
    {
        /// <summary>
        /// The parser's results for every attributed method: specs and diagnostics. The diagnostics keep their source
        /// locations, so these values are compared by tree and span, not by text alone.
        /// </summary>
        public const string Parsed = "ParsedMethods";

        /// <summary>The attributes found on anything but a method declaration: their diagnostics.</summary>
        public const string Misplaced = "MisplacedAttributes";

        /// <summary>Parsed [Cached] methods: their specs, null for a method with an error.</summary>
        public const string Cached = "CachedMethods";

        /// <summary>Parsed [MultiCached] methods: their specs, null for a method with an error.</summary>
        public const string MultiCached = "MultiCachedMethods";

        /// <summary>Parsed [InvalidateCache] methods: their specs, null for a method with an error.</summary>
        public const string Invalidate = "InvalidateMethods";

        /// <summary>
        /// Parsed [InvalidateTags] methods: their specs, null for a method with an error or one that also carries
        /// [InvalidateCache] (parsed with it, into one body).
        /// </summary>
        public const string InvalidateTags = "InvalidateTagsMethods";

        /// <summary>The specs grouped by containing type: one value per generated file.</summary>
        public const string Types = "CachedTypes";

        /// <summary>The aliases the compilation's methods name, with the methods: one value, one file when not empty.</summary>
        public const string Aliases = "CachedAliases";
    }

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var cached = Parse(context, Parser.CachedAttribute, CachedMethodKind.Cached, Steps.Cached);
        var multi = Parse(context, Parser.MultiCachedAttribute, CachedMethodKind.MultiCached, Steps.MultiCached);
        var invalidate = Parse(context, Parser.InvalidateCacheAttribute, CachedMethodKind.Invalidate, Steps.Invalidate);
        var invalidateTags = Parse(context, Parser.InvalidateTagsAttribute, CachedMethodKind.InvalidateTags, Steps.InvalidateTags);

        // The kinds meet here because one file holds every generated member of a type. Collecting is cheap;
        // what matters is that each type then becomes a value of its own, compared with its previous value, so an
        // edit in one type re-emits that type's file only.
        var all = cached.Collect()
            .Combine(multi.Collect())
            .Combine(invalidate.Collect())
            .Combine(invalidateTags.Collect())
            .Select(static (all, _) => all.Left.Left.Left.AddRange(all.Left.Left.Right).AddRange(all.Left.Right).AddRange(all.Right));
        // In a trimmed or NativeAOT project a creation whose constructor warns is reported at the attribute (CACHED036)
        // and suppressed where the generated code makes it; elsewhere nothing is suppressed, so a library without those
        // properties still carries the warning to an application that trims it.
        var trimmed = context.AnalyzerConfigOptionsProvider
            .Select(static (provider, _) => JsonAotAnalyzer.TrimmingProperties.Any(property
                => provider.GlobalOptions.TryGetValue("build_property." + property, out var value) && string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase)));
        var types = all
            .Combine(trimmed)
            .SelectMany(static (specs, _) => GroupByType(specs.Right ? specs.Left : specs.Left.Select(WithoutSuppression).ToImmutableArray()))
            .WithTrackingName(Steps.Types);

        context.RegisterSourceOutput(types, static (spc, type)
            => spc.AddSource(type.Type.FileName, SourceText.From(Emitter.Emit(type), Encoding.UTF8)));

        // One file for the compilation: the aliases its methods name, compared by value, so it is re-emitted only when
        // an alias or a method using one changes.
        var aliases = all
            .Select(static (specs, _) => Emitter.AliasUses(specs))
            .WithTrackingName(Steps.Aliases);
        context.RegisterSourceOutput(aliases, static (spc, uses) =>
        {
            if (uses.Count > 0)
            {
                spc.AddSource(Emitter.AliasesFileName, SourceText.From(Emitter.EmitAliases(uses), Encoding.UTF8));
            }
        });

        RegisterJsonContexts(context);
    }

    /// <summary>
    /// Parses the methods that carry one attribute, reports their diagnostics and returns their specs. The diagnostics
    /// are reported from the parse results themselves, whose locations lie in the compilation's syntax trees, so that
    /// <c>#pragma warning disable</c> and .editorconfig severities apply to them; only the specs, compared by value,
    /// go on to the emitter.
    /// </summary>
    /// <summary>The method with no creation marked for suppression: what a project that does not trim is given.</summary>
    private static MethodSpec WithoutSuppression(MethodSpec method)
        => method.Options.FactoryRequiresUnreferencedCode
            ? method with { Options = method.Options with { FactoryRequiresUnreferencedCode = false } }
            : method;

    private static IncrementalValuesProvider<MethodSpec> Parse(IncrementalGeneratorInitializationContext context, string attribute, CachedMethodKind kind, string step)
    {
        var results = context.SyntaxProvider
            .ForAttributeWithMetadataName(attribute, static (node, _) => Parser.IsMethodDeclaration(node), (ctx, ct) => Parser.Parse(ctx, kind, ct))
            .WithTrackingName(Steps.Parsed);

        // The attribute anywhere else (an accessor, a local function, a lambda, an operator) is only reported.
        var name = attribute.Substring(attribute.LastIndexOf('.') + 1).Replace("Attribute", string.Empty);
        var misplaced = context.SyntaxProvider
            .ForAttributeWithMetadataName(attribute, static (node, _) => !Parser.IsMethodDeclaration(node), (ctx, _) => Parser.Misplaced(ctx, name))
            .WithTrackingName(Steps.Misplaced);
        context.RegisterSourceOutput(misplaced, static (spc, diagnostics) =>
        {
            foreach (var diagnostic in diagnostics)
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });

        context.RegisterSourceOutput(results.Where(static r => r.Diagnostics.Count > 0), static (spc, result) =>
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });

        return results
            .Select(static (r, _) => r.Spec)
            .WithTrackingName(step)
            .Where(static s => s is not null)
            .Select(static (s, _) => s!);
    }

    /// <summary>
    /// The parsed methods by containing type, types ordered by file name so that a type keeps its place between
    /// runs, methods in the order they are written: by kind, then by name.
    /// </summary>
    private static ImmutableArray<TypeSpec> GroupByType(ImmutableArray<MethodSpec> specs)
        => WithUniqueFileNames(specs
            .GroupBy(static s => s.ContainingType)
            .OrderBy(static g => g.Key.FileName, StringComparer.Ordinal)
            .Select(static g => new TypeSpec(g.Key, WithoutRefusedTargets(g.ToList())
                .OrderBy(static m => m.Kind)
                .ThenBy(static m => m.Names.Field, StringComparer.Ordinal)
                .ThenBy(static m => m.Signature.Name, StringComparer.Ordinal)
                .ToEquatableArray())))
            .ToImmutableArray();

    /// <summary>
    /// The methods of one type, each invalidating method keeping only the targets that were generated: a [Cached] or
    /// [MultiCached] method with an error (CACHED002, say) has no state or key method, and an [InvalidateCache] or
    /// [InvalidateTags] sibling naming them would add errors inside the generated file to the one already reported.
    /// </summary>
    private static IEnumerable<MethodSpec> WithoutRefusedTargets(List<MethodSpec> methods)
    {
        var generated = new HashSet<string>(
            methods.Where(static m => m.Kind is CachedMethodKind.Cached or CachedMethodKind.MultiCached).Select(static m => m.Names.Field),
            StringComparer.Ordinal);
        foreach (var method in methods)
        {
            var invalidations = method.Invalidations.Where(i => generated.Contains(i.Target.Field)).ToEquatableArray();
            var tagged = method.TagInvalidation is { } tags
                ? tags with { Methods = tags.Methods.Where(generated.Contains).ToEquatableArray() }
                : null;
            yield return invalidations.Count == method.Invalidations.Count && Equals(tagged, method.TagInvalidation)
                ? method
                : method with { Invalidations = invalidations, TagInvalidation = tagged };
        }
    }

    /// <summary>
    /// The types with file names that differ without regard to case, as the compiler requires of hint names: App.Svc and
    /// App.SVC, or Box&lt;T&gt; (Box_1) and a class named Box_1, would otherwise fail the whole generator. A later type in
    /// file-name order takes a number; the types keep their order, so each keeps its name from run to run.
    /// </summary>
    private static IEnumerable<TypeSpec> WithUniqueFileNames(IEnumerable<TypeSpec> types)
    {
        const string Extension = ".Cached.g.cs";
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var type in types)
        {
            var name = type.Type.FileName;
            for (var number = 2; !taken.Add(name); number++)
            {
                name = type.Type.FileName.Substring(0, type.Type.FileName.Length - Extension.Length) + "_" + number.ToString(System.Globalization.CultureInfo.InvariantCulture) + Extension;
            }

            yield return name == type.Type.FileName ? type : type with { Type = type.Type with { FileName = name } };
        }
    }
}
