using System;
using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>The attribute's cache options (Ttl, Lease, the resilience options, Namespace, Alias, Cache, Serializer, Plugins) and their checks.</summary>
internal sealed partial class Parser
{
    private CacheOptionsSpec ParseOptions()
    {
        var ttl = NamedDouble("Ttl");
        var cached = _kind == CachedMethodKind.Cached;
        var lease = cached ? NamedDouble("Lease") : 0;
        CheckDuration("Ttl", ttl);
        CheckDuration("Lease", lease);
        // [MultiCached] takes FailSafe and its throttle; the timeouts and eager refresh are [Cached]'s alone.
        var (failSafe, throttle) = (NamedDouble("FailSafe"), NamedDouble("FailSafeThrottle"));
        var (soft, hard) = cached ? (NamedDouble("SoftTimeout"), NamedDouble("HardTimeout")) : (0, 0);
        CheckDuration("FailSafe", failSafe);
        CheckDuration("FailSafeThrottle", throttle);
        CheckDuration("SoftTimeout", soft);
        CheckDuration("HardTimeout", hard);
        var eagerRefresh = cached ? NamedDouble("EagerRefresh") : 0;
        if (eagerRefresh != 0 && !(eagerRefresh > 0 && eagerRefresh < 1))
        {
            Report(DiagnosticDescriptors.InvalidEagerRefresh, ArgumentLocation("EagerRefresh"), MethodName, eagerRefresh.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (soft > 0 && !double.IsInfinity(soft) && failSafe == 0)
        {
            Report(DiagnosticDescriptors.SoftTimeoutWithoutFailSafe, ArgumentLocation("SoftTimeout"), MethodName);
        }

        // [InvalidateTags] has an Alias of its own, for its tags: it is read with them.
        var alias = IsInvalidation ? null : NamedString("Alias");
        CheckAlias(alias, _attributeSyntax, "for the default cache");
        var cacheType = NamedType("Cache");
        var serializerType = NamedType("Serializer");
        var pluginTypes = NamedTypes("Plugins");
        if (alias is not null)
        {
            var conflicts = new[] { cacheType is null ? null : "Cache", serializerType is null ? null : "Serializer", pluginTypes.Count == 0 ? null : "Plugins" }
                .Where(static c => c is not null).ToList();
            if (conflicts.Count > 0)
            {
                Report(DiagnosticDescriptors.ConflictingCacheOptions, ArgumentLocation("Alias"), MethodName, string.Join(", ", conflicts));
            }
        }

        if (NamedBool("IncludeInstance") && _method.IsStatic)
        {
            Report(DiagnosticDescriptors.IncludeInstanceOnStatic, ArgumentLocation("IncludeInstance"), MethodName);
        }

        // Serializer and Plugins are set through BaseCache's init properties, so another ICache cannot take them.
        var hasInitOptions = cacheType is null || KnownTypeSymbols.DerivesFrom(cacheType, _known.BaseCache);
        CheckType("Cache", cacheType, _known.ICache, "Cached.ICache");
        CheckType("Serializer", serializerType, _known.ISerializer, "Cached.Serializers.ISerializer");
        foreach (var plugin in pluginTypes)
        {
            CheckType("Plugins", plugin, _known.ICachePlugin, "Cached.Plugins.ICachePlugin");
        }

        if (!hasInitOptions && (serializerType is not null || pluginTypes.Count > 0))
        {
            Report(DiagnosticDescriptors.InvalidTypeOption, ArgumentLocation("Cache"), MethodName, "Cache", cacheType!.ToDisplayString(), "does not derive from BaseCache, so Serializer and Plugins cannot be given to it");
        }

        return new CacheOptionsSpec
        {
            Ttl = ttl,
            Lease = lease,
            FailSafe = failSafe,
            FailSafeThrottle = throttle,
            SoftTimeout = soft,
            HardTimeout = hard,
            EagerRefresh = eagerRefresh,
            Namespace = NamedString("Namespace"),
            Alias = alias,
            CacheType = cacheType?.ToDisplayString(s_typeFormat),
            SerializerType = serializerType?.ToDisplayString(s_typeFormat),
            PluginTypes = pluginTypes.Select(static p => p.ToDisplayString(s_typeFormat)).ToEquatableArray(),
            FactoryRequiresUnreferencedCode = new[] { cacheType, serializerType }.Concat(pluginTypes)
                .Any(static type => type is not null && TrimmingRequirements.OfCreation(type) is not null),
        };
    }

    /// <summary>
    /// The most seconds a duration may have: TimeSpan.MaxValue.TotalSeconds, computed as .NET computes it (ticks over
    /// ticks a second), so that the check is the same whatever runtime the compiler hosts the generator on. The runtime
    /// turns the option into a TimeSpan with TimeSpan.FromSeconds, which throws beyond it, in the static initializer
    /// of the method's type: every cached method of the type would throw.
    /// </summary>
    private const double MaxDurationSeconds = long.MaxValue / (double)TimeSpan.TicksPerSecond;

    private void CheckDuration(string name, double value)
    {
        if (value < 0 || double.IsNaN(value) || double.IsInfinity(value))
        {
            Report(DiagnosticDescriptors.InvalidDuration, ArgumentLocation(name), MethodName, name, value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "use a positive number of seconds, or 0 for the default");
        }
        else if (value > MaxDurationSeconds)
        {
            // A huge number is how one writes "forever": the message says what 0 (unset) means for this option instead.
            var zero = name switch
            {
                "Ttl" => "the cache's own Ttl, which is no expiry when the cache has none",
                "FailSafeThrottle" => "the default, 30 s",
                "SoftTimeout" or "HardTimeout" => "no timeout",
                "Lease" => "no lease",
                _ => "no fail-safe",
            };
            Report(DiagnosticDescriptors.InvalidDuration, ArgumentLocation(name), MethodName, name, value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"the most a duration can be is {MaxDurationSeconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)} seconds (TimeSpan.MaxValue, about 29,000 years); 0, or leaving {name} unset, means {zero}");
        }
    }

    /// <summary>Checks a type given as an option; <paramref name="interfaceName"/> names the interface in the message.</summary>
    private void CheckType(string option, INamedTypeSymbol? type, INamedTypeSymbol? requiredInterface, string interfaceName)
    {
        if (type is null)
        {
            return;
        }

        string? problem = null;
        if (type.IsAbstract || type.TypeKind != TypeKind.Class)
        {
            problem = "is not a concrete class";
        }
        else if (!KnownTypeSymbols.Implements(type, requiredInterface))
        {
            problem = "does not implement " + interfaceName;
        }
        else if (type.InstanceConstructors.FirstOrDefault(static c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public) is not { } constructor)
        {
            problem = "has no public parameterless constructor";
        }
        else
        {
            problem = NotCreatable(type, constructor);
        }

        if (problem is not null)
        {
            Report(DiagnosticDescriptors.InvalidTypeOption, ArgumentLocation(option, type), MethodName, option, type.ToDisplayString(), problem);
        }
    }

    /// <summary>
    /// Why the generated code's <c>new T()</c> would not compile for a concrete class with a public parameterless
    /// constructor, or null: a file-local type (or one nested in it) cannot be named from the generated file, and
    /// required members cannot be set there unless the constructor sets them.
    /// </summary>
    private static string? NotCreatable(INamedTypeSymbol type, IMethodSymbol constructor)
    {
        const string WithoutFile = ": the generated code, in a file of its own, cannot name it; declare it without 'file' ('internal' will do)";
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.IsFileLocal)
            {
                return (SymbolEqualityComparer.Default.Equals(current, type) ? "is declared 'file'" : $"is declared in the file-local type '{current.Name}'") + WithoutFile;
            }
        }

        if (constructor.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == "System.Diagnostics.CodeAnalysis.SetsRequiredMembersAttribute"))
        {
            return null;
        }

