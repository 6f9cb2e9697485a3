namespace Depot;

/// <summary>
/// A problem the user can act on: bad input, a malformed mirror, a missing file. The message is one line that
/// names the file or field and what is wrong, and never names a host's flags or commands: advice a host can turn
/// into a command (CLI) or a field of a response (server) travels as <see cref="Hint"/>. Hosts print the message
/// without a stack trace and choose their exit code or status from <see cref="Kind"/>.
/// </summary>
public class DepotException : Exception
{
    /// <summary>
    /// The kind of an exception created without one. <see cref="ErrorKind.InvalidContent"/>: most of the engine's
    /// unclassified refusals are about something it read (a mirror's file, a configuration, a database) that does not
    /// hold what it must; every other case states its kind.
    /// </summary>
    public const ErrorKind DefaultKind = ErrorKind.InvalidContent;

    /// <summary>An error of <see cref="DefaultKind"/>.</summary>
    public DepotException(string message) : this(DefaultKind, message) { }

    /// <summary>An error of <see cref="DefaultKind"/> caused by <paramref name="innerException"/>.</summary>
    public DepotException(string message, Exception innerException) : this(DefaultKind, message, innerException) { }

    /// <summary>An error of the given kind, with an optional hint.</summary>
    public DepotException(ErrorKind kind, string message, ErrorHint? hint = null) : base(message)
    {
        Kind = kind;
        Hint = hint;
    }

    /// <summary>An error of the given kind caused by <paramref name="innerException"/>, with a hint.</summary>
    public DepotException(ErrorKind kind, string message, Exception? innerException, ErrorHint? hint = null)
        : base(message, innerException)
    {
        Kind = kind;
        Hint = hint;
    }

    /// <summary>What sort of problem this is: hosts map it to an exit code or an HTTP status.</summary>
    public ErrorKind Kind { get; }

    /// <summary>What would fix it, for the host to render (a command, a JSON field); null when nothing to
    /// say.</summary>
    public ErrorHint? Hint { get; }
}

/// <summary>Content that does not follow Spack's format: malformed JSON, a bad manifest, a checksum mismatch.</summary>
public class InvalidContentException : DepotException
{
    /// <summary>A problem of kind <see cref="ErrorKind.InvalidContent"/>; the message is "location: problem".</summary>
    public InvalidContentException(string location, string problem)
        : base(ErrorKind.InvalidContent, $"{location}: {OneLine(problem)}") => Location = location;

    /// <summary>Invalid content (<see cref="ErrorKind.InvalidContent"/>) caused by
    /// <paramref name="innerException"/>.</summary>
    public InvalidContentException(string location, string problem, Exception innerException)
        : base(ErrorKind.InvalidContent, $"{location}: {OneLine(problem)}", innerException) => Location = location;

    /// <summary>The file or URL the problem was found in.</summary>
    public string Location { get; }

    // A problem often quotes what was read (a parser's message citing the bad token, a registry's error text): line
    // breaks and control characters from hostile content must not break the one-line message.
    private static string OneLine(string problem) =>
        problem.AsSpan().IndexOfAnyInRange('\0', '\u001f') < 0 && !problem.Contains('\u0085')
            && !problem.Contains('\u2028') && !problem.Contains('\u2029')
            ? problem
            : string.Concat(problem.ReplaceLineEndings(" ").Select(c => char.IsControl(c) ? ' ' : c));
}
