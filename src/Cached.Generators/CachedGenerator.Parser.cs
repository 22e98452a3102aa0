using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>Turns an attributed partial method (syntax and symbols) into a plain <see cref="MethodSpec"/> and diagnostics.</summary>
internal sealed class Parser
{
    public const string CachedAttribute = "Cached.CachedAttribute";
    public const string MultiCachedAttribute = "Cached.MultiCachedAttribute";
    public const string InvalidateCacheAttribute = "Cached.InvalidateCacheAttribute";
    private const string CacheKeyIgnoreAttribute = "Cached.CacheKeyIgnoreAttribute";

    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat s_readableFormat = SymbolDisplayFormat.MinimallyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private readonly IMethodSymbol _method;
    private readonly MethodDeclarationSyntax _syntax;
    private readonly AttributeData _attribute;
    private readonly CachedMethodKind _kind;
    private readonly List<DiagnosticInfo> _diagnostics = [];
    private readonly LocationInfo? _location;

    private Parser(GeneratorAttributeSyntaxContext context, CachedMethodKind kind)
    {
        _method = (IMethodSymbol)context.TargetSymbol;
        _syntax = (MethodDeclarationSyntax)context.TargetNode;
        _attribute = context.Attributes[0];
        _kind = kind;
        _location = LocationInfo.From(_syntax.Identifier.GetLocation());
    }

