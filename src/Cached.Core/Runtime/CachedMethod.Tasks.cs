using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cached.Runtime;

/// <summary>The <see cref="Task{TResult}"/> of a <c>Task</c>-returning cached method.</summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>The last completed task handed out, so that hits of the same value share it.</summary>
    private Task<TResult>? _lastTask;

    /// <summary>
    /// The task a <c>Task</c>-returning method returns for <paramref name="pending"/>. A call that completed at once
    /// with the same value as the last one (the same reference, or the same bits of a value without references) gets
    /// that call's completed task again, so a hit allocates nothing; any other call gets a task of its own.
    /// </summary>
    /// <remarks>A completed task is immutable, so sharing one between callers is safe, as the runtime does for its own cached tasks.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public Task<TResult> AsTask(ValueTask<TResult> pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            return pending.AsTask();
        }

        var value = pending.Result;
        if (Volatile.Read(ref _lastTask) is { } last && IsSameValue(last.Result, value))
        {
            return last;
        }

        var task = Task.FromResult(value);
        Volatile.Write(ref _lastTask, task);
        return task;
    }

    /// <summary>
    /// True when <paramref name="value"/> cannot be told apart from <paramref name="last"/>: the same object, or the
    /// same bits of a struct without references. A struct with references never counts, as equal-looking copies may
    /// hold different objects.
    /// </summary>
    private static bool IsSameValue(TResult last, TResult value)
    {
        if (!typeof(TResult).IsValueType)
        {
            return ReferenceEquals(last, value);
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<TResult>())
        {
            return false;
        }

        var size = Unsafe.SizeOf<TResult>();
        return MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<TResult, byte>(ref last), size)
            .SequenceEqual(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<TResult, byte>(ref value), size));
    }
}
