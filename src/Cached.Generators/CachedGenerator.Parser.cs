using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// Turns an attributed partial method (syntax and symbols) into a plain <see cref="MethodSpec"/> and diagnostics.
/// This file holds the checks every kind shares; keys, options, multi-cached methods and invalidations have files
/// of their own.
/// </summary>
internal sealed partial class Parser
{
    public const string CachedAttribute = "Cached.CachedAttribute";
    public const string MultiCachedAttribute = "Cached.MultiCachedAttribute";
    public const string InvalidateCacheAttribute = "Cached.InvalidateCacheAttribute";
    public const string InvalidateTagsAttribute = "Cached.InvalidateTagsAttribute";

    private static readonly SymbolDisplayFormat s_typeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat s_readableFormat = SymbolDisplayFormat.MinimallyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    // A method as declared, for messages: 'private static Task<User> GetUserCore(long id, CancellationToken ct)'.
    private static readonly SymbolDisplayFormat s_signatureFormat = s_readableFormat
        .WithMemberOptions(SymbolDisplayMemberOptions.IncludeAccessibility | SymbolDisplayMemberOptions.IncludeModifiers
            | SymbolDisplayMemberOptions.IncludeType | SymbolDisplayMemberOptions.IncludeParameters | SymbolDisplayMemberOptions.IncludeRef)
        .WithParameterOptions(SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeParamsRefOut);

    private readonly IMethodSymbol _method;
    private readonly MethodDeclarationSyntax _syntax;
    private readonly AttributeData _attribute;
    private readonly CachedMethodKind _kind;
    private readonly KnownTypeSymbols _known;
    private readonly List<DiagnosticInfo> _diagnostics = [];

    /// <summary>The user's methods the generated file calls (the body, a KeyBuilder, a SkipCacheWhen), by <see cref="CallOf"/>.</summary>
    private readonly List<IMethodSymbol> _called = [];
    private readonly Location _location;
    private readonly AttributeSyntax? _attributeSyntax;
    private readonly SemanticModel _semanticModel;

    private Parser(GeneratorAttributeSyntaxContext context, CachedMethodKind kind)
    {
        _method = (IMethodSymbol)context.TargetSymbol;
        _syntax = (MethodDeclarationSyntax)context.TargetNode;
        _attribute = context.Attributes[0];
        _kind = kind;
        _known = KnownTypeSymbols.For(context.SemanticModel.Compilation);
        _location = _syntax.Identifier.GetLocation();
        _attributeSyntax = _attribute.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax;
        _semanticModel = context.SemanticModel;
    }

    /// <summary>
    /// <c>UserService.GetUser</c>, for messages. A member of a C# 14 extension block is named with the static class
    /// that holds the block: the block's type has no name.
    /// </summary>
    private string MethodName => (IsInExtensionBlock ? _method.ContainingType.ContainingType.Name : _method.ContainingType.Name) + "." + _method.Name;

    /// <summary>
    /// True for a member of a C# 14 <c>extension(...)</c> block, which the Roslyn this generator builds against does not
    /// know: its containing type is the only kind of type C# leaves without a name, nested in a static class.
    /// </summary>
    private bool IsInExtensionBlock => _method.ContainingType is { Name.Length: 0, ContainingType: not null };

    /// <summary>True for the kinds whose method runs its implementation and then invalidates: no key, no options.</summary>
    private bool IsInvalidation => _kind is CachedMethodKind.Invalidate or CachedMethodKind.InvalidateTags;

    /// <summary>CACHED003's end for a [Cached] or [MultiCached] method's parameter.</summary>
    private const string CachedCannotTake = "a cached method cannot take it";

    /// <summary>Why a ref struct cannot be a cached method's parameter or result; an invalidating method keeps no value.</summary>
    private string CannotOutlive => IsInvalidation ? string.Empty : ", which cannot outlive the call";

    /// <summary>
    /// Why an invalidating method cannot take a 'ref', 'out' or 'in' parameter (the generated one is declared and
    /// calls its body without them, and C# refuses them on an async method); a cached method's rule needs no reason.
    /// </summary>
    private string PassedByValue => IsInvalidation ? ", which the generated method would pass on by value (an async one can take no reference at all)" : string.Empty;

    private bool HasErrors
        => _diagnostics.Any(static d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CachedMethodKind kind, CancellationToken cancellationToken)
    {
        var parser = new Parser(context, kind);
        var spec = parser.ParseMethod(cancellationToken);
        return new ParseResult(parser.HasErrors ? null : spec, parser._diagnostics.ToEquatableArray());
    }

