using Depot.Storage.Providers;

namespace Depot.Storage.S3;

/// <summary>
/// <c>s3://bucket/prefix</c>. Credentials from the mirror's settings (Spack's <c>access_pair</c>,
/// <c>access_token_variable</c>, <c>profile</c>, <c>endpoint_url</c>), else the AWS SDK's default chain.
/// </summary>
public sealed class S3StoreProvider : IStoreProvider
{
    /// <summary><c>s3</c>.</summary>
    public IReadOnlyList<string> Schemes { get; } = ["s3"];

    /// <exception cref="DepotException">The URL names no bucket, or a variable the settings name is unset.</exception>
    public IStoreReader Open(StoreLocation location)
    {
        var parts = location.PathParts(2);
        var bucket = StoreLocation.Required(parts, 0, "bucket", location.Url);
        var options = new S3StoreOptions(location.EndpointUrl,
            location.AccessKeyId ?? location.Variable(location.AccessKeyIdVariable),
            location.Variable(location.SecretVariable),
            location.Variable(location.SessionTokenVariable), location.Profile, Environment: location.Environment);
        return new S3Store(bucket, parts.Length > 1 ? parts[1] : "", options);
    }
}

/// <summary>Registers <see cref="S3StoreProvider"/> with a host's providers.</summary>
public static class S3StoreProviderExtensions
{
    /// <summary><paramref name="providers"/> and <c>s3://</c>.</summary>
    public static StoreProviders WithS3(this StoreProviders providers) => providers.With(new S3StoreProvider());
}
