using System.Reflection;

namespace Cached.Tests.Commands;

/// <summary>
/// Calls every public method of a type that takes a key (<c>key</c>, or an item of <c>keys</c>) with a null key, the
/// async ones with a token that is already cancelled, and checks the rule of docs/caches.md: a sync method throws the
/// key's <see cref="ArgumentException"/>, and an async one fails its returned task with it, whatever the token. The
/// sweep finds the methods that look at the token or anything else first, which a caller with a cancelled token would
/// take for a call that was merely cancelled.
/// </summary>
public static class BadKeyCalls
{
    /// <summary>Sweeps the methods of each of <paramref name="surfaces"/> on <paramref name="target"/>, as <see cref="CancelledCalls"/> does.</summary>
    /// <returns>The names of the methods swept.</returns>
    public static async Task<IReadOnlyList<string>> AssertEveryMethodRefusesANullKey(object target, params Type[] surfaces)
    {
        var swept = new List<string>();
        var failures = new List<string>();
        foreach (var surface in surfaces)
        {
            await Sweep(target, surface, swept, failures);
        }

        Assert.That(failures, Is.Empty, string.Join(Environment.NewLine, failures));
        return swept;
    }

    private static async Task Sweep(object target, Type surface, List<string> swept, List<string> failures)
    {
        var cancelled = new CancellationToken(canceled: true);
        foreach (var declared in surface.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            var parameters = declared.GetParameters();
            var keyed = parameters.FirstOrDefault(static p => (p.Name == "key" && p.ParameterType == typeof(string))
                || (p.Name == "keys" && p.ParameterType == typeof(IEnumerable<string>)));
            if (keyed is null
                || parameters.Any(static p => p.ParameterType.IsByRefLike || (p.ParameterType.IsByRef && p.ParameterType.GetElementType()!.IsByRefLike)))
            {
                continue;
            }

            var method = declared.IsGenericMethodDefinition
                ? declared.MakeGenericMethod([.. declared.GetGenericArguments().Select(static _ => typeof(string))])
                : declared;
            var name = $"{surface.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(static p => p.ParameterType.Name))})";
            swept.Add(name);
            var arguments = method.GetParameters()
                .Select(p => p.Position == keyed.Position
                    ? (keyed.Name == "key" ? null : new string?[] { "fine", null })
                    : p.IsOut ? null : CancelledCalls.ArgumentFor(p, cancelled))
                .ToArray();
            var async = method.Name.EndsWith("Async", StringComparison.Ordinal);
            Task task;
            try
            {
                var returned = method.Invoke(target, arguments);
                if (!async)
                {
                    failures.Add($"{name} returned");
                    continue;
                }

                task = CancelledCalls.AsTask(returned);
            }
            catch (TargetInvocationException ex) when (!async && ex.InnerException is ArgumentException refused && refused.ParamName == keyed.Name)
            {
                continue;
            }
            catch (TargetInvocationException ex)
            {
                failures.Add(async
                    ? $"{name} threw {ex.InnerException!.GetType().Name} from the call instead of failing its task"
                    : $"{name} threw {ex.InnerException!.GetType().Name} ({(ex.InnerException as ArgumentException)?.ParamName ?? ex.InnerException.Message}), not the ArgumentException of '{keyed.Name}'");
                continue;
            }

            try
            {
                await task.WaitAsync(TimeSpan.FromSeconds(10));
                failures.Add($"{name}'s task completed");
            }
            catch (ArgumentException refused) when (refused.ParamName == keyed.Name)
            {
            }
            catch (Exception ex)
            {
                failures.Add($"{name}'s task ended with {ex.GetType().Name} ({(ex as ArgumentException)?.ParamName ?? ex.Message}), not the ArgumentException of '{keyed.Name}'");
            }
        }
    }
}
