using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cached.CodeFixes;

/// <summary>
/// Adds and removes modifiers without disturbing the layout: a removed modifier hands its leading trivia (the line's
/// indentation, a comment) to the token after it, and <c>partial</c> goes last, right before the return type or the
/// type keyword, where the compiler wants it (CS0267).
/// </summary>
internal static class Modifiers
{
    public static TypeDeclarationSyntax MakePartial(TypeDeclarationSyntax type)
    {
        if (type.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            return type;
        }

        var keyword = type.Keyword;
        var modifiers = Edit(type.Modifiers, ref keyword, static _ => false, SyntaxKind.PartialKeyword);
        return type.WithModifiers(modifiers).WithKeyword(keyword);
    }

    /// <summary>The method with the modifiers <paramref name="remove"/> leaves, and <paramref name="add"/> last when given.</summary>
    public static MethodDeclarationSyntax Edit(MethodDeclarationSyntax method, Func<SyntaxToken, bool> remove, SyntaxKind? add)
    {
        var first = method.ReturnType.GetFirstToken();
        var next = first;
        var modifiers = Edit(method.Modifiers, ref next, remove, add);
        return method.WithModifiers(modifiers).WithReturnType(method.ReturnType.ReplaceToken(first, next));
    }

    /// <summary>
    /// The partial method with <c>private</c> first (what C# takes it to have) when it states no accessibility and must:
    /// it returns a value or has an <c>out</c> parameter (CS8796, CS8795); a <c>void</c> one is left as it is.
    /// </summary>
    public static MethodDeclarationSyntax WithAccessibilityIfRequired(MethodDeclarationSyntax method)
    {
        var isVoid = method.ReturnType is PredefinedTypeSyntax { Keyword.RawKind: (int)SyntaxKind.VoidKeyword };
        if (method.Modifiers.Any(static m => SyntaxFacts.IsAccessibilityModifier(m.Kind()))
            || (isVoid && !method.ParameterList.Parameters.Any(static p => p.Modifiers.Any(SyntaxKind.OutKeyword))))
        {
            return method;
        }

        var first = method.GetFirstToken();
        var privateKeyword = SyntaxFactory.Token(SyntaxKind.PrivateKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (method.AttributeLists.Count > 0)
        {
            // After the attributes: the first modifier (or the return type) hands its indentation to the keyword.
            var target = method.Modifiers.Count > 0 ? method.Modifiers[0] : method.ReturnType.GetFirstToken();
            var keyword = privateKeyword.WithLeadingTrivia(target.LeadingTrivia);
            var rest = method.ReplaceToken(target, target.WithLeadingTrivia());
            return rest.WithModifiers(rest.Modifiers.Insert(0, keyword));
        }

        var moved = method.ReplaceToken(first, first.WithLeadingTrivia());
        return moved.WithModifiers(moved.Modifiers.Insert(0, privateKeyword.WithLeadingTrivia(first.LeadingTrivia)));
    }

    /// <summary>
    /// The method made static or not. <c>static</c> goes right after the accessibility modifiers, where C# style puts
    /// it (<c>private static async</c>).
    /// </summary>
    public static MethodDeclarationSyntax WithStatic(MethodDeclarationSyntax method, bool isStatic)
    {
        if (method.Modifiers.Any(SyntaxKind.StaticKeyword) == isStatic)
        {
            return method;
        }

        if (!isStatic)
        {
            return Edit(method, static m => m.IsKind(SyntaxKind.StaticKeyword), add: null);
        }

        var index = 0;
        while (index < method.Modifiers.Count && SyntaxFacts.IsAccessibilityModifier(method.Modifiers[index].Kind()))
        {
            index++;
        }

        if (index == 0)
        {
            // Nothing before it: static starts the line, with the indentation of what now follows it.
            var first = method.Modifiers.Count > 0 ? method.Modifiers[0] : method.ReturnType.GetFirstToken();
            var moved = method.ReplaceToken(first, first.WithLeadingTrivia());
            return moved.WithModifiers(moved.Modifiers.Insert(0, Token(SyntaxKind.StaticKeyword).WithLeadingTrivia(first.LeadingTrivia)));
        }

        return method.WithModifiers(method.Modifiers.Insert(index, Token(SyntaxKind.StaticKeyword)));
    }

    public static SyntaxToken Token(SyntaxKind kind) => SyntaxFactory.Token(kind).WithTrailingTrivia(SyntaxFactory.Space);

    private static SyntaxTokenList Edit(SyntaxTokenList modifiers, ref SyntaxToken next, Func<SyntaxToken, bool> remove, SyntaxKind? add)
    {
        var kept = new List<SyntaxToken>();
        var carried = SyntaxFactory.TriviaList();
        foreach (var modifier in modifiers)
        {
            if (remove(modifier))
            {
                carried = carried.AddRange(modifier.LeadingTrivia);
                continue;
            }

            kept.Add(carried.Count == 0 ? modifier : modifier.WithLeadingTrivia(carried.AddRange(modifier.LeadingTrivia)));
            carried = SyntaxFactory.TriviaList();
        }

        if (add is { } kind && !kept.Any(m => m.IsKind(kind)))
        {
            if (kept.Count == 0)
            {
                // The new modifier starts the declaration's line: it takes the indentation from the token it precedes.
                kept.Add(Token(kind).WithLeadingTrivia(carried.AddRange(next.LeadingTrivia)));
                next = next.WithLeadingTrivia();
                carried = SyntaxFactory.TriviaList();
            }
            else
            {
                kept.Add(Token(kind));
            }
        }

        if (carried.Count > 0)
        {
            next = next.WithLeadingTrivia(carried.AddRange(next.LeadingTrivia));
        }

        return SyntaxFactory.TokenList(kept);
    }
}
