namespace Depot;

/// <summary>
/// What sort of problem a <see cref="DepotException"/> is. Hosts map kinds, never messages: the CLI to an exit code,
/// a server to an HTTP status. The set is small on purpose; a new kind is a new line in every host's table.
/// </summary>
public enum ErrorKind
{
    /// <summary>The request itself is wrong: contradicting options, a malformed query, URL, key id or tag.</summary>
    Usage,

    /// <summary>Something named does not exist: a mirror, a key, a spec, an object, an install tree.</summary>
    NotFound,

    /// <summary>Credentials are missing, refused, or lack permission on a remote store or registry.</summary>
    Authentication,

    /// <summary>
    /// A signature is missing, does not verify, or comes from a key that is not trusted for the mirror; or a server's
    /// TLS certificate is not trusted.
    /// </summary>
    Trust,

    /// <summary>The target's state refuses the request: it exists already, is locked, changed meanwhile.</summary>
    Conflict,

    /// <summary>Something read is not what it must be: malformed JSON or YAML, a bad manifest, a wrong
    /// checksum.</summary>
    InvalidContent,

    /// <summary>Valid, but not something Depot does: a layout version, a URL scheme, a key type, a platform.</summary>
    Unsupported,

    /// <summary>Reading or writing failed: a disk, a network connection, a server that stalls or never
    /// answers.</summary>
    IO,
}

/// <summary>
/// What a hint proposes. Each host renders it its own way (the CLI as the command to run, a server as a field of its
/// error body); the engine never spells out a host's flags.
/// </summary>
public enum HintAction
{
    /// <summary>Trust the key with fingerprint <c>fingerprint</c> that mirror <c>mirror</c> publishes.</summary>
    TrustMirrorKey,

    /// <summary>Trust the keys mirror <c>mirror</c> publishes, or import the signer's key from a file.</summary>
    TrustMirrorKeys,

    /// <summary>Accept unsigned entries from mirror <c>mirror</c> (skip signature checks, or configure so).</summary>
    AllowUnsigned,

    /// <summary>Import a key from an ASCII-armored file.</summary>
    ImportKeyFile,

    /// <summary>Trust a public key given as a file (its owner hands it over).</summary>
    TrustKeyFile,

    /// <summary>List the known keys; <c>secret</c> is "true" for the keys that can sign.</summary>
    ListKeys,

    /// <summary>Create a signing key, or import one.</summary>
    CreateSigningKey,

    /// <summary>Choose one of several signing keys (<c>fingerprints</c>, comma-separated).</summary>
    ChooseSigningKey,

    /// <summary>Name the Spack install tree to use.</summary>
    ChooseInstallTree,

    /// <summary>Name the mirror to use.</summary>
    ChooseMirror,

    /// <summary>Write the entry again although the target holds it already.</summary>
    Overwrite,

    /// <summary>Let the mirror's own layout decide instead of asking for one.</summary>
    UseMirrorLayout,

    /// <summary>Push a spec's dependencies with it.</summary>
    IncludeDependencies,

    /// <summary>Give registry <c>registry</c> a login (mirror settings, or Docker's config
    /// <c>docker_config</c>).</summary>
    ConfigureRegistryLogin,

    /// <summary>Trust the certificate authority of <c>registry</c>'s TLS certificate.</summary>
    TrustCertificate,

    /// <summary>Rebuild the index of mirror <c>mirror</c> from its entries (it is missing, damaged or out of
    /// date).</summary>
    RebuildIndex,

    /// <summary>Remove the entry although entries that stay depend on it.</summary>
    ForceRemoval,
}

/// <summary>
/// A structured suggestion that would fix an error: an action and its arguments (mirror names, fingerprints), no prose.
/// </summary>
/// <param name="Action">What to do.</param>
/// <param name="Arguments">Named values the action needs, as documented on each <see cref="HintAction"/>.</param>
public sealed record ErrorHint(HintAction Action, IReadOnlyDictionary<string, string> Arguments)
{
    /// <summary>A hint without arguments.</summary>
    public ErrorHint(HintAction action) : this(action, new Dictionary<string, string>()) { }

    /// <summary>The argument <paramref name="name"/>, or null.</summary>
    public string? this[string name] => Arguments.GetValueOrDefault(name);

    /// <summary>The action as a stable snake_case token (trust_mirror_key), for JSON and logs.</summary>
    public string ActionName => ErrorKinds.SnakeCase(Action.ToString());

    /// <summary>Trust the key <paramref name="fingerprint"/> of <paramref name="mirror"/>.</summary>
    public static ErrorHint TrustMirrorKey(string mirror, string fingerprint) =>
        new(HintAction.TrustMirrorKey,
            new Dictionary<string, string> { ["mirror"] = mirror, ["fingerprint"] = fingerprint });

    /// <summary>Trust the keys <paramref name="mirror"/> publishes.</summary>
    public static ErrorHint TrustMirrorKeys(string mirror) =>
        new(HintAction.TrustMirrorKeys, new Dictionary<string, string> { ["mirror"] = mirror });

    /// <summary>Accept unsigned entries from <paramref name="mirror"/>.</summary>
    public static ErrorHint AllowUnsigned(string mirror) =>
        new(HintAction.AllowUnsigned, new Dictionary<string, string> { ["mirror"] = mirror });

    /// <summary>List the keys (only those that can sign when <paramref name="secret"/>).</summary>
    public static ErrorHint ListKeys(bool secret) =>
        new(HintAction.ListKeys, new Dictionary<string, string> { ["secret"] = secret ? "true" : "false" });

