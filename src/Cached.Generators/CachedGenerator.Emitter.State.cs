using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Cached.Generators.Model;

namespace Cached.Generators;

internal static partial class Emitter
{
    /// <summary>
    /// The instance and arguments a static lambda needs, passed without a closure: nothing, the single element
    /// itself, or a value tuple whose elements are named after the parameters, <c>(self: this, id)</c>, so the lambda
    /// reads <c>__state.self.GetUserCore(__state.id)</c>. A tuple is a struct, so nothing is boxed or allocated.
    /// </summary>
    private sealed class State
    {
        /// <summary>The element that holds <c>this</c>.</summary>
        public const string Instance = "this";

        private const string InstanceName = "self";

        // Names a tuple element cannot take (CS8126), nor infer from a parameter of that name.
        private static readonly HashSet<string> s_reservedNames = new(System.StringComparer.Ordinal)
        {
            "CompareTo", "Deconstruct", "Equals", "GetHashCode", "Rest", "ToString",
        };

        private readonly List<(string Value, string InTuple, string Access)> _elements;

        private State(List<(string Value, string InTuple, string Access)> elements)
        {
            _elements = elements;
        }

        public string Expression => _elements.Count switch
        {
            0 => "(object?)null",
            1 => _elements[0].Value,
            _ => "(" + string.Join(", ", _elements.Select(static e => e.InTuple)) + ")",
        };

        public static State Of(SignatureSpec signature, bool excludeTokens)
        {
            var names = new List<string>();
            if (!signature.IsStatic)
            {
                names.Add(Instance);
            }

            names.AddRange(signature.Parameters.Where(p => !(excludeTokens && p.IsCancellationToken)).Select(static p => p.Name));
            var elements = new List<(string Value, string InTuple, string Access)>();
            for (var i = 0; i < names.Count; i++)
            {
                var name = names[i];
                var position = "Item" + (i + 1).ToString(CultureInfo.InvariantCulture);
                if (name == Instance)
                {
                    elements.Add(("this", $"{InstanceName}: this", InstanceName));
                    continue;
                }

                // A parameter's element takes its name by inference; a name the tuple cannot take (or that the
                // instance took) leaves the element unnamed, read by position.
                var bare = name.TrimStart('@');
                var named = !s_reservedNames.Contains(bare)
                    && !(bare.StartsWith("Item", System.StringComparison.Ordinal) && bare != position)
                    && !(bare == InstanceName && !signature.IsStatic);
                elements.Add((name, name, named ? name : position));
            }

            return new State(elements);
        }

        /// <summary>How the lambda reads an element: <see cref="Instance"/> or a parameter name.</summary>
        public string Access(string element)
        {
            if (_elements.Count == 1)
            {
                return "__state";
            }

            var index = element == Instance ? 0 : _elements.FindIndex(e => e.Value == element);
            return "__state." + _elements[index].Access;
        }
    }
}
