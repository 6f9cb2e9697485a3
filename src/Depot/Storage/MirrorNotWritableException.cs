namespace Depot.Storage;

/// <summary>
/// A write refused because this user may not write the mirror at all (its root folder refuses it), not just one
/// folder of it: every other write would be refused alike, so a run over many entries stops at the first one. The
/// message is the refusal explained (the file, the permission missing on which folder, the fix); an I/O error.
/// </summary>
public sealed class MirrorNotWritableException(string root, string message, Exception? innerException)
    : DepotException(ErrorKind.IO, message, innerException)
{
    /// <summary>The mirror's root.</summary>
    public string Root { get; } = root;
}
