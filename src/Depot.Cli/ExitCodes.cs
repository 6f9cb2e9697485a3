namespace Depot.Cli;

/// <summary>
/// Named exit codes, and the one table from error kinds to codes (documented in the README's "Exit codes"): scripts
/// tell a refused signature from a missing mirror, and a failure from a run that completed but skipped bad entries.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The run went through, and some entries or steps failed (each reported on its own line).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong (the parser's code, and <see cref="ErrorKind.Usage"/>).</summary>
    public const int Usage = 2;

    /// <summary>The run went through, and skipped entries it could not read (warned about).</summary>
    public const int CompletedWithProblems = 3;

    public const int NotFound = 4;
    public const int Authentication = 5;
    public const int Trust = 6;
    public const int Conflict = 7;
    public const int InvalidContent = 8;
    public const int Unsupported = 9;
    public const int IO = 10;

    /// <summary>Interrupted (Ctrl-C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;

    /// <summary>The exit code of an error of <paramref name="kind"/>: the one table.</summary>
    public static int For(ErrorKind kind) => kind switch
    {
        ErrorKind.Usage => Usage,
        ErrorKind.NotFound => NotFound,
        ErrorKind.Authentication => Authentication,
        ErrorKind.Trust => Trust,
        ErrorKind.Conflict => Conflict,
        ErrorKind.InvalidContent => InvalidContent,
        ErrorKind.Unsupported => Unsupported,
        ErrorKind.IO => IO,
        _ => Failed,
    };
}
