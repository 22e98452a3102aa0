using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators;

/// <summary>The key of a [Cached] method: a fixed key, a template, a key builder or the default key.</summary>
internal sealed partial class Parser
{
    /// <summary>Parameter types in an overload mark: keywords, namespaces, no <c>global::</c> and no nullable references.</summary>
    private static readonly SymbolDisplayFormat s_overloadFormat = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    /// <summary>The key of a [Cached] method: its own, or an [InvalidateCache] target's (then nothing is reported here).</summary>
    private KeySpec ParseKey(IMethodSymbol method, AttributeData attribute, bool report)
    {
        var parameters = method.Parameters.Where(p => !IsCancellationToken(p.Type)).ToList();
        var key = NamedString(attribute, "Key");
        if (key is not null)
        {
            if (FixedTemplates.TextOf(key) is { } text)
            {
                if (report && text.Length == 0)
                {
                    // Known here, and refused by the cache at run time (Guard.Key), where it would look like a cache failure.
                    Report(DiagnosticDescriptors.EmptyKey, ArgumentLocation("Key"), MethodName);
                }
                else if (report)
                {
                    CheckKeyNamesTypeParameters(method, key, []);
                }

                return new FixedKeySpec(text);
            }

            var holes = new Dictionary<string, Location>(StringComparer.Ordinal);
            var (interpolation, used) = ParseTemplate(
                key,
                method,
                parameters,
                !report ? null : (name, index, length) =>
                    Report(DiagnosticDescriptors.UnknownTemplateParameter, TemplateHoleLocation(ArgumentLocation("Key"), index, length), key, name, method.ContainingType.Name + "." + method.Name, ParameterNames(parameters), MemberAccessHint(name, parameters, "make this key with a KeyBuilder method")),
                !report ? null : (hole, index, length, wrong) =>
                    Report(DiagnosticDescriptors.MalformedTemplateHole, TemplateHoleLocation(ArgumentLocation("Key"), index, length), key, MethodName, hole, wrong),
                !report ? null : (name, index, length) =>
                {
                    if (!holes.ContainsKey(name))
                    {
                        holes[name] = TemplateHoleLocation(ArgumentLocation("Key"), index, length);
                    }
                });
            if (report)
            {
                CheckTemplateLanguage(ArgumentLocation("Key"), "Key template", key, "write the key with a KeyBuilder method");
                CheckKeyNamesTypeParameters(method, key, used);
                // A hole writes its value's text, a collection's by its elements: collisions as a default key's, and a record's or
                // a tuple's own text naming a collection inside it by its type.
                // [CacheKeyIgnore] leaves a parameter out of a default key only; a hole that names it writes it.
                foreach (var parameter in parameters.Where(p => holes.ContainsKey(p.Name)))
                {
                    CheckHoleText(parameter.Type, holes[parameter.Name], $"Parameter '{parameter.Name}' in the Key template");
                }
            }

            return new TemplateKeySpec(interpolation, parameters.Where(p => used.Contains(p.Name)).Select(ToParameterSpec).ToEquatableArray(), KeyBuffer.ForTemplate(key, parameters));
        }

        var builder = NamedString(attribute, "KeyBuilder");
        if (builder is not null)
        {
            // A generic method's builder is generic in the same type parameters, so that each instantiation can
            // have keys of its own; it is called with them: KeyOf<T>(value).
            var target = HelperCandidates(method.ContainingType, builder).Select(candidate => AsCalledBy(candidate, method)).FirstOrDefault(candidate =>
                candidate is not null
                && candidate.ReturnType.SpecialType == SpecialType.System_String
                && (candidate.IsStatic || !method.IsStatic)
                && candidate.ParameterTypes.Count == parameters.Count
                && candidate.Method.Parameters.All(static p => p.RefKind == RefKind.None)
                && candidate.ParameterTypes.Zip(parameters, static (a, b) => SymbolEqualityComparer.Default.Equals(a, b.Type)).All(static same => same));
            if (target is null && report)
            {
                Report(DiagnosticDescriptors.InvalidKeyBuilder, ArgumentLocation("KeyBuilder"), MethodName, builder, string.Join(", ", parameters.Select(static p => p.Type.ToDisplayString(s_readableFormat) + " " + p.Name)), method.IsStatic ? " (static)" : string.Empty);
            }

            if (target is not null && report)
            {
                ReportNullsRefused(builder, parameters.Zip(target.Method.Parameters, static (source, taken) => (source.Type, taken)));
                CheckHelperNotObsoleteAsError(target.Method, "KeyBuilder");
            }

            // A missing builder has been reported; the spec is dropped with it, so IsStatic only matters for invalidations.
            var call = target is null ? new MemberCallSpec(builder, IsStatic: true) : CallOf(target.Method, Identifier(builder) + TypeParameterList(method), method);
            return new BuilderKeySpec(call, parameters.Select(ToParameterSpec).ToEquatableArray());
        }

        var keyParameters = parameters.Where(p => !HasAttribute(p, _known.CacheKeyIgnoreAttribute)).ToList();
        if (report)
        {
            // A parameter refused here (CACHED003) has its own error; a warning about its elements would be noise.
            var refused = new HashSet<IParameterSymbol>(SymbolEqualityComparer.Default);
            foreach (var parameter in keyParameters.Where(static p => p.Type is IArrayTypeSymbol { Rank: > 1 }))
            {
                refused.Add(parameter);
                // Its elements alone would not tell a 2x2 array from a 1x4 one.
                Report(DiagnosticDescriptors.UnsupportedParameter, ParameterLocation(parameter), parameter.Name, MethodName,
                    "a multi-dimensional array, which a default key cannot write: pass a jagged array, write the key with Key or KeyBuilder, or mark the parameter [CacheKeyIgnore]", CachedCannotTake);
            }

            foreach (var parameter in keyParameters)
            {
                if (NestedMemoryOfElements(parameter.Type, nested: false) is { } memory)
                {
                    refused.Add(parameter);
                    // Its text names only its type and length; the runtime refuses it too (CacheKeyWriter.InvariantText).
                    Report(DiagnosticDescriptors.UnsupportedParameter, ParameterLocation(parameter), parameter.Name, MethodName,
                        $"a type that holds a {memory.ToDisplayString(s_readableFormat)}, which a default key cannot write by its elements: pass it as a parameter of its own, write the key with Key or KeyBuilder, or mark the parameter [CacheKeyIgnore]", CachedCannotTake);
                }
            }

            foreach (var parameter in keyParameters.Where(p => !refused.Contains(p)))
            {
                CheckKeyText(parameter.Type, ParameterLocation(parameter), $"Parameter '{parameter.Name}'", DefaultKeyFix);
            }
        }

        var includeInstance = NamedBool(attribute, "IncludeInstance") && !method.IsStatic;
        if (report && includeInstance && !HasValueToString(method.ContainingType))
        {
            Report(DiagnosticDescriptors.InstanceWithoutValueToString, ArgumentLocation("IncludeInstance"), MethodName, method.ContainingType.ToDisplayString(s_readableFormat));
        }

        var prefix = PrefixExpression(method);
        return new DefaultKeySpec(prefix, includeInstance, keyParameters.Select(ToParameterSpec).ToEquatableArray(), KeyBuffer.ForDefault(prefix, includeInstance, keyParameters));
    }

