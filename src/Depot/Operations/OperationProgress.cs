namespace Depot.Operations;

/// <summary>Progress of a long operation: a phase name and how many of its items are done.</summary>
public sealed record OperationProgress(string Phase, int Done, int Total);
