namespace Depot.Storage.Oci;

/// <summary>
/// OCI registries: <c>oci://</c>, <c>oci+http://</c>, <c>oci+https://</c>. In the engine, not a project of its own: the
/// registry client is written on HttpClient (no SDK to keep out), and Spack's OCI layout needs it.
/// </summary>
public sealed class OciStoreProvider : IStoreProvider
{
    /// <summary><c>oci</c>, <c>oci+http</c>, <c>oci+https</c>.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["oci", "oci+http", "oci+https"];

    /// <summary>
    /// The registry repository the URL names. A configured mirror's <c>access_pair</c> is the login (Spack's
    /// <c>--oci-username</c> / <c>--oci-password-variable</c> land there); else <c>~/.docker/config.json</c>.
    /// </summary>
    /// <exception cref="DepotException">The URL is not a repository, or a variable named is not set.</exception>
    public IStoreReader Open(StoreLocation location)
    {
        var reference = OciReference.Parse(location.Url);
        var user = location.AccessKeyId ?? location.Variable(location.AccessKeyIdVariable);
        var credential = user is null ? null
            : new OciCredential(user, location.Variable(location.SecretVariable) ?? "",
                $"{location.Where} access_pair");
        return new OciStore(reference, new OciClientOptions(credential, location.CaCert,
            Environment: location.Environment));
    }
}
