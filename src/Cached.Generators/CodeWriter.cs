using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace Cached.Generators;

/// <summary>
/// An indented writer for generated code that keeps lines within <see cref="MaxLineLength"/>: a statement too long
/// for one line is broken at a bracket, one argument (or type argument, or tuple element) a line, the way a person
/// would break it by hand.
/// </summary>
internal sealed class CodeWriter
{
    public const int MaxLineLength = 120;
    private const int IndentSize = 4;

    private readonly StringBuilder _text = new();
    private int _depth;

    public void Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _depth * IndentSize);
        }

        _text.Append(line).Append('\n');
    }

    public void Open()
    {
        Line("{");
        _depth++;
    }

    public void Close(string closing = "}")
    {
        _depth--;
        Line(closing);
    }

    public void Indent() => _depth++;

    public void Outdent() => _depth--;

    /// <summary>True when <paramref name="line"/> fits at the current indentation.</summary>
    public bool Fits(string line) => (_depth * IndentSize) + line.Length <= MaxLineLength;

    /// <summary>
    /// Writes a statement, breaking it over several lines when it does not fit: at the last bracket group whose
    /// opening still fits on the first line, or inside it when the group holds a single argument.
    /// </summary>
    public void Wrapped(string statement)
    {
        if (Fits(statement) || Breakable(statement, 0, statement.Length) is not { } group)
        {
            Line(statement);
            return;
        }

        Line(statement.Substring(0, group.Open + 1));
        _depth++;
        var items = group.Items;
        for (var i = 0; i < items.Count; i++)
        {
            // The closing bracket and whatever follows it stay on the last item's line: "ct).AsTask();".
            Wrapped(i < items.Count - 1 ? items[i] + "," : items[i] + statement.Substring(group.Close));
        }

        _depth--;
    }

    /// <summary>
    /// Writes a member's declaration: on one line when it fits, else with its parameters one a line, else (a long
    /// return type) with the name and parameters on the next line.
    /// </summary>
    public void Declaration(string head, string name, string parameters)
    {
        var declaration = $"{head} {name}({parameters})";
        if (Fits(declaration) || Fits($"{head} {name}("))
        {
            Wrapped(declaration);
            return;
        }

        Wrapped(head);
        _depth++;
        Wrapped($"{name}({parameters})");
        _depth--;
    }

    /// <summary>Writes an expression-bodied member, its body on the next line when both do not fit on one.</summary>
    public void ExpressionBodied(string declaration, string body)
    {
        if (Fits($"{declaration} => {body};"))
        {
            Line($"{declaration} => {body};");
            return;
        }

        Wrapped(declaration);
        _depth++;
        Wrapped($"=> {body};");
        _depth--;
    }

    /// <summary>
    /// The group to break in <c>text[from..to]</c>, or null when none helps: an argument list rather than a type
    /// argument list, never a lambda's parameters, and inside a group of one argument when that argument breaks.
    /// </summary>
    private Group? Breakable(string text, int from, int to)
    {
        var candidates = Groups(text, from, to)
            .Where(group => group.Items.Count > 0 && !IsLambdaParameters(text, group) && Fits(text.Substring(0, group.Open + 1)))
            .ToList();
        var chosen = candidates.LastOrDefault(group => text[group.Open] != '<') ?? candidates.LastOrDefault();
        // Inside an argument list of one argument, break that argument's own arguments; a type is kept whole.
        if (chosen is { Items.Count: 1 } single
            && text[single.Open] != '<'
            && Breakable(text, single.Open + 1, single.Close) is { } inner
            && text[inner.Open] != '<')
        {
            return inner;
        }

        return chosen;
    }

    private static bool IsLambdaParameters(string text, Group group)
    {
        var next = group.Close + 1;
        while (next < text.Length && text[next] == ' ')
        {
            next++;
        }

        return next + 1 < text.Length && text[next] == '=' && text[next + 1] == '>';
    }

    /// <summary>The outermost bracket groups in <c>text[from..to]</c>; string and char literals are skipped.</summary>
    private static List<Group> Groups(string text, int from, int to)
    {
        var groups = new List<Group>();
        var open = new Stack<(char Bracket, int Index)>();
        for (var i = from; i < to; i++)
        {
            var c = text[i];
            if (c is '"' or '\'')
            {
                i = EndOfLiteral(text, i, to);
                continue;
            }

            if (c is '(' or '[' or '{' || (c == '<' && i > 0 && IsNameChar(text[i - 1])))
            {
                open.Push((c, i));
                continue;
            }

            if (open.Count == 0 || !Closes(open.Peek().Bracket, c) || (c == '>' && text[i - 1] == '='))
            {
                continue;
            }

            var start = open.Pop().Index;
            if (open.Count == 0)
            {
                groups.Add(new Group(start, i, Items(text, start + 1, i)));
            }
        }

        return groups;
    }

    /// <summary>The comma-separated items of a group's content, trimmed; none for an empty group.</summary>
    private static List<string> Items(string text, int from, int to)
    {
        var items = new List<string>();
        var depth = 0;
        var start = from;
        for (var i = from; i < to; i++)
        {
            var c = text[i];
            if (c is '"' or '\'')
            {
                i = EndOfLiteral(text, i, to);
            }
            else if (c is '(' or '[' or '{' || (c == '<' && IsNameChar(text[i - 1])))
            {
                depth++;
            }
            else if (c is ')' or ']' or '}' || (c == '>' && text[i - 1] != '=' && depth > 0))
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                items.Add(text.Substring(start, i - start).Trim());
                start = i + 1;
            }
        }

        var last = text.Substring(start, to - start).Trim();
        if (last.Length > 0 || items.Count > 0)
        {
            items.Add(last);
        }

        return items;
    }

    /// <summary>The index of the quote that ends the literal opened at <paramref name="start"/>.</summary>
    private static int EndOfLiteral(string text, int start, int to)
    {
        var quote = text[start];
        for (var i = start + 1; i < to; i++)
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

        return to;
    }

    private static bool Closes(char open, char close)
        => (open, close) is ('(', ')') or ('[', ']') or ('{', '}') or ('<', '>');

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    public override string ToString() => _text.ToString();

    private sealed record Group(int Open, int Close, List<string> Items);
}