    private MethodSpec? ParseMethod(CancellationToken cancellationToken)
    {
        // One method, one body: a method with both [InvalidateCache] and [InvalidateTags] is parsed, and reported on,
        // as [InvalidateCache], whose body then invalidates the tags too.
        if (_kind == CachedMethodKind.InvalidateTags && HasAttribute(_method, _known.InvalidateCacheAttribute))
        {
            return null;
        }

        if (!CheckOneBody())
        {
            return null;
        }

        if (LibraryNamespace.Problem(_semanticModel.Compilation) is { } hidden)
        {
            Report(DiagnosticDescriptors.LibraryNamespaceHidden, _location, MethodName, hidden);
            return null;
        }

        if (!CheckExtensionBlock() || !CheckPartial() || !CheckContainingType() || !CheckGeneric() || !CheckParameters())
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var (returnKind, resultType) = ParseReturn();
        if (returnKind is null || !ParseSequence(returnKind.Value, out var sequence))
        {
            return null;
        }

        var tagsAttribute = _kind switch
        {
            CachedMethodKind.InvalidateTags => _attribute,
            CachedMethodKind.Invalidate => AttributeOf(_method, _known.InvalidateTagsAttribute),
            _ => null,
        };
        var implementation = NamedString("Implementation") ?? (tagsAttribute is null ? null : NamedString(tagsAttribute, "Implementation")) ?? SimpleName + "Core";
        var body = CheckImplementation(implementation);
        CheckLazyInvalidation(body);
        if (_method.ExplicitInterfaceImplementations.Length > 0)
        {
            // C# refuses a partial explicit implementation (CS0754): there is no body to write, and the compiler says why.
            return null;
        }

        var options = ParseOptions();
        var parameters = _method.Parameters.Select(ToParameterSpec).ToEquatableArray();
        var names = NamesOf(_method);
        var key = _kind == CachedMethodKind.Cached ? ParseKey(_method, _attribute, report: true) : null;
        string? keyPrefix = null;
        if (key is DefaultKeySpec defaultKey && _method.IsGenericMethod)
        {
            // A generic method's prefix names its type arguments: its state class makes it once per instantiation.
            keyPrefix = defaultKey.Prefix;
            key = defaultKey with { Prefix = names.StateClass + "." + names.StatePrefix };
        }

        var multi = _kind == CachedMethodKind.MultiCached ? ParseMulti(resultType!) : null;
        var skip = IsInvalidation ? null : ParseSkipCacheWhen(multi);
        var invalidations = _kind == CachedMethodKind.Invalidate ? ParseInvalidations() : EquatableArray<InvalidationSpec>.Empty;
        var tags = IsInvalidation ? null : ParseEntryTags(multi, sequence);
        var tagInvalidation = tagsAttribute is null ? null : ParseTagInvalidation(tagsAttribute);
        // An async body gets the runtime's token; an invalidating method passes its parameters as they are.
        var tokenFromRuntime = !IsInvalidation && (returnKind is ReturnKind.Task or ReturnKind.ValueTask || sequence is { IsAsync: true });
        var implementationCall = body is null ? null : ImplementationCall(body, implementation, names, multi, tokenFromRuntime);

        if (HasErrors || implementationCall is not { } calls)
        {
            return null;
        }

        return new MethodSpec
        {
            Kind = _kind,
            ContainingType = ContainingTypeOf(_method.ContainingType),
            Signature = new SignatureSpec
            {
                Name = _method.Name,
                Modifiers = ModifiersOf(_syntax),
                IsStatic = _method.IsStatic,
                ReturnType = _method.ReturnType.ToDisplayString(s_typeFormat),
                ReturnKind = returnKind.Value,
                ResultType = resultType ?? string.Empty,
                Parameters = parameters,
                TypeParameters = TypeParametersOf(keyPrefix),
            },
            Implementation = calls.Call,
            BaseImplementation = calls.Base,
            IsObsoleteForwarder = calls.Base is not null && IsObsoleteAsError(body!),
            Names = names,
            Options = options,
            Key = key,
            SkipWhen = skip,
            Multi = calls.Multi,
            Invalidations = invalidations,
            Sequence = sequence,
            Tags = tags,
            TagInvalidation = tagInvalidation,
            ExperimentalIds = ExperimentalIds(body, [NamedType("Cache"), NamedType("Serializer"), .. NamedTypes("Plugins")]),
            VarNamesAType = VarNamesAType(),
            IsObsolete = _method.GetAttributes().Any(static a => IsAttribute(a, "ObsoleteAttribute", "System")),
        };
    }

    private void Report(DiagnosticDescriptor descriptor, Location location, params string[] arguments)
        => _diagnostics.Add(new DiagnosticInfo(descriptor, location, arguments.ToEquatableArray()));

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

