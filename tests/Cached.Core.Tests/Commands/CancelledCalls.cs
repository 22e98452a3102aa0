using System.Reflection;

namespace Cached.Tests.Commands;

/// <summary>
/// Calls every public async method of a type with a token that is already cancelled and valid arguments, and checks
/// what .NET's own async APIs do: the call returns, and the task it returns is cancelled. A cancellation thrown from
/// the call itself escapes code that starts several calls before awaiting them (<c>Task.WhenAll</c>).
/// </summary>
public static class CancelledCalls
{
    /// <summary>
    /// Sweeps the methods of <paramref name="surface"/> on <paramref name="target"/> whose name ends in <c>Async</c> and
    /// which take a <see cref="CancellationToken"/>; generic ones are closed over <see cref="string"/>.
    /// </summary>
    /// <param name="target">The object whose methods are called.</param>
    /// <param name="surface">The type whose public methods are swept (a class or an interface of the target).</param>
    /// <param name="arguments">Arguments of types this sweep does not know how to make, by type.</param>
    /// <returns>The names of the methods swept, so that a caller can check the sweep reached what it meant to.</returns>
    public static async Task<IReadOnlyList<string>> AssertEveryAsyncMethodReturnsACancelledTask(object target, Type surface, IReadOnlyDictionary<Type, object>? arguments = null)
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        var swept = new List<string>();
        var failures = new List<string>();
        foreach (var declared in surface.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            // Reflection cannot pass a span or an interpolated-string handler (HybridCache's key overloads of those kinds):
            // they forward to the string ones.
            if (!declared.Name.EndsWith("Async", StringComparison.Ordinal)
                || !declared.GetParameters().Any(static p => p.ParameterType == typeof(CancellationToken))
                || declared.GetParameters().Any(static p => p.ParameterType.IsByRefLike || (p.ParameterType.IsByRef && p.ParameterType.GetElementType()!.IsByRefLike)))
            {
                continue;
            }

            var method = declared.IsGenericMethodDefinition
                ? declared.MakeGenericMethod([.. declared.GetGenericArguments().Select(static _ => typeof(string))])
                : declared;
            var name = Describe(method);
            swept.Add(name);
            object? returned;
            try
            {
                returned = method.Invoke(target, [.. method.GetParameters().Select(p => arguments?.GetValueOrDefault(p.ParameterType) ?? ArgumentFor(p, source.Token))]);
            }
            catch (TargetInvocationException ex)
            {
                failures.Add($"{name} threw {ex.InnerException!.GetType().Name} from the call instead of returning a cancelled task");
                continue;
            }

            var task = AsTask(returned);
            try
            {
                await task.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (OperationCanceledException) when (task.IsCanceled)
            {
                continue;
            }
            catch (Exception ex)
            {
                failures.Add($"{name}'s task ended with {ex.GetType().Name}: {ex.Message}");
                continue;
            }

            failures.Add($"{name}'s task completed instead of being cancelled");
        }

        Assert.That(failures, Is.Empty, string.Join(Environment.NewLine, failures));
        return swept;
    }

    private static string Describe(MethodInfo method)
        => $"{method.Name}({string.Join(", ", method.GetParameters().Select(static p => p.ParameterType.Name))})";

    internal static Task AsTask(object? returned) => returned switch
    {
        Task task => task,
        ValueTask valueTask => valueTask.AsTask(),
        not null when returned.GetType().IsGenericType && returned.GetType().GetGenericTypeDefinition() == typeof(ValueTask<>)
            => (Task)returned.GetType().GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(returned, null)!,
        _ => throw new InvalidOperationException($"Not a task: {returned?.GetType().Name ?? "null"}"),
    };

    /// <summary>A valid argument for each parameter kind the async surfaces take; a new kind fails loudly.</summary>
    internal static object? ArgumentFor(ParameterInfo parameter, CancellationToken cancelled)
    {
        var type = parameter.ParameterType;
        if (type == typeof(CancellationToken))
        {
            return cancelled;
        }

        if (type == typeof(string))
        {
            return parameter.Name switch
            {
                "command" => "get",
                "token" => "owner",
                "namespace" => null,
                _ => "cancelled-call",
            };
        }

        if (type == typeof(long))
        {
            return 1L;
        }

        if (type == typeof(TimeSpan) || type == typeof(TimeSpan?))
        {
            return TimeSpan.FromMinutes(1);
        }

        if (type == typeof(IEnumerable<string>))
        {
            return new[] { "cancelled-call" };
        }

        if (type == typeof(IEnumerable<KeyValuePair<string, string>>))
        {
            return new[] { KeyValuePair.Create("cancelled-call", "value") };
        }

        if (type == typeof(object?[]))
        {
            return new object?[] { "cancelled-call" };
        }

        if (type == typeof(Func<CancellationToken, ValueTask<string>>))
        {
            return (Func<CancellationToken, ValueTask<string>>)(static _ => ValueTask.FromResult("made"));
        }

        if (type == typeof(Func<string, CancellationToken, ValueTask<string>>))
        {
            return (Func<string, CancellationToken, ValueTask<string>>)(static (_, _) => ValueTask.FromResult("made"));
        }

        if (type == typeof(Func<CancellationToken, string>))
        {
            return (Func<CancellationToken, string>)(static _ => "made");
        }

        if (type == typeof(Func<string, CancellationToken, string>))
        {
            return (Func<string, CancellationToken, string>)(static (_, _) => "made");
        }

        if (type == typeof(byte[]))
        {
            return new byte[] { 1, 2, 3 };
        }

        if (parameter.HasDefaultValue)
        {
            // Optional settings (serializer, options, a default value).
            return parameter.DefaultValue;
        }

        if (type.IsClass && !type.IsAbstract && type.GetConstructor(Type.EmptyTypes) is { } constructor)
        {
            // Required options objects (DistributedCacheEntryOptions): their defaults.
            return constructor.Invoke(null);
        }

        throw new NotSupportedException($"No argument for parameter '{parameter.Name}' of type {type}");
    }
}
