using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

/// <summary>
/// The code that reshapes a key value whose own text is ambiguous (see <see cref="KeyShapeSpec"/>) into tuples,
/// sequences and dictionary entries the key writer writes element by element.
/// </summary>
internal static partial class Emitter
{
    /// <summary>Declares the local functions a key's reshaping calls, before the statement that calls them.</summary>
    private static void EmitShapeFunctions(CodeWriter writer, KeyShapeWriter shapes)
    {
        foreach (var function in shapes.Functions)
        {
            writer.Filled(function);
        }
    }

    /// <summary>
    /// <c>(a, b)</c>: the parts as one tuple. One part is a one-element tuple too, of <c>object?</c> (a <c>dynamic</c>
    /// member cannot infer it): <c>(null)</c> for a record holding null, where no record is <c>null</c>.
    /// </summary>
    private static string TupleOf(string[] parts)
        => parts.Length == 1 ? $"global::System.ValueTuple.Create<object?>({parts[0]})" : $"({string.Join(", ", parts)})";

    /// <summary>
    /// Writes the reshaping expressions of one key, and the local functions they call for types that recur inside
    /// themselves, each declared once however many parameters meet it.
    /// </summary>
    private sealed class KeyShapeWriter
    {
        private readonly Dictionary<string, string?> _functions = new();
        private readonly List<string> _order = [];

        /// <summary>The local function declarations, in the order first met: <c>static object? __shape_Tree_x(global::Demo.Tree? v) => ...;</c></summary>
        public IEnumerable<string> Functions => _order.Select(name => _functions[name]!);

        /// <summary>
        /// The expression, of type <c>object?</c>, that reshapes <paramref name="value"/> as <paramref name="shape"/>
        /// says: <c>o is { } __r_o ? (object?)(__r_o.A, __r_o.B) : null</c>. Its pattern variables and lambda parameters
        /// are named after <paramref name="name"/> (the parameter's), the outermost <c>__r_name</c>, the ones inside it
        /// <c>__sN_name</c>, so that none meets another in one key's statement.
        /// </summary>
        public string Reshaped(KeyShapeSpec shape, string value, string name)
        {
            var next = 0;
            return Reshape(shape, value, "__r_" + name, name, ref next);
        }

        private string Reshape(KeyShapeSpec shape, string value, string local, string name, ref int next)
        {
            if (shape.Kind == KeyShapeKind.Recur)
            {
                return $"{shape.Function}({value})";
            }

            if (shape.Function is not { } function)
            {
                return Body(shape, value, local, name, ref next);
            }

            Declare(shape, function);
            return $"{function}({value})";
        }

        /// <summary>
        /// <c>static object? __shape_Tree_x(global::Demo.Tree? __shape_Tree_x_v) => ...;</c>, its names drawn from its
        /// own, so that they meet none of the method's. Marked declared before its body is written, which calls it.
        /// </summary>
        private void Declare(KeyShapeSpec shape, string function)
        {
            if (_functions.ContainsKey(function))
            {
                return;
            }

            _functions[function] = null;
            _order.Add(function);
            var parameter = function + "_v";
            var next = 0;
            var body = Body(shape, parameter, "__r" + function, function, ref next);
            _functions[function] = $"static object? {function}({shape.FunctionType} {parameter}) => {body};";
        }

        private string Body(KeyShapeSpec shape, string value, string local, string name, ref int next)
        {
            switch (shape.Kind)
            {
                case KeyShapeKind.Record:
                case KeyShapeKind.Pair:
                case KeyShapeKind.Tuple:
                    var members = shape.Kind == KeyShapeKind.Pair ? new[] { "Key", "Value" } : shape.Members.ToArray();
                    var parts = new string[members.Length];
                    for (var i = 0; i < parts.Length; i++)
                    {
                        parts[i] = Part(shape.Parts[i], $"{local}.{members[i]}", name, ref next);
                    }

                    var tuple = TupleOf(parts);
                    return shape.ExactType is { } exact
                        ? $"{value} is {{ }} {local} && {local}.GetType() == typeof({exact}) ? (object?){tuple} : {value}"
                        : $"{value} is {{ }} {local} ? (object?){tuple} : null";
                case KeyShapeKind.Grouping:
                    // (key, elements): the elements as they are when they need no shape, the writer writes them in turn.
                    var key = Part(shape.Parts[0], local + ".Key", name, ref next);
                    var elements = shape.Parts[1].Shape is null ? $"(object?){local}" : Elements(shape.Parts[1], local, name, ref next);
                    return $"{value} is {{ }} {local} ? (object?)({key}, {elements}) : null";
                default:
                    var test = shape.SkipsDefault ? "{ IsDefault: false }" : "{ }";
                    var selected = shape.Kind == KeyShapeKind.Dictionary ? Entries(shape, local, name, ref next) : Elements(shape.Parts[0], local, name, ref next);
                    return $"{value} is {test} {local} ? {selected} : null";
            }
        }

        /// <summary><c>(object?)Enumerable.Select(s, static e => (object?)(...))</c>: the elements of <paramref name="sequence"/>, each reshaped.</summary>
        private string Elements(KeyShapePart element, string sequence, string name, ref int next)
        {
            var item = $"__s{++next}_{name}";
            return $"(object?)global::System.Linq.Enumerable.Select({sequence}, static {item} => (object?){Part(element, item, name, ref next)})";
        }

        /// <summary>The entries of a dictionary, as <c>KeyValuePair&lt;object?, object?&gt;</c> the writer writes as <c>{k:v}</c>.</summary>
        private string Entries(KeyShapeSpec shape, string dictionary, string name, ref int next)
        {
            var entry = $"__s{++next}_{name}";
            var key = Part(shape.Parts[0], entry + ".Key", name, ref next);
            var value = Part(shape.Parts[1], entry + ".Value", name, ref next);
            return $"(object?)global::System.Linq.Enumerable.Select({dictionary}, static {entry} => new global::System.Collections.Generic.KeyValuePair<object?, object?>({key}, {value}))";
        }

        /// <summary>A part as it is (<c>r.A</c>), or reshaped in parentheses, its pattern variable numbered next.</summary>
        private string Part(KeyShapePart part, string value, string name, ref int next)
            => part.Shape is { } shape ? $"({Reshape(shape, value, $"__s{++next}_{name}", name, ref next)})" : value;
    }
}