        var required = new SortedSet<string>(StringComparer.Ordinal);
        for (var current = type; current is not null; current = current.BaseType)
        {
            required.UnionWith(current.GetMembers().Where(static m => m is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true }).Select(static m => $"'{m.Name}'"));
        }

        return required.Count == 0
            ? null
            : $"has required members ({string.Join(", ", required)}) that the generated 'new {type.ToDisplayString()}()' cannot set: drop 'required' (give them defaults), or mark its parameterless constructor [SetsRequiredMembers]";
    }

    private string? NamedString(string name) => NamedString(_attribute, name);

    /// <summary>
    /// CACHED038 on an Alias that no configuration can hold: Caches and AddCached refuse one that is empty or white
    /// space. An empty one would make the generated registration of the assembly's aliases throw as it loads.
    /// </summary>
    private void CheckAlias(string? alias, AttributeSyntax? attribute, string withoutAlias)
    {
        if (alias is not null && string.IsNullOrWhiteSpace(alias))
        {
            Report(DiagnosticDescriptors.BlankAlias, ArgumentLocationIn(attribute, "Alias"), MethodName, alias.Length == 0 ? "empty" : "white space", withoutAlias);
        }
    }

    private double NamedDouble(string name)
        => NamedValue(_attribute, name).Value is { } value ? Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    private bool NamedBool(string name) => NamedBool(_attribute, name);

    private INamedTypeSymbol? NamedType(string name) => NamedValue(_attribute, name).Value as INamedTypeSymbol;

    private List<INamedTypeSymbol> NamedTypes(string name)
    {
        var argument = NamedValue(_attribute, name);
        return argument.Kind == TypedConstantKind.Array ? argument.Values.Select(static v => v.Value).OfType<INamedTypeSymbol>().ToList() : [];
    }

    private static string? NamedString(AttributeData attribute, string name) => NamedValue(attribute, name).Value as string;

    private static bool NamedBool(AttributeData attribute, string name) => NamedValue(attribute, name).Value is true;

    private static TypedConstant NamedValue(AttributeData attribute, string name)
        => attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value;
}