    /// <summary>Choose one of <paramref name="fingerprints"/>.</summary>
    public static ErrorHint ChooseSigningKey(IEnumerable<string> fingerprints) =>
        new(HintAction.ChooseSigningKey,
            new Dictionary<string, string> { ["fingerprints"] = string.Join(",", fingerprints) });

    /// <summary>Log in to <paramref name="registry"/>; <paramref name="dockerConfig"/> is Docker's config
    /// file.</summary>
    public static ErrorHint ConfigureRegistryLogin(string registry, string dockerConfig) =>
        new(HintAction.ConfigureRegistryLogin,
            new Dictionary<string, string> { ["registry"] = registry, ["docker_config"] = dockerConfig });

    /// <summary>Rebuild the index of <paramref name="mirror"/> from its entries.</summary>
    public static ErrorHint RebuildIndex(string mirror) =>
        new(HintAction.RebuildIndex, new Dictionary<string, string> { ["mirror"] = mirror });

    /// <summary>Trust the certificate authority of <paramref name="registry"/>.</summary>
    public static ErrorHint TrustCertificate(string registry) =>
        new(HintAction.TrustCertificate, new Dictionary<string, string> { ["registry"] = registry });
}

/// <summary>Names of kinds and actions as hosts print them.</summary>
public static class ErrorKinds
{
    /// <summary>The kind as a stable snake_case token: usage, not_found, authentication, trust, conflict, …</summary>
    public static string Name(this ErrorKind kind) => kind == ErrorKind.IO ? "io" : SnakeCase(kind.ToString());

    /// <summary>The kind of an exception a host catches: a DepotException's own, I/O for I/O failures, else
    /// null.</summary>
    public static ErrorKind? Of(Exception exception) => exception switch
    {
        DepotException d => d.Kind,
        IOException or UnauthorizedAccessException or HttpRequestException => ErrorKind.IO,
        _ => null,
    };

    /// <summary>
    /// The kind an HTTP error status means: a refused login, a missing object, a conflicting or rejected write, an API
    /// the server does not offer, or a server that failed (5xx, 429); other 4xx answers reject what was sent.
    /// </summary>
    public static ErrorKind OfHttpStatus(System.Net.HttpStatusCode status) => status switch
    {
        System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden => ErrorKind.Authentication,
        System.Net.HttpStatusCode.NotFound => ErrorKind.NotFound,
        System.Net.HttpStatusCode.Conflict or System.Net.HttpStatusCode.PreconditionFailed => ErrorKind.Conflict,
        System.Net.HttpStatusCode.MethodNotAllowed or System.Net.HttpStatusCode.NotImplemented => ErrorKind.Unsupported,
        System.Net.HttpStatusCode.TooManyRequests or >= System.Net.HttpStatusCode.InternalServerError => ErrorKind.IO,
        _ => ErrorKind.InvalidContent,
    };

    /// <summary>
    /// True when an error of this kind can concern one entry of a mirror (its content, signature, a missing or
    /// unsupported part, a conflicting write, a read that failed), so a run over many entries records it and goes on.
    /// False for a request that is wrong (usage) or credentials that are refused (authentication): every other entry
    /// would fail alike, so the run stops with that error.
    /// </summary>
    public static bool ConcernsOneEntry(this ErrorKind kind) =>
        kind is not (ErrorKind.Usage or ErrorKind.Authentication);

    /// <summary>
    /// True when <paramref name="exception"/> (or what caused it) says the store's server could not be reached at all:
    /// the connection was refused, the host not found or not routable. Every other request to that server would fail
    /// alike, so a run over many entries stops at the first one instead of retrying each.
    /// </summary>
    public static bool IsUnreachable(Exception exception)
    {
        for (var e = exception; e is not null; e = e is AggregateException { InnerExceptions.Count: > 0 } all
            ? all.InnerExceptions[0] : e.InnerException)
        {
            if (e is HttpRequestException
                {
                    HttpRequestError: HttpRequestError.ConnectionError
                or HttpRequestError.NameResolutionError
                }
                || e is System.Net.Sockets.SocketException
                {
                    SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused
                    or System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.HostUnreachable
                    or System.Net.Sockets.SocketError.NetworkUnreachable or System.Net.Sockets.SocketError.NetworkDown,
                })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The one line to show for <paramref name="exception"/>: a <see cref="DepotException"/>'s message as it is; the
    /// platform's wording of a file-system failure ("Access to the path '…' is denied.", "Could not find a part of the
    /// path '…'.") said as the path and what is wrong with it.
    /// </summary>
    public static string MessageOf(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is DepotException)
        {
            return exception.Message;
        }

        var message = exception.Message.Split('\n')[0].Trim();
        var quoted = System.Text.RegularExpressions.Regex.Match(message, "'([^']+)'");
        if (!quoted.Success)
        {
            return message;
        }

        var path = quoted.Groups[1].Value;
        return exception switch
        {
            UnauthorizedAccessException => $"{path}: permission denied (check who owns it and its mode, or choose a "
                + "path this user may write)",
            DirectoryNotFoundException => $"{path}: a folder on this path does not exist",
            FileNotFoundException => $"{path}: no such file",
            IOException when message.StartsWith("The file ", StringComparison.Ordinal)
                && message.EndsWith(" already exists.", StringComparison.Ordinal) => $"{path}: exists already",
            _ => message,
        };
    }

    internal static string SnakeCase(string pascal) =>
        string.Concat(pascal.Select((c, i) =>
            char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
