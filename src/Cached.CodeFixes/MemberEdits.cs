using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.CodeFixes;

/// <summary>
/// The edits of one document, made in one pass so that several fixes (a Fix All) compose: methods replaced, members
/// added after a member, types made partial. Every node is one of the document's original nodes.
/// </summary>
internal sealed class MemberEdits
{
    private readonly Dictionary<SyntaxNode, SyntaxNode> _replacements = [];
    private readonly Dictionary<SyntaxNode, List<MemberDeclarationSyntax>> _additions = [];
    private readonly HashSet<SyntaxNode> _partialTypes = [];

    public bool IsEmpty => _replacements.Count == 0 && _additions.Count == 0 && _partialTypes.Count == 0;

    /// <summary>False when the member is replaced already (by another fix of the same Fix All).</summary>
    public bool Replace(MemberDeclarationSyntax original, MemberDeclarationSyntax replacement)
    {
        if (_replacements.ContainsKey(original))
        {
            return false;
        }

        _replacements.Add(original, replacement);
        return true;
    }

    public void AddAfter(MemberDeclarationSyntax original, MemberDeclarationSyntax member)
    {
        if (!_additions.TryGetValue(original, out var members))
        {
            _additions.Add(original, members = []);
        }

        members.Add(member);
    }

    public void MakePartial(TypeDeclarationSyntax type) => _partialTypes.Add(type);

    public SyntaxNode Apply(SyntaxNode root)
    {
        var nodes = _replacements.Keys
            .Concat(_additions.Keys.Select(static member => member.Parent!))
            .Concat(_partialTypes)
            .Distinct();
        return root.ReplaceNodes(nodes, Rewrite);
    }

    private SyntaxNode Rewrite(SyntaxNode original, SyntaxNode rewritten)
    {
        if (_replacements.TryGetValue(original, out var replacement))
        {
            return replacement;
        }

        if (original is not TypeDeclarationSyntax type)
        {
            return rewritten;
        }

        // Replacing descendants leaves the member list as long as it was: the i-th member is the i-th original's.
        var result = (TypeDeclarationSyntax)rewritten;
        var members = new List<MemberDeclarationSyntax>();
        for (var i = 0; i < result.Members.Count; i++)
        {
            members.Add(result.Members[i]);
            if (_additions.TryGetValue(type.Members[i], out var added))
            {
                members.AddRange(added);
            }
        }

        result = result.WithMembers(Microsoft.CodeAnalysis.CSharp.SyntaxFactory.List(members));
        return _partialTypes.Contains(original) ? Modifiers.MakePartial(result) : result;
    }
}
