using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>
/// The text a type argument has in the keys of generic cached methods: <c>typeof(T).ToString()</c>, made once per
/// type (<c>System.Int32</c>, <c>Demo.User</c>, <c>System.Collections.Generic.List`1[System.Int32]</c>), the form the
/// default keys of generic containing types already use. It needs no reflection beyond <c>typeof</c>, so it is
/// trimming- and NativeAOT-safe. Used by generated code.
/// </summary>
/// <typeparam name="T">The type argument.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class TypeName<T>
{
    /// <summary><c>typeof(T).ToString()</c>, computed once.</summary>
    public static string Value { get; } = typeof(T).ToString();
}
