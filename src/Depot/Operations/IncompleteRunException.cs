namespace Depot.Operations;

/// <summary>
/// A run that did its main work and then failed in a last step (a push's image tag, key publication or index
/// update; a copy's or a sign's index update): <see cref="IncompleteRunException{TResult}.Result"/> says what was
/// done, and the error is the step's own (its kind, message and hint), so a host can report both — what was done,
/// then the error — and a caller that knows nothing of partial results still sees the failure.
/// </summary>
public abstract class IncompleteRunException : DepotException
{
    private protected IncompleteRunException(ErrorKind kind, string message, Exception cause, ErrorHint? hint)
        : base(kind, message, cause, hint)
    {
    }

    /// <summary>What the run had done when the last step failed (a <c>PushResult</c>, <c>CopyResult</c>…).</summary>
    public abstract object PartialResult { get; }

    /// <summary>
    /// Wraps <paramref name="cause"/> (a <see cref="DepotException"/> or an I/O failure) with the result so far; any
    /// other exception is a bug and is not wrapped (null).
    /// </summary>
    public static IncompleteRunException<TResult>? Of<TResult>(TResult result, Exception cause)
        where TResult : class =>
        ErrorKinds.Of(cause) is { } kind
            ? new IncompleteRunException<TResult>(result, kind, ErrorKinds.MessageOf(cause), cause,
                (cause as DepotException)?.Hint)
            : null;
}

/// <inheritdoc cref="IncompleteRunException"/>
/// <typeparam name="TResult">The operation's result type.</typeparam>
public sealed class IncompleteRunException<TResult> : IncompleteRunException
    where TResult : class
{
    internal IncompleteRunException(TResult result, ErrorKind kind, string message, Exception cause,
        ErrorHint? hint)
        : base(kind, message, cause, hint) => Result = result;

    /// <summary>What the run had done.</summary>
    public TResult Result { get; }

    /// <inheritdoc/>
    public override object PartialResult => Result;
}
