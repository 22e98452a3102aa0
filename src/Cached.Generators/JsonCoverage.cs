using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// What one compilation knows of JSON for <see cref="JsonAotAnalyzer"/>: whether a cached method may store its result
/// as JSON, and which types have source-generated metadata. A type is covered when Cached.Core's own context has it,
/// or when a [JsonSerializable] context of the project (or of a referenced project that references Cached, whose
/// public contexts register themselves too) lists it or reaches it: System.Text.Json's generator also makes metadata
/// for the types of members, elements, type arguments and [JsonDerivedType]s. The walk errs on the side of covering,
/// so the warning is never about a type the context does have.
/// </summary>
internal sealed class JsonCoverage
{
    private readonly Compilation _compilation;
    private readonly INamedTypeSymbol? _jsonSerializer;
    private readonly INamedTypeSymbol? _redisCache;
    private readonly INamedTypeSymbol? _contextBase;
    private readonly INamedTypeSymbol? _serializable;
    private readonly INamedTypeSymbol? _derivedType;
    private readonly Lazy<HashSet<ITypeSymbol>> _covered;

    public JsonCoverage(Compilation compilation)
    {
        _compilation = compilation;
        _jsonSerializer = compilation.GetTypeByMetadataName("Cached.Serializers.JsonSerializer");
        _redisCache = compilation.GetTypeByMetadataName("Cached.Redis.RedisCache");
        _contextBase = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSerializerContext");
        _serializable = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonSerializableAttribute");
        _derivedType = compilation.GetTypeByMetadataName("System.Text.Json.Serialization.JsonDerivedTypeAttribute");
        _covered = new Lazy<HashSet<ITypeSymbol>>(Collect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// Why the method with <paramref name="attribute"/> may store its result as JSON, for the message; null when it
    /// will not. Without Cache or Serializer the cache is chosen at run time (an alias, the default): that may be a
    /// RedisCache only in a project that references Cached.Redis, so memory-only projects hear nothing.
    /// </summary>
    public string? WhyJson(AttributeData attribute)
    {
        var serializer = Named(attribute, "Serializer");
        if (serializer is not null)
        {
            return SymbolEqualityComparer.Default.Equals(serializer, _jsonSerializer) ? "its Serializer is JsonSerializer" : null;
        }

        var cache = Named(attribute, "Cache");
        if (cache is not null)
        {
            return SymbolEqualityComparer.Default.Equals(cache, _redisCache) ? "RedisCache stores JSON by default" : null;
        }

        return _redisCache is null ? null : "its cache is chosen at run time and may be a RedisCache, which stores JSON by default";
    }

    public bool Covers(ITypeSymbol type) => _covered.Value.Contains(type);

    /// <summary>
    /// The first part of <paramref name="type"/> (itself, an element, a type argument or a public member, as far as
    /// System.Text.Json would walk) that Cached's JsonSerializer cannot store without reflection: a value tuple (with
    /// no field), or a type with a public field System.Text.Json skips (with that field). Null for none.
    /// </summary>
    public (ITypeSymbol Type, IFieldSymbol? Field)? LossIn(ITypeSymbol type)
    {
        var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        var pending = new Stack<ITypeSymbol>();
        pending.Push(type);
        while (pending.Count > 0)
        {
            var next = pending.Pop();
            if (next is IErrorTypeSymbol || !seen.Add(next))
            {
                continue;
            }

            if (next is INamedTypeSymbol { IsTupleType: true, IsValueType: true })
            {
                return (next, null);
            }

            // A framework type is judged only as a struct of fields (Vector3): its others are written by converters.
            if (next is INamedTypeSymbol named && (!IsFramework(named) || named.IsValueType) && SkippedField(named) is { } field)
            {
                return (next, field);
            }

            // A type with a converter of its own is written by it: nothing of its members is judged.
            if (next is INamedTypeSymbol converted && HasOwnConverter(converted))
            {
                continue;
            }

            foreach (var reached in Reached(next, publicOnly: true))
            {
                pending.Push(reached);
            }
        }

        return null;
    }

    /// <summary>
    /// A public instance field of <paramref name="type"/> (or a base) that neither [JsonInclude] nor [JsonIgnore] (with
    /// its default condition, Always) marks; none for a type with a converter of its own.
    /// </summary>
    private static IFieldSymbol? SkippedField(INamedTypeSymbol type)
    {
        if (HasOwnConverter(type))
        {
            return null;
        }

        for (var current = type; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                if (member is IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false, DeclaredAccessibility: Accessibility.Public } field
                    && !IsIgnored(field)
                    && !field.GetAttributes().Any(static a => IsJsonAttribute(a, "JsonIncludeAttribute")))
                {
                    return field;
                }
            }
        }

        return null;
    }

    /// <summary>Whether System.Text.Json always leaves <paramref name="member"/> out: [JsonIgnore] with no condition, or Always.</summary>
    private static bool IsIgnored(ISymbol member)
        => member.GetAttributes().Any(static a => IsJsonAttribute(a, "JsonIgnoreAttribute")
            && a.NamedArguments.FirstOrDefault(static n => n.Key == "Condition").Value is var condition
            && (condition.IsNull || condition.Value is null || Equals(condition.Value, JsonIgnoreAlways)));

    // JsonIgnoreCondition.Always.
    private const int JsonIgnoreAlways = 1;

    private static bool HasOwnConverter(INamedTypeSymbol type)
        => type.GetAttributes().Any(static a => IsJsonAttribute(a, "JsonConverterAttribute"));

    private static bool IsJsonAttribute(AttributeData attribute, string name)
        => attribute.AttributeClass is { } marker && marker.Name == name && marker.ContainingNamespace.ToDisplayString() == "System.Text.Json.Serialization";