        Report(DiagnosticDescriptors.MethodNotPartial, _location, MethodName, "not partial: " + string.Join(", ", notPartial));
        return false;
    }

    /// <summary>False, reported, when the method's type cannot take a generated half that works.</summary>
    private bool CheckContainingType()
    {
        string? problem = null;
        for (var type = _method.ContainingType; type is not null && problem is null; type = type.ContainingType)
        {
            if (type.IsFileLocal)
            {
                problem = $"the file-local type '{type.Name}': its generated half is written in a file of its own, which cannot see it; declare the type without 'file'";
            }
        }

        if (problem is null && !_method.IsStatic && _method.ContainingType.IsRefLikeType)
        {
            problem = $"the ref struct '{_method.ContainingType.Name}': the body is called later, with the instance kept, which a ref struct cannot outlive; make the method static or the type a plain struct";
        }

        if (problem is null)
        {
            return true;
        }

        Report(DiagnosticDescriptors.UnsupportedContainingType, _location, MethodName, problem);
        return false;
    }

    private bool CheckParameters()
    {
        var ok = true;
        var tokens = 0;
        foreach (var parameter in _method.Parameters)
        {
            // One token cancels a call: the runtime waits, and a flight's body runs, under it. A second one would be
            // handed the same token in the body and cancel nothing.
            var secondToken = IsCancellationToken(parameter.Type) && ++tokens > 1;
            // Every name generated code declares in the method starts with two underscores (__key, __cached_X, __r_x),
            // which C# keeps for the implementation: a parameter of such a name could hide one, and the build would
            // fail inside the generated file with no word of why.
            var problem = secondToken ? "a second CancellationToken, and " + (IsInvalidation ? "the generated method waits for its invalidation under one token" : "a cached call is cancelled by one token") + " (combine them with CancellationTokenSource.CreateLinkedTokenSource before the call)"
                : parameter.Name.StartsWith("__", System.StringComparison.Ordinal) ? "named with two leading underscores, which the generated code keeps for its own names (__key, __cached_" + _method.Name + "): rename it"
                : parameter.RefKind switch
                {
                    RefKind.Ref => "a 'ref' parameter" + PassedByValue,
                    RefKind.Out => "an 'out' parameter" + PassedByValue,
                    RefKind.In => "an 'in' parameter" + PassedByValue,
                    RefKind.RefReadOnlyParameter => "a 'ref readonly' parameter" + PassedByValue,
                    _ when parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol => "a pointer",
                    _ when parameter.Type.IsRefLikeType => "a ref struct" + CannotOutlive,
                    // The containing type's: the method's own is CACHED015, reported before.
                    _ when parameter.Type is ITypeParameterSymbol { AllowsRefLikeType: true } => $"a '{parameter.Type.Name}', a type parameter that allows ref struct{CannotOutlive} (remove 'allows ref struct' from '{parameter.Type.ContainingSymbol.ToDisplayString(s_readableFormat)}')",
                    _ => null,
                };
            if (problem is not null)
            {
                Report(DiagnosticDescriptors.UnsupportedParameter, ParameterLocation(parameter), parameter.Name, MethodName, problem, IsInvalidation ? "an invalidating method cannot take it" : CachedCannotTake);
                ok = false;
            }
        }

        foreach (var typeParameter in _method.TypeParameters.Where(static t => t.Name.StartsWith("__", System.StringComparison.Ordinal)))
        {
            // A local of the generated body (__key) named like it is CS0412 there.
            Report(DiagnosticDescriptors.UnsupportedParameter, typeParameter.Locations.FirstOrDefault() ?? _location, typeParameter.Name, MethodName,
                "a type parameter named with two leading underscores, which the generated code keeps for its own names (__key, __cached_" + _method.Name + ")", "rename it");
            ok = false;
        }

        return ok;
    }

    private (ReturnKind? Kind, string? ResultType) ParseReturn()
    {
        var type = _method.ReturnType;
        if (type is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named)
        {
            if (KnownTypeSymbols.Is(named, _known.TaskOfT))
            {
                return (ReturnKind.Task, named.TypeArguments[0].ToDisplayString(s_typeFormat));
            }

            if (KnownTypeSymbols.Is(named, _known.ValueTaskOfT))
            {
                return (ReturnKind.ValueTask, named.TypeArguments[0].ToDisplayString(s_typeFormat));
            }
        }

        var shape = _method.ReturnsByRef ? "by 'ref'"
            : _method.ReturnsByRefReadonly ? "by 'ref readonly'"
            : type is IPointerTypeSymbol or IFunctionPointerTypeSymbol ? "a pointer"
            : type.IsRefLikeType ? $"the ref struct '{type.ToDisplayString(s_readableFormat)}'{CannotOutlive}"
            : type is ITypeParameterSymbol { AllowsRefLikeType: true } ? $"'{type.Name}', a type parameter that allows ref struct{CannotOutlive} (remove 'allows ref struct' from '{type.ContainingSymbol.ToDisplayString(s_readableFormat)}')"
            : null;
        var why = IsInvalidation
            ? "an invalidating method returns its body's result once it has invalidated, holding it meanwhile as a plain value: return a value (a copy, an array or ReadOnlyMemory<T> instead of a span)"
            : "a cached method returns a value it can keep for another call";
        if (shape is null && IsOtherAwaitable(type))
        {
            (shape, why) = IsInvalidation
                ? ($"the awaitable '{type.ToDisplayString(s_readableFormat)}', which would not be awaited, so the invalidation would run before the work it stands for: return Task, ValueTask, Task<T> or ValueTask<T>", "an invalidating method invalidates once its body's work is done")
                : ($"the awaitable '{type.ToDisplayString(s_readableFormat)}', which would be kept unawaited (a faulted one replayed to every caller): return Task<T> or ValueTask<T>", why);
        }

        if (shape is not null)
        {
            Report(DiagnosticDescriptors.UnsupportedReturnShape, ReturnTypeLocation, MethodName, shape, why);
            return (null, null);
        }

        var plain = type.SpecialType == SpecialType.System_Void ? ReturnKind.Void
            : KnownTypeSymbols.Is(type, _known.Task) ? ReturnKind.PlainTask
            : KnownTypeSymbols.Is(type, _known.ValueTask) ? ReturnKind.PlainValueTask
            : (ReturnKind?)null;
        if (plain is null)
        {
            return (ReturnKind.Sync, type.ToDisplayString(s_typeFormat));
        }

        if (IsInvalidation)
        {
            return (plain, null);
        }

        Report(DiagnosticDescriptors.UnsupportedReturn, ReturnTypeLocation, MethodName, type.ToDisplayString(s_readableFormat));
        return (null, null);
    }

    /// <summary>
    /// A type with an instance <c>GetAwaiter()</c> other than Task and ValueTask: its result is taken for a value, and
    /// neither the cache nor an invalidation would wait for the work it stands for.
    /// </summary>
    private bool IsOtherAwaitable(ITypeSymbol type)
    {
        if (KnownTypeSymbols.Is(type, _known.Task) || KnownTypeSymbols.Is(type, _known.ValueTask))
        {
            return false;
        }

        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.GetMembers("GetAwaiter").OfType<IMethodSymbol>().Any(static m => !m.IsStatic && m.Parameters.Length == 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The result type as a symbol: the <c>T</c> of <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c>, else the return type.</summary>
    private ITypeSymbol ResultTypeSymbol()
        => _method.ReturnType is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } named
            && (KnownTypeSymbols.Is(named, _known.TaskOfT) || KnownTypeSymbols.Is(named, _known.ValueTaskOfT))
            ? named.TypeArguments[0]
            : _method.ReturnType;

    private ParameterSpec ToParameterSpec(IParameterSymbol parameter)
    {
        var shape = KeyShape(parameter.Type, nested: false);
        return new(
            Identifier(parameter.Name),
            parameter.Type.ToDisplayString(s_typeFormat),
            ParameterModifiers(parameter),
            IsCancellationToken(parameter.Type),
            shape is null ? KeyKindOf(parameter.Type) : KeyArgumentKind.Shaped,
            shape);
    }

    /// <summary>
    /// <c>params </c>, or <c>this </c> on an extension method's receiver: both parts of a partial method must say it
    /// (CS0755 otherwise).
    /// </summary>
    private static string ParameterModifiers(IParameterSymbol parameter)
        => parameter.IsParams ? "params "
            : parameter.Ordinal == 0 && parameter.ContainingSymbol is IMethodSymbol { IsExtensionMethod: true } ? "this "
            : string.Empty;

    /// <summary>A <see cref="System.Threading.CancellationToken"/>, or a nullable one: never part of a key.</summary>
    private bool IsCancellationToken(ITypeSymbol type)
        => KnownTypeSymbols.Is(type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable ? nullable.TypeArguments[0] : type, _known.CancellationToken);

    private static bool HasAttribute(ISymbol symbol, INamedTypeSymbol? attribute) => AttributeOf(symbol, attribute) is not null;

    private static AttributeData? AttributeOf(ISymbol symbol, INamedTypeSymbol? attribute)
        => symbol.GetAttributes().FirstOrDefault(a => KnownTypeSymbols.Is(a.AttributeClass, attribute));
}
