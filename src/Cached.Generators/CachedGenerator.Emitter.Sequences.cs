using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>
/// Sequence results, cached as their items through a <c>CachedMethod</c> of the array: an <c>IEnumerable&lt;T&gt;</c>
/// is copied into an array on a miss (<c>CachedSequence.ToArray</c>), an <c>IAsyncEnumerable&lt;T&gt;</c> is read and
/// replayed by <c>CachedSequence.Replay</c> when the caller enumerates it.
/// </summary>
internal static partial class Emitter
{
    private const string Sequences = Runtime + "CachedSequence.";

    /// <summary>
    /// The call that returns a sequence method's result (an async one's items first go to <c>__items</c>);
    /// <paramref name="call"/> is the body's call, <paramref name="skip"/> the skip rule with the tags argument, if any.
    /// </summary>
    private static string SequenceInvoke(CodeWriter writer, MethodSpec method, SequenceSpec sequence, string key, State state, string call, string skip)
    {
        var signature = method.Signature;
        var field = method.Names.Field;
        var token = TokenArgument(signature);
        if (sequence.IsAsync)
        {
            return $"{Sequences}Replay({field}, {key}, {state.Expression}, static (__state, __ct) => {call}, {skip}, {token})";
        }

        if (signature.ReturnKind == ReturnKind.Sync)
        {
            return $"{field}.Invoke({key}, {state.Expression}, static __state => {Sequences}ToArray({call}), {skip})";
        }

        // Only a miss runs the body, so only a miss pays for the async lambda.
        var body = $"static async (__state, __ct) => {Sequences}ToArray(await {call}.ConfigureAwait(false))";
        var adapter = signature.ReturnKind == ReturnKind.Task ? "AsTask" : "AsValueTask";
        writer.Filled($"{writer.Local($"global::System.Threading.Tasks.ValueTask<{sequence.StoredType}>")} __items = {field}.InvokeAsync({key}, {state.Expression}, {body}, {skip}, {token});");
        return $"{Sequences}{adapter}<{sequence.StoredType}, {signature.ResultType}>(__items)";
    }
}
