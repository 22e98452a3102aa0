namespace Cached.Generators.Model;

/// <summary>What a <see cref="KeyShapeSpec"/> turns a value into before the key writer writes it.</summary>
internal enum KeyShapeKind
{
    /// <summary>
    /// A record whose text is the compiler's: a tuple of the members that text prints (<see cref="KeyShapeSpec.Members"/>),
    /// because that text neither quotes nor escapes (<c>null</c> and <c>""</c> read the same).
    /// </summary>
    Record,

    /// <summary>A <c>KeyValuePair&lt;K, V&gt;</c>: the tuple <c>(key, value)</c>; its own text is <c>[key, value]</c>, unescaped.</summary>
    Pair,

    /// <summary>A tuple one of whose elements needs a shape: a tuple of the elements, each in its shape.</summary>
    Tuple,

    /// <summary>A sequence whose elements need a shape (<see cref="KeyShapeSpec.Parts"/>[0]): the sequence of their shapes.</summary>
    Sequence,

    /// <summary>
    /// A sequence of pairs written as a dictionary, <c>{k:v}</c>: its entries as <c>KeyValuePair&lt;object?, object?&gt;</c>,
    /// key and value (<see cref="KeyShapeSpec.Parts"/>[0] and [1]) each in its shape.
    /// </summary>
    Dictionary,

    /// <summary>An <c>IGrouping&lt;K, E&gt;</c>: the tuple <c>(key, elements)</c>, key and element each in its shape.</summary>
    Grouping,

    /// <summary>
    /// A type met again inside itself: a call of the local function <see cref="KeyShapeSpec.Function"/> that reshapes
    /// it, which the outer occurrence of the type declares.
    /// </summary>
    Recur,
}

/// <summary>
/// How generated code reshapes a value for a default key where the key writer would write it by an ambiguous text: a
/// record whose text is the compiler's, a key-value pair, and any tuple, sequence or dictionary holding one, however
/// deep. The writer then writes tuples, sequences and dictionaries element by element, by its own rules.
/// </summary>
/// <param name="Kind">What the value is turned into.</param>
/// <param name="Parts">
/// The shape of each part, <c>null</c> for a part written as it is: a record's members, a tuple's elements, a pair's
/// key and value, a sequence's element, a dictionary's key and value.
/// </param>
/// <param name="Members">The members read: a record's printed members, a tuple's <c>Item1</c>...; empty for the others.</param>
/// <param name="ExactType">
/// A record that is not sealed: only a value of exactly that type is reshaped (a derived record prints members the
/// declared one does not know), any other is written by its own text.
/// </param>
/// <param name="Function">
/// For a type that recurs inside itself, the local function generated code declares to reshape it (taking
/// <see cref="FunctionType"/>), which its recurrences (<see cref="KeyShapeKind.Recur"/>) call.
/// </param>
/// <param name="FunctionType">The parameter type of <see cref="Function"/>: <c>global::Demo.Tree?</c>.</param>
/// <param name="SkipsDefault">A struct sequence whose default cannot be enumerated (<c>IsDefault</c>): written as <c>null</c>.</param>
internal sealed record KeyShapeSpec(
    KeyShapeKind Kind,
    EquatableArray<KeyShapePart> Parts,
    EquatableArray<string> Members = default,
    string? ExactType = null,
    string? Function = null,
    string? FunctionType = null,
    bool SkipsDefault = false);

/// <summary>One part of a <see cref="KeyShapeSpec"/>: its shape, or none when it is written as it is.</summary>
internal sealed record KeyShapePart(KeyShapeSpec? Shape);
