namespace Depot;

/// <summary>
/// A problem the user can act on: bad input, a malformed mirror, a missing file. The message is one line that
/// names the file or field and what is wrong; hosts print it without a stack trace.
/// </summary>
public class DepotException : Exception
{
    public DepotException(string message) : base(message) { }

    public DepotException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>Content that does not follow Spack's format: malformed JSON, a bad manifest, a checksum mismatch.</summary>
public class InvalidContentException : DepotException
{
    public InvalidContentException(string location, string problem)
        : base($"{location}: {problem}") => Location = location;

    public InvalidContentException(string location, string problem, Exception innerException)
        : base($"{location}: {problem}", innerException) => Location = location;

    /// <summary>The file or URL the problem was found in.</summary>
    public string Location { get; }
}
