using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;

namespace Cached.CodeFixes;

/// <summary>A document's syntax root and semantic model, which every fix reads before it plans its edits.</summary>
internal sealed class DocumentSyntax
{
    private DocumentSyntax(Document document, SyntaxNode root, SemanticModel model)
    {
        Document = document;
        Root = root;
        Model = model;
    }

    public Document Document { get; }

    public SyntaxNode Root { get; }

    public SemanticModel Model { get; }

    /// <summary>Null for a document without syntax (not C#).</summary>
    public static async Task<DocumentSyntax?> ReadAsync(Document document, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        return root is null || model is null ? null : new DocumentSyntax(document, root, model);
    }

    /// <summary>The document with <paramref name="edits"/> made; null (no change) when there are none.</summary>
    public Document? With(MemberEdits edits) => edits.IsEmpty ? null : Document.WithSyntaxRoot(edits.Apply(Root));
}