    private static INamedTypeSymbol? Named(AttributeData attribute, string name)
        => attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as INamedTypeSymbol;

    private HashSet<ITypeSymbol> Collect()
    {
        var covered = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
        var nullable = _compilation.GetSpecialType(SpecialType.System_Nullable_T);
        foreach (var name in JsonAotAnalyzer.BuiltInTypes.Concat(JsonAotAnalyzer.ConvertedTypes))
        {
            if (_compilation.GetTypeByMetadataName(name) is { } builtIn)
            {
                covered.Add(builtIn);
                if (builtIn.IsValueType)
                {
                    covered.Add(nullable.Construct(builtIn));
                }
            }
        }

        covered.Add(_compilation.CreateArrayTypeSymbol(_compilation.GetSpecialType(SpecialType.System_Byte)));
        if (_contextBase is null || _serializable is null)
        {
            return covered;
        }

        var pending = new Stack<ITypeSymbol>();
        foreach (var context in Contexts())
        {
            foreach (var attribute in context.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _serializable) && FirstType(attribute) is { } root)
                {
                    pending.Push(root);
                }
            }
        }

        while (pending.Count > 0)
        {
            var type = pending.Pop();
            if (type is IErrorTypeSymbol || !covered.Add(type))
            {
                continue;
            }

            foreach (var reached in Reached(type))
            {
                pending.Push(reached);
            }
        }

        return covered;
    }

    /// <summary>The contexts of this compilation, and the public ones of referenced assemblies that reference Cached.Core.</summary>
    private IEnumerable<INamedTypeSymbol> Contexts()
    {
        var assemblies = new List<IAssemblySymbol> { _compilation.Assembly };
        assemblies.AddRange(_compilation.SourceModule.ReferencedAssemblySymbols
            .Where(static a => a.Modules.Any(static m => m.ReferencedAssemblies.Any(static r => r.Name == "Cached.Core"))));
        // This project's contexts count when the generator registers them; a referenced project's, when public (its
        // own generator registered them).
        return assemblies.SelectMany(static a => TypesIn(a.GlobalNamespace))
            .Where(t => t.TypeKind == TypeKind.Class && KnownTypeSymbols.DerivesFrom(t, _contextBase)
                && (SymbolEqualityComparer.Default.Equals(t.ContainingAssembly, _compilation.Assembly)
                    ? Parser.IsRegistrable(t, _compilation)
                    : t.DeclaredAccessibility == Accessibility.Public));
    }

    private static IEnumerable<INamedTypeSymbol> TypesIn(INamespaceOrTypeSymbol container)
    {
        foreach (var member in container.GetMembers())
        {
            if (member is INamespaceOrTypeSymbol inner)
            {
                if (inner is INamedTypeSymbol type)
                {
                    yield return type;
                }

                foreach (var nested in TypesIn(inner))
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>The types System.Text.Json's generator may make metadata for because <paramref name="type"/> needs them.</summary>
    /// <param name="type">The type.</param>
    /// <param name="publicOnly">Only the members System.Text.Json writes by default (public ones), where erring on the
    /// side of more would report what is not there; the coverage walk takes every member, erring on the side of covering.</param>
    private IEnumerable<ITypeSymbol> Reached(ITypeSymbol type, bool publicOnly = false)
    {
        if (type is IArrayTypeSymbol array)
        {
            yield return array.ElementType;
            yield break;
        }

        if (type is not INamedTypeSymbol named)
        {
            yield break;
        }

        foreach (var argument in named.TypeArguments)
        {
            yield return argument;
        }

        foreach (var attribute in named.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _derivedType) && FirstType(attribute) is { } derived)
            {
                yield return derived;
            }
        }

        // The framework's own types are converters, not objects whose members are walked (Uri, List<T>, ...).
        if (IsFramework(named))
        {
            yield break;
        }

        for (var current = named; current is not null; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                // What JSON writes: public members, and none that [JsonIgnore] always leaves out.
                if (publicOnly && (member.DeclaredAccessibility != Accessibility.Public || IsIgnored(member)))
                {
                    continue;
                }

                if (member is IPropertySymbol { IsStatic: false, IsIndexer: false } property)
                {
                    yield return property.Type;
                }
                else if (member is IFieldSymbol { IsStatic: false, IsImplicitlyDeclared: false } field)
                {
                    yield return field.Type;
                }
            }
        }
    }

    private static ITypeSymbol? FirstType(AttributeData attribute)
        => attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0].Value as ITypeSymbol : null;

    /// <summary>
    /// A type of .NET's own assemblies (WPF's WindowsBase and Presentation* among them), in its System or Microsoft
    /// namespaces. The assembly decides as well as the namespace: a project's own types in a namespace named System.MyApp were once taken for .NET's and not judged.
    /// </summary>
    private static bool IsFramework(INamedTypeSymbol type)
    {
        var root = type.ContainingNamespace;
        while (root is { ContainingNamespace.IsGlobalNamespace: false })
        {
            root = root.ContainingNamespace;
        }

        return root?.Name is "System" or "Microsoft"
            && type.ContainingAssembly?.Name is { } assembly
            && (assembly is "System" or "mscorlib" or "netstandard" or "WindowsBase" or "PresentationCore" or "PresentationFramework" or "ReachFramework"
                || assembly.StartsWith("System.", System.StringComparison.Ordinal) || assembly.StartsWith("Microsoft.", System.StringComparison.Ordinal)
                || assembly.StartsWith("UIAutomation", System.StringComparison.Ordinal) || assembly.StartsWith("PresentationFramework.", System.StringComparison.Ordinal));
    }
}
