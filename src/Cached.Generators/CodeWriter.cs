using System.Collections.Generic;
using System.Text;

namespace Cached.Generators;

/// <summary>
/// An indented writer for generated code that keeps lines within <see cref="MaxLineLength"/>: a statement too long
/// for one line is filled, broken after the last comma that fits and continued one level deeper, so that generated
/// code takes as few lines as it reads well in (every line the compiler reads is build time a user pays for).
/// </summary>
internal sealed class CodeWriter
{
    public const int MaxLineLength = 120;
    private const int IndentSize = 4;

    private readonly StringBuilder _text = new();
    private int _depth;

    /// <summary>Whether locals name their types, where <c>var</c> would name a user's type of that name.</summary>
    public bool NamesLocalTypes { get; init; }

    /// <summary>
    /// Whether the method being written is <c>[Obsolete]</c>: the members written for it beside it (its state, key and
    /// tags methods) are marked so too, since they name its types outside it, where an <c>[Obsolete(error: true)]</c>
    /// type would not build (CS0619, which no pragma lifts).
    /// </summary>
    public bool Obsolete { get; set; }

    /// <summary>How a local of <paramref name="type"/> is declared: <c>var</c>, or the type where <see cref="NamesLocalTypes"/>.</summary>
    public string Local(string type) => NamesLocalTypes ? type : "var";

    /// <summary>Writes one line at the current depth; an empty line has no indentation.</summary>
    public void Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _depth * IndentSize);
        }

        _text.Append(line).Append('\n');
    }

    /// <summary>Writes <c>{</c> and goes one level deeper.</summary>
    public void Open()
    {
        Line("{");
        _depth++;
    }

    /// <summary>Comes back one level and writes <paramref name="closing"/>.</summary>
    public void Close(string closing = "}")
    {
        _depth--;
        Line(closing);
    }

    /// <summary>
    /// Writes a statement or declaration on as few lines as fit: each line ends at the last place to break (see
    /// <see cref="Breaks"/>) that keeps it within <see cref="MaxLineLength"/>, and the rest continues one level deeper. A lambda's parameter list and
    /// literals are never broken; a piece with no place to break is written whole, however long.
    /// </summary>
    public void Filled(string statement)
    {
        // Most statements fit on their line: their places to break are looked for only when one does not.
        List<(int Index, bool TopLevel)>? breaks = null;
        var start = 0;
        var continuation = 0;
        while (true)
        {
            var width = MaxLineLength - ((_depth + continuation) * IndentSize);
            if (statement.Length - start <= width)
            {
                break;
            }

            // The last place that fits; but a top-level one (the `=` of a declaration, before an expression body)
            // wins when the rest then fits on one line: `x =` / `new(...)` reads better than a break inside new(...).
            var cut = -1;
            var preferred = -1;
            var restWidth = width - (continuation == 0 ? IndentSize : 0);
            breaks ??= Breaks(statement);
            foreach (var (index, topLevel) in breaks)
            {
                if (index > start && index - start < width)
                {
                    cut = index;
                    preferred = topLevel && statement.Length - index - 1 <= restWidth ? index : preferred;
                }
            }

            cut = preferred >= 0 ? preferred : cut;

            if (cut < 0)
            {
                break;
            }

            Indented(statement.Substring(start, cut + 1 - start).Trim(), continuation);
            start = cut + 1;
            continuation = 1;
        }

        Indented(statement.Substring(start).Trim(), continuation);
    }

    /// <summary><c>declaration => body;</c>, filled like any statement.</summary>
    public void ExpressionBodied(string declaration, string body) => Filled($"{declaration} => {body};");

    private void Indented(string line, int extra)
    {
        _depth += extra;
        Line(line);
        _depth -= extra;
    }

    /// <summary>
    /// The places <paramref name="text"/> may break after: the <c>(</c> or a comma of an argument, parameter, element
    /// or type argument list (never of a lambda's parameters, never inside a literal), a lambda's <c>=&gt;</c>, the <c>=</c> of a
    /// declaration, the space before the <c>=&gt;</c> of an expression body or a <c>where</c> clause, or another space between top-level words
    /// (such as a declaration's type and name).
    /// </summary>
    private static List<(int Index, bool TopLevel)> Breaks(string text)
    {
        var breaks = new List<(int Index, bool TopLevel)>();
        var open = new Stack<int>();
        var lambdaParameters = LambdaParameterLists(text);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var spaced = i > 0 && text[i - 1] == ' ' && i + 1 < text.Length;
            if (c is '"' or '\'')
            {
                i = EndOfLiteral(text, i);
            }
            else if (c is '(' or '[' or '{' || (c == '<' && i > 0 && IsNameChar(text[i - 1])))
            {
                open.Push(i);
                if (c is '(' or '<' && i + 1 < text.Length && text[i + 1] is not (')' or '>') && !lambdaParameters.Contains(i))
                {
                    breaks.Add((i, false));
                }
            }
            else if ((c is ')' or ']' or '}' || (c == '>' && text[i - 1] != '=')) && open.Count > 0)
            {
                open.Pop();
            }
            else if (c == ',' && open.Count > 0 && !lambdaParameters.Contains(open.Peek()) && i + 1 < text.Length && text[i + 1] == ' ')
            {
                breaks.Add((i, false));
            }
            else if (c == '>' && text[i - 1] == '=' && open.Count > 0)
            {
                // After a lambda's arrow: its body continues on the next line.
                breaks.Add((i, false));
            }
            else if (c == ' ' && open.Count == 0 && string.CompareOrdinal(text, i + 1, "where ", 0, 6) == 0)
            {
                // Before a constraint clause, as a person writes them.
                breaks.Add((i, true));
            }
            else if (c == ' ' && open.Count == 0 && i + 1 < text.Length && text[i + 1] != '=' && text[i - 1] != '=')
            {
                // Between a declaration's return type and its name, or any words at the top level: a last resort.
                breaks.Add((i, false));
            }
            else if (c == '=' && open.Count == 0 && spaced && text[i + 1] == ' ')
            {
                breaks.Add((i, true));
            }
            else if (c == '=' && open.Count == 0 && spaced && text[i + 1] == '>')
            {
                breaks.Add((i - 1, true));
            }
        }

        return breaks;
    }

    /// <summary>The positions of the <c>(</c> of every lambda's parameter list: <c>(a, b) =&gt;</c>.</summary>
    private static HashSet<int> LambdaParameterLists(string text)
    {
        var lists = new HashSet<int>();
        var open = new Stack<int>();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '"' or '\'')
            {
                i = EndOfLiteral(text, i);
            }
            else if (c == '(')
            {
                open.Push(i);
            }
            else if (c == ')' && open.Count > 0)
            {
                var start = open.Pop();
                // `static (a, b) =>` is a lambda's; `Name(int a) =>` is a member's parameter list, which may break.
                if (string.CompareOrdinal(text, i + 1, " =>", 0, 3) == 0 && (start == 0 || !IsNameChar(text[start - 1])))
                {
                    lists.Add(start);
                }
            }
        }

        return lists;
    }

    /// <summary>The index of the quote that ends the literal starting at <paramref name="start"/>; an interpolated string's holes are skipped with it.</summary>
    private static int EndOfLiteral(string text, int start)
    {
        var quote = text[start];
        for (var i = start + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i;
            }
        }

        return text.Length;
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    public override string ToString() => _text.ToString();
}
