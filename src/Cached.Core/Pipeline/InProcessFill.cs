namespace Cached.Pipeline;

/// <summary>
/// A one-key fill open on a store in this process, as a value: the fence as it stood and the key as given and
/// resolved. What a <see cref="Capabilities.FillTicket"/> holds for such a store, without the object a miss would
/// otherwise allocate.
/// </summary>
/// <param name="Fence">The fence of the full key when the fill opened.</param>
/// <param name="Key">The caller's key.</param>
/// <param name="Namespace">The namespace the key is in, resolved.</param>
internal readonly record struct InProcessFill(FillFences.Ticket Fence, string Key, string? Namespace);
