namespace Depot.Layout;

/// <summary>
/// A spec's entry in a build cache as found by listing: the key of its manifest (v3) or spec file (v2) and the DAG
/// hash its name carries. The entry's content is only read when needed.
/// </summary>
public sealed record SpecEntry(string Key, string Hash, bool Signed);
