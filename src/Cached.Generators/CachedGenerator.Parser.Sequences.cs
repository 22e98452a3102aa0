using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.Generators;

/// <summary>
/// Sequence results. A lazy sequence would be cached as an iterator that runs the body again on every enumeration,
/// so a [Cached] method returning exactly <c>IEnumerable&lt;T&gt;</c> (sync, Task or ValueTask) or
/// <c>IAsyncEnumerable&lt;T&gt;</c> caches its items, as an array; the shapes whose items cannot be taken once and
/// kept (enumerators, a non-generic IEnumerable, an async stream inside a task, lazy [MultiCached] values) are
/// CACHED020.
/// </summary>
internal sealed partial class Parser
{
    /// <summary>The array a sequence result is cached as (<c>T[]</c>); null for other results.</summary>
    private ITypeSymbol? _storedType;

    /// <summary>
    /// The sequence a [Cached] method's result is (null for any other result), or false with CACHED020 for a result,
    /// or a [MultiCached] value, that is read once and cannot be cached as it is.
    /// </summary>
    private bool ParseSequence(ReturnKind returnKind, out SequenceSpec? sequence)
    {
        sequence = null;
        if (IsInvalidation)
        {
            return true;
        }

        var result = ResultTypeSymbol();
        if (_kind == CachedMethodKind.MultiCached)
        {
            var value = result is INamedTypeSymbol { TypeArguments.Length: 2 } dictionary ? dictionary.TypeArguments[1] : null;
            if (value is not null && (OneShot(value) is not null || IsExactly(value, _known.IEnumerable) || IsExactly(value, _known.IAsyncEnumerable)))
            {
                Report(DiagnosticDescriptors.OneShotSequence, ReturnTypeLocation, MethodName, _method.ReturnType.ToDisplayString(s_readableFormat),
                    $"its values are '{value.ToDisplayString(s_readableFormat)}', which would be cached as iterators, not items: return arrays or lists as values");
                return false;
            }

            return true;
        }

        if (OneShot(result) is { } problem)
        {
            Report(DiagnosticDescriptors.OneShotSequence, ReturnTypeLocation, MethodName, _method.ReturnType.ToDisplayString(s_readableFormat), problem);
            return false;
        }

        var isAsync = IsExactly(result, _known.IAsyncEnumerable);
        if (!isAsync && !IsExactly(result, _known.IEnumerable))
        {
            return true;
        }

        if (isAsync && returnKind != ReturnKind.Sync)
        {
            Report(DiagnosticDescriptors.OneShotSequence, ReturnTypeLocation, MethodName, _method.ReturnType.ToDisplayString(s_readableFormat),
                $"an async stream inside a task cannot be read and replayed: return '{result.ToDisplayString(s_readableFormat)}' itself");
            return false;
        }

        var element = ((INamedTypeSymbol)result).TypeArguments[0];
        // An async stream is always a stream; a null IEnumerable<T>? result stays null in the cache.
        var nullable = !isAsync && result.NullableAnnotation == NullableAnnotation.Annotated;
        _storedType = _semanticModel.Compilation.CreateArrayTypeSymbol(element);
        sequence = new SequenceSpec(isAsync, element.ToDisplayString(s_typeFormat) + "[]" + (nullable ? "?" : string.Empty));
        return true;
    }

    /// <summary>
    /// CACHED034 for an invalidating method whose body would run after its invalidation: one that returns an async
    /// stream, or a sequence or enumerator its implementation makes with <c>yield</c>. Such a body runs when the
    /// caller enumerates the result, after the generated method has returned, so a read in between stores the old
    /// value again and nothing invalidates after the write. A sequence the implementation builds and returns (a list)
    /// is done when it returns, and is not refused.
    /// </summary>
    private void CheckLazyInvalidation(IMethodSymbol? implementation)
    {
        if (!IsInvalidation)
        {
            return;
        }

        var result = _method.ReturnType;
        string? why = null;
        if (IsExactly(result, _known.IAsyncEnumerable) || IsExactly(result, _known.IAsyncEnumerator))
        {
            why = "an async stream, whose body runs as the caller enumerates it";
        }
        else if ((result.SpecialType is SpecialType.System_Collections_IEnumerable or SpecialType.System_Collections_IEnumerator
            || result.OriginalDefinition.SpecialType is SpecialType.System_Collections_Generic_IEnumerable_T or SpecialType.System_Collections_Generic_IEnumerator_T)
            && implementation is not null && IsIterator(implementation))
        {
            why = $"made by the iterator '{implementation.Name}', whose body runs as the caller enumerates it";
        }

        if (why is not null)
        {
            Report(DiagnosticDescriptors.LazyInvalidation, ReturnTypeLocation, MethodName, result.ToDisplayString(s_readableFormat), why);
        }
    }

    /// <summary>
    /// True when a method's body holds <c>yield</c> (outside its local functions and lambdas). The Roslyn this generator
    /// builds against has no <c>IMethodSymbol.IsIterator</c>.
    /// </summary>
    private static bool IsIterator(IMethodSymbol method)
        => method.DeclaringSyntaxReferences.Any(static reference => reference.GetSyntax() is MethodDeclarationSyntax declaration
            && (declaration.Body ?? (SyntaxNode?)declaration.ExpressionBody)?
                .DescendantNodes(static node => node is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax))
                .OfType<YieldStatementSyntax>().Any() == true);

    /// <summary>Why a result type is read once and cannot be cached: an enumerator or a non-generic IEnumerable; else null.</summary>
    private string? OneShot(ITypeSymbol type)
    {
        if (type.SpecialType is SpecialType.System_Collections_IEnumerator
            || type.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerator_T
            || IsExactly(type, _known.IAsyncEnumerator))
        {
            return "an enumerator can be read only once, so there is nothing to cache: return IEnumerable<T>, IAsyncEnumerable<T> or an array";
        }

        return type.SpecialType == SpecialType.System_Collections_IEnumerable
            ? "a non-generic IEnumerable would be cached as an iterator, not its items: return IEnumerable<T> or an array"
            : null;
    }

    /// <summary>True when <paramref name="type"/> is a construction of <paramref name="known"/> itself, not a type that implements it.</summary>
    private static bool IsExactly(ITypeSymbol type, INamedTypeSymbol? known)
        => type is INamedTypeSymbol { IsGenericType: true } && KnownTypeSymbols.Is(type, known);

    /// <summary>True when a SkipCacheWhen parameter of type <paramref name="parameter"/> takes the value: the value's type, or for a sequence (T[]) any type the array converts to.</summary>
    private bool TakesValue(ITypeSymbol parameter, ITypeSymbol? value)
    {
        if (value is null)
        {
            return false;
        }

        if (SymbolEqualityComparer.Default.Equals(parameter, value))
        {
            return true;
        }

        if (_storedType is null || !SymbolEqualityComparer.Default.Equals(value, _storedType))
        {
            return false;
        }

        var conversion = _semanticModel.Compilation.ClassifyCommonConversion(value, parameter);
        return conversion.IsImplicit && (conversion.IsReference || conversion.IsIdentity);
    }
}