    /// <summary>
    /// Checks a key or tag template and turns it into the body of a C# interpolated string: <c>user:{id:D4}</c> stays
    /// as it is, with literal text escaped and parameter names written as identifiers. A hole that names no parameter
    /// goes to <paramref name="unknown"/> with its name, index and length, for the diagnostic of its attribute.
    /// </summary>
    /// <remarks>
    /// A hole whose alignment or format would not compile in the interpolated string goes to <paramref name="malformed"/>
    /// with its text, index, length and what is wrong (an error: the method gets no generated body). A hole that names
    /// a parameter goes to <paramref name="parameterHole"/> with its name, index and length, for a diagnostic about its value.
    /// </remarks>
    private (string Interpolation, HashSet<string> Used) ParseTemplate(string template, IMethodSymbol method, List<IParameterSymbol> parameters, System.Action<string, int, int>? unknown, System.Action<string, int, int, string>? malformed, System.Action<string, int, int>? parameterHole = null)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var output = new StringBuilder();
        var names = new HashSet<string>(parameters.Select(static p => p.Name), StringComparer.Ordinal);
        var typeParameters = TypeParametersInScope(method);
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
                output.Append(EscapeLiteral(template, i));
                continue;
            }

            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                // Meant as a hole: as text, every argument would share one key (an error: no generated body).
                malformed?.Invoke(template.Substring(i), i, template.Length - i, "it has no closing brace (write a literal one as {{)");
                output.Append("{{");
                continue;
            }

            var hole = template.Substring(i + 1, end - i - 1);
            var nameEnd = hole.IndexOfAny([':', ',']);
            // "{class}" and "{@class}" both name the parameter @class.
            var name = (nameEnd < 0 ? hole : hole.Substring(0, nameEnd)).Trim().TrimStart('@');
            var format = nameEnd < 0 ? string.Empty : HoleSuffix(hole.Substring(nameEnd));
            if (nameEnd >= 0 && MalformedHole(hole.Substring(nameEnd)) is { } wrong)
            {
                malformed?.Invoke("{" + hole + "}", i, end - i + 1, wrong);
            }
            if (!names.Contains(name) && typeParameters.Contains(name))
            {
                // {T} writes the type argument's name, as the default key does: Echo<int> and Echo<string> keep apart.
                used.Add(name);
                // In parentheses: a hole's first ':' would start its format.
                output.Append("{(global::Cached.Runtime.TypeName<").Append(Identifier(name)).Append(">.Value)").Append(format).Append('}');
                i = end;
                continue;
            }

            if (!names.Contains(name))
            {
                unknown?.Invoke(name, i, end - i + 1);
            }
            else
            {
                used.Add(name);
                parameterHole?.Invoke(name, i, end - i + 1);
            }

            // A dynamic value goes in as an object: an interpolation hole of a dynamic value makes the call on the
            // template's handler (a ref struct) one bound at run time, which C# refuses (CS9230).
            var isDynamic = parameters.Any(p => p.Name == name && p.Type.TypeKind == TypeKind.Dynamic);
            var memory = parameters.FirstOrDefault(p => p.Name == name) is { } named ? MemoryHole(named) : null;
            output.Append('{').Append(isDynamic ? "((object?)" + Identifier(name) + ")" : memory ?? Identifier(name)).Append(format).Append('}');
            i = end;
        }

        return (output.ToString(), used);
    }

    /// <summary>
    /// What keeps the part of a hole after its name (<c>,8</c>, <c>:D4</c>, <c>,8:D4</c>) from being an interpolation's
    /// alignment and format, or null when nothing does.
    /// </summary>
    private static string? MalformedHole(string rest)
    {
        var (alignment, format) = SplitHole(rest);
        if (alignment is not null && !int.TryParse(alignment, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            return alignment.Length == 0 ? "its alignment is missing after the comma" : $"its alignment '{alignment}' is not a whole number";
        }

        // C# refuses a format that ends in whitespace or a line break (CS8088), even one written as an escape.
        return format.Length == 1 ? "its format is empty after the colon"
            : format.IndexOf('{') >= 0 ? "its format holds a brace (write a literal one as {{)"
            : format.Length > 1 && (SyntaxFacts.IsWhitespace(format[format.Length - 1]) || SyntaxFacts.IsNewLine(format[format.Length - 1]))
                ? "its format ends in whitespace or a line break, which C# refuses in a format: remove it"
            : null;
    }

    /// <summary>
    /// The part of a well-formed hole after its name as the interpolated string writes it: the alignment trimmed (it
    /// is C# code there, where an escaped tab or line break would not compile), the format with its backslashes and
    /// quotes escaped as the text's, since it is inside a regular interpolated string.
    /// </summary>
    private static string HoleSuffix(string rest)
    {
        var (alignment, format) = SplitHole(rest);
        return (alignment is null ? string.Empty : "," + alignment) + EscapeLiteral(format);
    }

    /// <summary>A hole's trimmed alignment (null when it has no comma) and its format with the colon (empty when it has none).</summary>
    private static (string? Alignment, string Format) SplitHole(string rest)
    {
        if (rest[0] != ',')
        {
            return (null, rest);
        }

        var colon = rest.IndexOf(':');
        return ((colon < 0 ? rest.Substring(1) : rest.Substring(1, colon - 1)).Trim(), colon < 0 ? string.Empty : rest.Substring(colon));
    }

    /// <summary>
    /// For a hole that reaches into a parameter (<c>{user.Id}</c>, <c>{ids[0]}</c>), the reason it is refused and what
    /// to do instead; empty for any other unknown name.
    /// </summary>
    private static string MemberAccessHint(string name, List<IParameterSymbol> parameters, string instead)
    {
        var end = name.IndexOfAny(['.', '[', '(', '?', '!']);
        return end > 0 && parameters.Any(p => p.Name == name.Substring(0, end).TrimStart('@'))
            ? $"; a hole names a whole parameter, not a member or an expression of it: {instead}"
            : string.Empty;
    }

    /// <summary>The parameters a template may name, for a message: <c>id, name</c>, or <c>none</c>.</summary>
    private static string ParameterNames(List<IParameterSymbol> parameters)
        => parameters.Count == 0 ? "none" : string.Join(", ", parameters.Select(static p => p.Name));

    /// <summary>Which CacheKeyWriter method writes a parameter: the one that needs no boxing for its type.</summary>
    private KeyArgumentKind KeyKindOf(ITypeSymbol type)
    {
        if (type.TypeKind == TypeKind.Dynamic)
        {
            return KeyArgumentKind.Dynamic;
        }

        var nullable = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } n ? n.TypeArguments[0] : null;
        var inner = nullable ?? type;
        if (IsSequence(type) || IsMemoryOfElements(inner))
        {
            return KeyArgumentKind.Sequence;
        }

        if (inner.TypeKind == TypeKind.Enum)
        {
            return nullable is null ? KeyArgumentKind.Enum : KeyArgumentKind.NullableEnum;
        }

        // These have overloads of their own (or, for char, a quoted form) that read better in generated code.
        var hasOverload = inner.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_Double
            or SpecialType.System_Boolean or SpecialType.System_Char or SpecialType.System_String
            || KnownTypeSymbols.Is(inner, _known.Guid) || KnownTypeSymbols.Is(inner, _known.DateTime) || KnownTypeSymbols.Is(inner, _known.DateTimeOffset);
        if (inner.IsValueType && KnownTypeSymbols.Implements(inner, _known.ISpanFormattable) && (nullable is not null || !hasOverload)
            && inner.SpecialType != SpecialType.System_Char)
        {
            return nullable is null ? KeyArgumentKind.Formattable : KeyArgumentKind.NullableFormattable;
        }

        return KeyArgumentKind.Value;
    }

    private static bool IsReferenceTuple(INamedTypeSymbol type)
        => type.Name == "Tuple" && type.ContainingNamespace is { Name: "System", ContainingNamespace.IsGlobalNamespace: true };

    private static bool IsEnumerable(INamedTypeSymbol type)
        => type.SpecialType == SpecialType.System_Collections_IEnumerable
            || type.AllInterfaces.Any(static i => i.SpecialType == SpecialType.System_Collections_IEnumerable);

    /// <summary>False for a class or struct whose ToString is <see cref="object"/>'s: its keys would collide.</summary>
    private bool HasValueToString(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        // A delegate writes its type name whatever it points to: every lambda would share one entry. So does a type
        // parameter that only a delegate can fill (where T : Delegate); other type parameters are not judged.
        if (type.TypeKind == TypeKind.Delegate || type.SpecialType is SpecialType.System_Delegate or SpecialType.System_MulticastDelegate
            || (type is ITypeParameterSymbol parameter && OnlyDelegates(parameter)))
        {
            return false;
        }

        if (type.SpecialType != SpecialType.None || type.TypeKind is TypeKind.Enum or TypeKind.Interface or TypeKind.TypeParameter or TypeKind.Array or TypeKind.Dynamic
            || KnownTypeSymbols.Is(type, _known.Guid) || KnownTypeSymbols.Is(type, _known.DateTimeOffset) || KnownTypeSymbols.Is(type, _known.TimeSpan)
            || IsSequence(type)
            || KnownTypeSymbols.Implements(type, _known.IFormattable))
        {
            return true;
        }

        return DeclaresToString(type);
    }

    /// <summary>Whether <paramref name="type"/> or a base class below object overrides ToString().</summary>
    private static bool DeclaresToString(ITypeSymbol type)
    {
        for (var current = type; current is not null && current.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); current = current.BaseType)
        {
            if (current.GetMembers("ToString").OfType<IMethodSymbol>().Any(static m => m.Parameters.Length == 0 && m.IsOverride))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The default key's prefix as a C# expression: a literal <c>"N.Type.Method"</c>, or for generic types one that
    /// puts the type arguments in at run time, so that <c>Repo&lt;int&gt;</c> and <c>Repo&lt;string&gt;</c> never share keys.
    /// An overloaded name carries its parameter types (<see cref="OverloadMark"/>).
    /// </summary>
    private static string PrefixExpression(IMethodSymbol method)
    {
        var types = ContainingChain(method.ContainingType);
        var ns = NamespaceOf(types[0]) is { } name ? name + "." : string.Empty;
        if (types.All(static t => t.TypeParameters.Length == 0) && !method.IsGenericMethod)
        {
            return Literal(ns + string.Join(".", types.Select(static t => t.Name)) + "." + method.Name + OverloadMark(method));
        }

        // The text with a type argument at each null: "Ns.Repo<", T, ">.Find<", TId, ">".
        var parts = new List<(string Text, string? TypeParameter)>();
        var text = new StringBuilder(ns);
        void AppendTypeArguments(IEnumerable<string> typeParameters)
        {
            text.Append('<');
            var first = true;
            foreach (var typeParameter in typeParameters)
            {
                parts.Add((text.ToString() + (first ? string.Empty : ","), typeParameter));
                text.Clear();
                first = false;
            }

            text.Append('>');
        }

        for (var i = 0; i < types.Count; i++)
        {
            text.Append(i == 0 ? string.Empty : ".").Append(types[i].Name);
            if (types[i].TypeParameters.Length > 0)
            {
                AppendTypeArguments(types[i].TypeParameters.Select(static p => p.Name));
            }
        }

        text.Append('.').Append(method.Name);
        if (method.IsGenericMethod)
        {
            // Ns.Type.Echo<System.Int32>: the method's type arguments, written as the containing types' are.
            AppendTypeArguments(method.TypeParameters.Select(static p => Identifier(p.Name)));
        }

        text.Append(OverloadMark(method));
        parts.Add((text.ToString(), null));
        if (method.IsGenericMethod)
        {
            // A generic method's state class makes its prefix once, so it reads as one interpolated string.
            return "$\"" + string.Concat(parts.Select(static p => EscapeLiteral(p.Text).Replace("{", "{{").Replace("}", "}}")
                + (p.TypeParameter is null ? string.Empty : $"{{typeof({p.TypeParameter})}}"))) + "\"";
        }

        return string.Join(" + ", parts
            .SelectMany(static p => p.TypeParameter is null ? [Literal(p.Text)] : new[] { Literal(p.Text), $"typeof({p.TypeParameter}).ToString()" })
            .Where(static p => p != "\"\""));
    }

    /// <summary>
    /// <c>[int,string]</c>, every parameter's type (tokens and ignored ones too, as they tell overloads apart), when the
    /// type declares another method of the same name, cached or not, generic or not; else nothing, so that the keys of
    /// names that are not overloaded stay <c>N.Type.Method(args)</c>. Overloads of cached methods differ in their
    /// parameter types (ref kinds are refused) or in their arity, which the type arguments before the mark show
    /// (<c>M&lt;System.Int32&gt;[int]</c>), so their keys never meet.
    /// </summary>
    private static string OverloadMark(IMethodSymbol method)
    {
        var sameName = method.ContainingType.GetMembers(method.Name).OfType<IMethodSymbol>()
            .Count(static m => m.MethodKind == MethodKind.Ordinary);
        return sameName <= 1
            ? string.Empty
            : "[" + string.Join(",", method.Parameters.Select(static p => p.Type.ToDisplayString(s_overloadFormat))) + "]";
    }
}