    private string MethodName => _method.ContainingType.Name + "." + _method.Name;

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CachedMethodKind kind, CancellationToken cancellationToken)
    {
        var parser = new Parser(context, kind);
        var spec = parser.ParseMethod(cancellationToken);
        return new ParseResult(parser.HasErrors ? null : spec, parser._diagnostics.ToEquatableArray());
    }

    private bool HasErrors => _diagnostics.Any(static d => DiagnosticDescriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);

    private MethodSpec? ParseMethod(CancellationToken cancellationToken)
    {
        if (!CheckPartial() || !CheckNotGeneric() || !CheckParameters())
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var (returnKind, resultType) = ParseReturn();
        if (returnKind is null)
        {
            return null;
        }

        var implementation = NamedString("Implementation") ?? _method.Name + "Core";
        CheckImplementation(implementation);
        var options = ParseOptions();
        var parameters = _method.Parameters.Select(ToParameterSpec).ToEquatableArray();
        var key = _kind == CachedMethodKind.Cached ? ParseKey(_method, _attribute, report: true) : EmptyKey();
        MultiSpec? multi = _kind == CachedMethodKind.MultiCached ? ParseMulti(resultType!) : null;
        var (skip, skipIsStatic, skipArity) = _kind == CachedMethodKind.Invalidate ? (null, false, 0) : ParseSkipCacheWhen(resultType!, multi);
        var invalidations = _kind == CachedMethodKind.Invalidate ? ParseInvalidations() : EquatableArray<InvalidationSpec>.Empty;

        if (HasErrors)
        {
            return null;
        }

        var (field, keyMethod) = MemberNames(_method);
        return new MethodSpec(
            _kind,
            ContainingTypeOf(_method.ContainingType),
            _method.Name,
            ModifiersOf(_syntax),
            _method.IsStatic,
            _method.ReturnType.ToDisplayString(s_typeFormat),
            returnKind.Value,
            resultType ?? string.Empty,
            parameters,
            implementation,
            field,
            keyMethod,
            key,
            options,
            skip,
            skipIsStatic,
            skipArity,
            multi,
            invalidations);
    }

    private void Report(DiagnosticDescriptor descriptor, params string[] arguments)
        => _diagnostics.Add(new DiagnosticInfo(descriptor.Id, _location, arguments.ToEquatableArray()));

    private bool CheckPartial()
    {
        var notPartial = _syntax.Ancestors().OfType<TypeDeclarationSyntax>()
            .Where(static type => !type.Modifiers.Any(SyntaxKind.PartialKeyword))
            .Select(static type => "type " + type.Identifier.Text)
            .ToList();
        if (!_method.IsPartialDefinition)
        {
            notPartial.Insert(0, "the method");
        }

        if (notPartial.Count == 0)
        {
            return true;
        }

        Report(DiagnosticDescriptors.MethodNotPartial, MethodName, "not partial: " + string.Join(", ", notPartial));
        return false;
    }

    private bool CheckNotGeneric()
    {
        if (!_method.IsGenericMethod)
        {
            return true;
        }

        Report(DiagnosticDescriptors.GenericMethodUnsupported, MethodName);
        return false;
    }

    private bool CheckParameters()
    {
        var ok = true;
        foreach (var parameter in _method.Parameters)
        {
            var problem = parameter.RefKind switch
            {
                RefKind.Ref => "a 'ref' parameter",
                RefKind.Out => "an 'out' parameter",
                RefKind.In => "an 'in' parameter",
                RefKind.RefReadOnlyParameter => "a 'ref readonly' parameter",
                _ when parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol => "a pointer",
                _ when parameter.Type.IsRefLikeType => "a ref struct, which cannot outlive the call",
                _ => null,
            };
            if (problem is not null)
            {
                Report(DiagnosticDescriptors.UnsupportedParameter, parameter.Name, MethodName, problem);
                ok = false;
            }
        }

        return ok;
    }

    private (ReturnKind? Kind, string? ResultType) ParseReturn()
    {
        var type = _method.ReturnType;
        if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named)
        {
            var definition = named.ConstructedFrom.ToDisplayString();
            if (definition == "System.Threading.Tasks.Task<TResult>")
            {
                return (ReturnKind.Task, named.TypeArguments[0].ToDisplayString(s_typeFormat));
            }

            if (definition == "System.Threading.Tasks.ValueTask<TResult>")
            {
                return (ReturnKind.ValueTask, named.TypeArguments[0].ToDisplayString(s_typeFormat));
            }
        }

        var display = type.ToDisplayString();
        var plain = type.SpecialType == SpecialType.System_Void ? ReturnKind.Void
            : display == "System.Threading.Tasks.Task" ? ReturnKind.PlainTask
            : display == "System.Threading.Tasks.ValueTask" ? ReturnKind.PlainValueTask
            : (ReturnKind?)null;
        if (plain is null)
        {
            return (ReturnKind.Sync, type.ToDisplayString(s_typeFormat));
        }

        if (_kind == CachedMethodKind.Invalidate)
        {
            return (plain, null);
        }

        Report(DiagnosticDescriptors.UnsupportedReturn, MethodName, type.ToDisplayString(s_readableFormat));
        return (null, null);
    }

    private void CheckImplementation(string name)
    {
        var found = _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>().Any(candidate =>
            !ReferenceEquals(candidate, _method)
            && candidate.IsStatic == _method.IsStatic
            && SymbolEqualityComparer.Default.Equals(candidate.ReturnType, _method.ReturnType)
            && candidate.Parameters.Length == _method.Parameters.Length
            && candidate.Parameters.Zip(_method.Parameters, static (a, b) => a.RefKind == b.RefKind && SymbolEqualityComparer.Default.Equals(a.Type, b.Type)).All(static same => same));
        if (!found)
        {
            var parameters = string.Join(", ", _method.Parameters.Select(static p => p.Type.ToDisplayString(s_readableFormat) + " " + p.Name));
            var signature = $"private {(_method.IsStatic ? "static " : string.Empty)}{_method.ReturnType.ToDisplayString(s_readableFormat)} {name}({parameters})";
            Report(DiagnosticDescriptors.ImplementationMissing, MethodName, signature);
        }
    }

    private CacheOptionsSpec ParseOptions()
    {
        var ttl = NamedDouble("Ttl");
        var lease = _kind == CachedMethodKind.Cached ? NamedDouble("Lease") : 0;
        CheckDuration("Ttl", ttl);
        CheckDuration("Lease", lease);
        var alias = NamedString("Alias");
        var cacheType = NamedType("Cache");
        var serializerType = NamedType("Serializer");
        var pluginTypes = NamedTypes("Plugins");
        if (alias is not null)
        {
            var conflicts = new[] { cacheType is null ? null : "Cache", serializerType is null ? null : "Serializer", pluginTypes.Count == 0 ? null : "Plugins" }
                .Where(static c => c is not null).ToList();
            if (conflicts.Count > 0)
            {
                Report(DiagnosticDescriptors.ConflictingCacheOptions, MethodName, string.Join(", ", conflicts));
            }
        }

        if (NamedBool("IncludeInstance") && _method.IsStatic)
        {
            Report(DiagnosticDescriptors.IncludeInstanceOnStatic, MethodName);
        }

        var hasInitOptions = cacheType is null || InheritsFrom(cacheType, "Cached.BaseCache");
        CheckType("Cache", cacheType, "Cached.ICache");
        CheckType("Serializer", serializerType, "Cached.Serializers.ISerializer");
        foreach (var plugin in pluginTypes)
        {
            CheckType("Plugins", plugin, "Cached.Plugins.ICachePlugin");
        }

        if (!hasInitOptions && (serializerType is not null || pluginTypes.Count > 0))
        {
            Report(DiagnosticDescriptors.InvalidTypeOption, MethodName, "Cache", cacheType!.ToDisplayString(), "does not derive from BaseCache, so Serializer and Plugins cannot be given to it");
        }

        return new CacheOptionsSpec(
            ttl,
            lease,
            NamedString("Namespace"),
            alias,
            cacheType?.ToDisplayString(s_typeFormat),
            hasInitOptions,
            serializerType?.ToDisplayString(s_typeFormat),
            pluginTypes.Select(static p => p.ToDisplayString(s_typeFormat)).ToEquatableArray());
    }

    private void CheckDuration(string name, double value)
    {
        if (value < 0 || double.IsNaN(value) || double.IsInfinity(value))
        {
            Report(DiagnosticDescriptors.NegativeDuration, MethodName, name, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private void CheckType(string option, INamedTypeSymbol? type, string requiredInterface)
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
        else if (!type.AllInterfaces.Any(i => i.ToDisplayString() == requiredInterface))
        {
            problem = "does not implement " + requiredInterface;
        }
        else if (!type.InstanceConstructors.Any(static c => c.Parameters.Length == 0 && c.DeclaredAccessibility == Accessibility.Public))
        {
            problem = "has no public parameterless constructor";
        }

        if (problem is not null)
        {
            Report(DiagnosticDescriptors.InvalidTypeOption, MethodName, option, type.ToDisplayString(), problem);
        }
    }

    private ParameterSpec ToParameterSpec(IParameterSymbol parameter)
    {
        var isToken = IsCancellationToken(parameter.Type);
        var ignored = parameter.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == CacheKeyIgnoreAttribute);
        var modifiers = parameter.IsParams ? "params " : string.Empty;
        return new ParameterSpec(
            Identifier(parameter.Name),
            parameter.Type.ToDisplayString(s_typeFormat),
            modifiers,
            isToken,
            !isToken && !ignored,
            KeyKindOf(parameter.Type));
    }

    /// <summary>Which CacheKeyWriter method writes a parameter: the one that needs no boxing for its type.</summary>
    private static KeyArgumentKind KeyKindOf(ITypeSymbol type)
    {
        if (IsSequence(type))
        {
            return KeyArgumentKind.Sequence;
        }

        var nullable = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n ? n.TypeArguments[0] : null;
        var inner = nullable ?? type;
        if (inner.TypeKind == TypeKind.Enum)
        {
            return nullable is null ? KeyArgumentKind.Enum : KeyArgumentKind.NullableEnum;
        }

        // These have overloads of their own (or, for char, a quoted form) that read better in generated code.
        var hasOverload = inner.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Double
            or SpecialType.System_Boolean or SpecialType.System_Char or SpecialType.System_String
            || inner.ToDisplayString() is "System.Guid" or "System.DateTime" or "System.DateTimeOffset";
        if (inner.IsValueType && inner.AllInterfaces.Any(static i => i.ToDisplayString() == "System.ISpanFormattable") && (nullable is not null || !hasOverload)
            && inner.SpecialType != SpecialType.System_Char)
        {
            return nullable is null ? KeyArgumentKind.Formattable : KeyArgumentKind.NullableFormattable;
        }

        return KeyArgumentKind.Value;
    }

    private static KeySpec EmptyKey() => new(null, null, null, false, string.Empty, false, EquatableArray<ParameterSpec>.Empty);

    /// <summary>The key of a [Cached] method: its own, or an [InvalidateCache] target's (then nothing is reported here).</summary>
    private KeySpec ParseKey(IMethodSymbol method, AttributeData attribute, bool report)
    {
        var parameters = method.Parameters.Where(static p => !IsCancellationToken(p.Type)).ToList();
        var includeInstance = NamedBool(attribute, "IncludeInstance") && !method.IsStatic;
        var prefix = PrefixExpression(method);
        var key = NamedString(attribute, "Key");
        if (key is not null)
        {
            if (key.IndexOf('{') < 0 && key.IndexOf('}') < 0)
            {
                return new KeySpec(key.Replace("{{", "{").Replace("}}", "}"), null, null, false, prefix, false, EquatableArray<ParameterSpec>.Empty);
            }

            var (interpolation, used) = ParseTemplate(key, method, parameters, report);
            return new KeySpec(null, interpolation, null, false, prefix, false, parameters.Where(p => used.Contains(p.Name)).Select(ToParameterSpec).ToEquatableArray());
        }

        var builder = NamedString(attribute, "KeyBuilder");
        if (builder is not null)
        {
            var target = method.ContainingType.GetMembers(builder).OfType<IMethodSymbol>().FirstOrDefault(candidate =>
                candidate.ReturnType.SpecialType == SpecialType.System_String
                && (candidate.IsStatic || !method.IsStatic)
                && candidate.Parameters.Length == parameters.Count
                && candidate.Parameters.Zip(parameters, static (a, b) => a.RefKind == RefKind.None && SymbolEqualityComparer.Default.Equals(a.Type, b.Type)).All(static same => same));
            if (target is null && report)
            {
                Report(DiagnosticDescriptors.InvalidKeyBuilder, MethodName, builder, string.Join(", ", parameters.Select(static p => p.Type.ToDisplayString(s_readableFormat) + " " + p.Name)), method.IsStatic ? " (static)" : string.Empty);
            }

            return new KeySpec(null, null, builder, target?.IsStatic ?? true, prefix, false, parameters.Select(ToParameterSpec).ToEquatableArray());
        }

        var keyParameters = parameters.Where(static p => !p.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == CacheKeyIgnoreAttribute)).ToList();
        if (report)
        {
            foreach (var parameter in keyParameters.Where(static p => !HasValueToString(p.Type)))
            {
                Report(DiagnosticDescriptors.KeyParameterWithoutValueToString, parameter.Name, MethodName, parameter.Type.ToDisplayString(s_readableFormat));
            }
        }

        return new KeySpec(null, null, null, false, prefix, includeInstance, keyParameters.Select(ToParameterSpec).ToEquatableArray());
    }

    /// <summary>
    /// Checks a key template and turns it into the body of a C# interpolated string: <c>user:{id:D4}</c> stays as it
    /// is, with literal text escaped and parameter names written as identifiers.
    /// </summary>
    private (string Interpolation, HashSet<string> Used) ParseTemplate(string template, IMethodSymbol method, List<IParameterSymbol> parameters, bool report)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var output = new StringBuilder();
        var names = new HashSet<string>(parameters.Select(static p => p.Name), StringComparer.Ordinal);
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                output.Append(c).Append(c);
                i++;
                continue;
            }

            if (c == '}')
            {
                // A lone closing brace is literal text in the key.
                output.Append("}}");
                continue;
            }

            if (c != '{')
            {
                output.Append(EscapeLiteral(c));
                continue;
            }

            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                output.Append("{{");
                continue;
            }

            var hole = template.Substring(i + 1, end - i - 1);
            var nameEnd = hole.IndexOfAny([':', ',']);
            // "{class}" and "{@class}" both name the parameter @class.
            var name = (nameEnd < 0 ? hole : hole.Substring(0, nameEnd)).Trim().TrimStart('@');
            var format = nameEnd < 0 ? string.Empty : hole.Substring(nameEnd);
            if (!names.Contains(name))
            {
                if (report)
                {
                    Report(DiagnosticDescriptors.UnknownTemplateParameter, template, name, method.ContainingType.Name + "." + method.Name, parameters.Count == 0 ? "none" : string.Join(", ", parameters.Select(static p => p.Name)));
                }
            }
            else
            {
                used.Add(name);
            }

            output.Append('{').Append(Identifier(name)).Append(format).Append('}');
            i = end;
        }

        return (output.ToString(), used);
    }

    private static string EscapeLiteral(char c) => c switch
    {
        '\\' => "\\\\",
        '"' => "\\\"",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ when char.IsControl(c) => "\\u" + ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture),
        _ => c.ToString(),
    };

    private MultiSpec? ParseMulti(string resultType)
    {
        var keysFrom = NamedString("KeysFrom");
        if (keysFrom is null)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, MethodName, "is not set: name the parameter that holds the keys");
            return null;
        }

        var parameter = _method.Parameters.FirstOrDefault(p => p.Name == keysFrom);
        if (parameter is null)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, MethodName, $"names '{keysFrom}', which is not a parameter");
            return null;
        }

        var elementType = EnumerableElementType(parameter.Type);
        if (elementType is null || parameter.Type.SpecialType == SpecialType.System_String)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, MethodName, $"names '{keysFrom}', whose type '{parameter.Type.ToDisplayString(s_readableFormat)}' is not an IEnumerable<TKey>");
            return null;
        }

        var conversion = ConversionOf(parameter.Type);
        if (conversion is null)
        {
            Report(DiagnosticDescriptors.InvalidKeysFrom, MethodName, $"names '{keysFrom}' of type '{parameter.Type.ToDisplayString(s_readableFormat)}': use an array, List, IList, ICollection, IReadOnlyList, IReadOnlyCollection, IEnumerable, HashSet, ISet or IReadOnlySet");
            return null;
        }

        var dictionary = ResultTypeSymbol() as INamedTypeSymbol;
        var valueType = DictionaryValueType(dictionary, elementType);
        if (valueType is null)
        {
            Report(DiagnosticDescriptors.InvalidMultiCachedReturn, MethodName, _method.ReturnType.ToDisplayString(s_readableFormat), elementType.ToDisplayString(s_readableFormat));
            return null;
        }

        var keyBuilder = NamedString("KeyBuilder");
        var keyBuilderIsStatic = true;
        if (keyBuilder is not null)
        {
            var target = _method.ContainingType.GetMembers(keyBuilder).OfType<IMethodSymbol>().FirstOrDefault(candidate =>
                candidate.ReturnType.SpecialType == SpecialType.System_String
                && (candidate.IsStatic || !_method.IsStatic)
                && candidate.Parameters.Length == 1
                && SymbolEqualityComparer.Default.Equals(candidate.Parameters[0].Type, elementType));
            if (target is null)
            {
                Report(DiagnosticDescriptors.InvalidKeyBuilder, MethodName, keyBuilder, elementType.ToDisplayString(s_readableFormat) + " key", _method.IsStatic ? " (static)" : string.Empty);
                return null;
            }

            keyBuilderIsStatic = target.IsStatic;
        }

        return new MultiSpec(
            Identifier(keysFrom),
            elementType.ToDisplayString(s_typeFormat),
            valueType.ToDisplayString(s_typeFormat),
            resultType,
            conversion.Value,
            keyBuilder,
            keyBuilderIsStatic);
    }

    private ITypeSymbol ResultTypeSymbol()
        => _method.ReturnType is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
            && named.ConstructedFrom.ToDisplayString() is "System.Threading.Tasks.Task<TResult>" or "System.Threading.Tasks.ValueTask<TResult>"
            ? named.TypeArguments[0]
            : _method.ReturnType;

    private static ITypeSymbol? DictionaryValueType(INamedTypeSymbol? dictionary, ITypeSymbol keyType)
    {
        if (dictionary is not { IsGenericType: true, TypeArguments.Length: 2 })
        {
            return null;
        }

        var definition = dictionary.ConstructedFrom.ToDisplayString();
        var known = definition is "System.Collections.Generic.Dictionary<TKey, TValue>"
            or "System.Collections.Generic.IDictionary<TKey, TValue>"
            or "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>";
        return known && SymbolEqualityComparer.Default.Equals(dictionary.TypeArguments[0], keyType) ? dictionary.TypeArguments[1] : null;
    }

    private static KeysConversion? ConversionOf(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol { Rank: 1 })
        {
            return KeysConversion.ToArray;
        }

        if (type is not INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named)
        {
            return null;
        }

        return named.ConstructedFrom.ToDisplayString() switch
        {
            "System.Collections.Generic.List<T>" or "System.Collections.Generic.IList<T>" or "System.Collections.Generic.ICollection<T>"
                or "System.Collections.Generic.IEnumerable<T>" or "System.Collections.Generic.IReadOnlyList<T>"
                or "System.Collections.Generic.IReadOnlyCollection<T>" => KeysConversion.AsList,
            "System.Collections.Generic.HashSet<T>" or "System.Collections.Generic.ISet<T>"
                or "System.Collections.Generic.IReadOnlySet<T>" => KeysConversion.ToHashSet,
            _ => null,
        };
    }

    private (string? Name, bool IsStatic, int Arity) ParseSkipCacheWhen(string resultType, MultiSpec? multi)
    {
        var name = NamedString("SkipCacheWhen");
        if (name is null)
        {
            return (null, false, 0);
        }

        ITypeSymbol? valueType = multi is null ? ResultTypeSymbol() : (ResultTypeSymbol() as INamedTypeSymbol)?.TypeArguments[1];
        ITypeSymbol? keyType = multi is null ? null : (ResultTypeSymbol() as INamedTypeSymbol)?.TypeArguments[0];
        foreach (var candidate in _method.ContainingType.GetMembers(name).OfType<IMethodSymbol>())
        {
            if (candidate.ReturnType.SpecialType != SpecialType.System_Boolean || (!candidate.IsStatic && _method.IsStatic))
            {
                continue;
            }

            var p = candidate.Parameters;
            if (p.Length == 1 && SymbolEqualityComparer.Default.Equals(p[0].Type, valueType))
            {
                return (name, candidate.IsStatic, 1);
            }

            if (multi is not null && p.Length == 2 && SymbolEqualityComparer.Default.Equals(p[0].Type, keyType) && SymbolEqualityComparer.Default.Equals(p[1].Type, valueType))
            {
                return (name, candidate.IsStatic, 2);
            }
        }

        var expected = multi is null
            ? valueType?.ToDisplayString(s_readableFormat) + " result"
            : $"{valueType?.ToDisplayString(s_readableFormat)} value)' or 'bool {name}({keyType?.ToDisplayString(s_readableFormat)} key, {valueType?.ToDisplayString(s_readableFormat)} value";
        Report(DiagnosticDescriptors.InvalidSkipCacheWhen, MethodName, name, expected, _method.IsStatic ? " (static)" : string.Empty);
        return (null, false, 0);
    }

    private EquatableArray<InvalidationSpec> ParseInvalidations()
    {
        var targets = _attribute.ConstructorArguments.Length == 1 && _attribute.ConstructorArguments[0].Kind == TypedConstantKind.Array
            ? _attribute.ConstructorArguments[0].Values.Select(static v => v.Value as string).Where(static v => v is not null).ToList()
            : [];
        var specs = new List<InvalidationSpec>();
        foreach (var targetName in targets)
        {
            var candidates = _method.ContainingType.GetMembers(targetName!).OfType<IMethodSymbol>()
                .Select(m => (Method: m, Attribute: m.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == CachedAttribute)))
                .Where(static c => c.Attribute is not null)
                .ToList();
            if (candidates.Count == 0)
            {
                Report(DiagnosticDescriptors.InvalidateTargetNotFound, MethodName, targetName!, _method.ContainingType.Name);
                continue;
            }

            InvalidationSpec? match = null;
            (string Name, string Type)? firstMissing = null;
            foreach (var (target, attribute) in candidates)
            {
                var key = ParseKey(target, attribute!, report: false);
                List<string>? arguments = [];
                foreach (var needed in key.KeyParameters)
                {
                    var source = _method.Parameters.FirstOrDefault(p => Identifier(p.Name) == needed.Name && p.Type.ToDisplayString(s_typeFormat) == needed.Type);
                    if (source is null)
                    {
                        firstMissing ??= (needed.Name.TrimStart('@'), target.Parameters.First(p => Identifier(p.Name) == needed.Name).Type.ToDisplayString(s_readableFormat));
                        arguments = null;
                        break;
                    }

                    arguments.Add(Identifier(source.Name));
                }

                if (arguments is not null && key.NeedsInstance && _method.IsStatic)
                {
                    firstMissing ??= ("this", target.ContainingType.Name);
                    continue;
                }

                if (arguments is not null)
                {
                    var (field, keyMethod) = MemberNames(target);
                    match = new InvalidationSpec(field, keyMethod, arguments.ToEquatableArray(), !key.NeedsInstance);
                    break;
                }
            }

            if (match is null)
            {
                Report(DiagnosticDescriptors.InvalidateKeyMismatch, MethodName, targetName!, firstMissing?.Name ?? "?", firstMissing?.Type ?? "?");
                continue;
            }

            specs.Add(match);
        }

        return specs.ToEquatableArray();
    }

    /// <summary>The names of a cached method's static state and key method; overloads get a stable suffix.</summary>
    private static (string Field, string KeyMethod) MemberNames(IMethodSymbol method)
    {
        var overloads = method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>()
            .Where(static m => m.IsPartialDefinition && m.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() is CachedAttribute or MultiCachedAttribute))
            .ToList();
        var suffix = overloads.Count <= 1 ? string.Empty : "_" + overloads.FindIndex(m => SymbolEqualityComparer.Default.Equals(m, method)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ("__cached_" + method.Name + suffix, "__CachedKey_" + method.Name + suffix);
    }

    /// <summary>
    /// The default key's prefix as a C# expression: a literal <c>"N.Type.Method"</c>, or for generic types one that
    /// puts the type arguments in at run time, so that <c>Repo&lt;int&gt;</c> and <c>Repo&lt;string&gt;</c> never share keys.
    /// </summary>
    private static string PrefixExpression(IMethodSymbol method)
    {
        var types = new List<INamedTypeSymbol>();
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            types.Insert(0, type);
        }

        var ns = types[0].ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." : string.Empty;
        if (types.All(static t => t.TypeParameters.Length == 0))
        {
            return Literal(ns + string.Join(".", types.Select(static t => t.Name)) + "." + method.Name);
        }

        var parts = new List<string>();
        var text = new StringBuilder(ns);
        for (var i = 0; i < types.Count; i++)
        {
            text.Append(i == 0 ? string.Empty : ".").Append(types[i].Name);
            if (types[i].TypeParameters.Length == 0)
            {
                continue;
            }

            text.Append('<');
            for (var j = 0; j < types[i].TypeParameters.Length; j++)
            {
                parts.Add(Literal(text.ToString() + (j == 0 ? string.Empty : ",")));
                text.Clear();
                parts.Add($"typeof({types[i].TypeParameters[j].Name}).ToString()");
            }

            text.Append('>');
        }

        text.Append('.').Append(method.Name);
        parts.Add(Literal(text.ToString()));
        return string.Join(" + ", parts.Where(static p => p != "\"\""));
    }

    private static ContainingTypeSpec ContainingTypeOf(INamedTypeSymbol type)
    {
        var chain = new List<INamedTypeSymbol>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            chain.Insert(0, current);
        }

        var ns = chain[0].ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        var declarations = chain.Select(static t => new TypeDeclarationSpec(KeywordOf(t), t.TypeParameters.Length == 0 ? t.Name : $"{t.Name}<{string.Join(", ", t.TypeParameters.Select(static p => p.Name))}>")).ToEquatableArray();
        var fileName = (ns is null ? string.Empty : ns + ".") + string.Join(".", chain.Select(static t => t.TypeParameters.Length == 0 ? t.Name : $"{t.Name}`{t.TypeParameters.Length}"));
        return new ContainingTypeSpec(ns, declarations, type.ToDisplayString(), fileName.Replace('`', '_') + ".Cached.g.cs", type.IsValueType);
    }

    private static string KeywordOf(INamedTypeSymbol type) => type switch
    {
        { IsRecord: true, IsValueType: true } => "record struct",
        { IsRecord: true } => "record",
        { TypeKind: TypeKind.Struct } => "struct",
        { TypeKind: TypeKind.Interface } => "interface",
        _ => "class",
    };

    private static string ModifiersOf(MethodDeclarationSyntax syntax)
        => string.Join(" ", syntax.Modifiers.Where(static m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(static m => m.Text));

    private static bool IsCancellationToken(ITypeSymbol type) => type.ToDisplayString() == "System.Threading.CancellationToken";

    private static bool IsSequence(ITypeSymbol type)
        => type.SpecialType != SpecialType.System_String && EnumerableElementType(type) is not null;

    private static ITypeSymbol? EnumerableElementType(ITypeSymbol type)
    {
        if (type is IArrayTypeSymbol array)
        {
            return array.ElementType;
        }

        var candidates = type is INamedTypeSymbol named && named.ConstructedFrom.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T
            ? [named]
            : type.AllInterfaces.Where(static i => i.ConstructedFrom.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);
        return candidates.Select(static i => i.TypeArguments[0]).FirstOrDefault();
    }

    /// <summary>False for a class or struct whose ToString is <see cref="object"/>'s: its keys would collide.</summary>
    private static bool HasValueToString(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        if (type.SpecialType != SpecialType.None || type.TypeKind is TypeKind.Enum or TypeKind.Interface or TypeKind.TypeParameter or TypeKind.Delegate or TypeKind.Array or TypeKind.Dynamic
            || type.ToDisplayString() is "object" or "System.Guid" or "System.DateTimeOffset" or "System.TimeSpan"
            || IsSequence(type)
            || type.AllInterfaces.Any(static i => i.ToDisplayString() is "System.IFormattable"))
        {
            return true;
        }

        for (var current = type; current is not null && current.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); current = current.BaseType)
        {
            if (current.GetMembers("ToString").OfType<IMethodSymbol>().Any(static m => m.Parameters.Length == 0 && m.IsOverride))
            {
                return true;
            }
        }

        return false;
    }

    private static bool InheritsFrom(INamedTypeSymbol type, string baseName)
    {
        for (var current = type.BaseType; current is not null; current = current.BaseType)
        {
            if (current.ToDisplayString() == baseName)
            {
                return true;
            }
        }

        return false;
    }

    private static string Identifier(string name) => SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    private static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);

    private string? NamedString(string name) => NamedString(_attribute, name);

    private double NamedDouble(string name)
        => _attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is { } value ? Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    private bool NamedBool(string name) => NamedBool(_attribute, name);

    private INamedTypeSymbol? NamedType(string name) => _attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as INamedTypeSymbol;

    private List<INamedTypeSymbol> NamedTypes(string name)
    {
        var argument = _attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value;
        return argument.Kind == TypedConstantKind.Array ? argument.Values.Select(static v => v.Value).OfType<INamedTypeSymbol>().ToList() : [];
    }

    private static string? NamedString(AttributeData attribute, string name)
        => attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as string;

    private static bool NamedBool(AttributeData attribute, string name)
        => attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value is true;
}
