using Depot.Storage.Azure;
using Depot.Storage.Gcs;
using Depot.Storage.Providers;
using Depot.Storage.S3;

namespace Depot.Cli;

/// <summary>The stores the <c>depot</c> command ships: the engine's own and every cloud provider.</summary>
public static class ShippedStores
{
    /// <summary>Directories, http(s)://, oci://, s3://, gs://, azure://: given to the engine to open mirrors.</summary>
    public static StoreProviders Providers { get; } = StoreProviders.Builtin.WithS3().WithGcs().WithAzure();
}
