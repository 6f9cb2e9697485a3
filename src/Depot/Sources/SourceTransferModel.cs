namespace Depot.Sources;

/// <summary>Options of a source mirror transfer (push from a download cache, copy between mirrors).</summary>
/// <param name="Parallelism">Objects transferred at once.</param>
/// <param name="Force">Transfer objects the destination holds already (same key and size).</param>
public sealed record SourceTransferOptions(int Parallelism = 4, bool Force = false);

/// <summary>What became of one source object.</summary>
public enum SourceTransferStatus
{
    /// <summary>Written to the destination (an archive after its checksum matched its name).</summary>
    Transferred,

    /// <summary>The destination holds an object of that key and size already.</summary>
    SkippedExists,

    /// <summary>Its key is not one Spack writes (<see cref="SourceObject.Problem"/>): not transferred.</summary>
    SkippedMalformed,

    /// <summary>Not transferred: its bytes do not match its name, or reading or writing failed.</summary>
    Failed,
}

/// <summary>One object's outcome.</summary>
/// <param name="Key">The object's key (the same in source and destination).</param>
/// <param name="Status">What became of it.</param>
/// <param name="Bytes">Bytes written (or found, when skipped as present).</param>
/// <param name="Reason">Why it was skipped or failed.</param>
public sealed record SourceTransferOutcome(string Key, SourceTransferStatus Status, long Bytes = 0,
    string? Reason = null)
{
    /// <summary>The error's kind when it failed.</summary>
    public ErrorKind? Kind { get; init; }
}

/// <summary>Progress of a transfer: objects finished of all listed, bytes written of all to write; with an outcome
/// once per object as it finishes.</summary>
public sealed record SourceTransferProgress(int Done, int Total, long BytesDone, long BytesTotal,
    SourceTransferOutcome? Outcome = null);

/// <summary>What a transfer did.</summary>
/// <param name="Source">Where the objects came from (a folder or a mirror URL).</param>
/// <param name="Destination">The mirror written to.</param>
/// <param name="Outcomes">One per listed object, by key.</param>
/// <param name="Elapsed">Wall-clock time.</param>
public sealed record SourceTransferResult(string Source, string Destination,
    IReadOnlyList<SourceTransferOutcome> Outcomes, TimeSpan Elapsed)
{
    public int Count(SourceTransferStatus status) => Outcomes.Count(o => o.Status == status);

    public bool AnyFailed => Outcomes.Any(o => o.Status == SourceTransferStatus.Failed);

    /// <summary>Bytes written to the destination.</summary>
    public long BytesTransferred =>
        Outcomes.Where(o => o.Status == SourceTransferStatus.Transferred).Sum(o => o.Bytes);
}
