namespace Depot.Catalog;

/// <summary>One cache as the catalog's first page lists it.</summary>
/// <param name="Name">The cache's name: its path segment on a server, or the export's name.</param>
/// <param name="Public">Whether anonymous visitors may see it.</param>
/// <param name="Specs">Specs the cache holds (its index, or a scan when it has none).</param>
/// <param name="Packages">Distinct package names among them.</param>
/// <param name="TotalBytes">Bytes of the cache's objects (from a store listing, never per-entry reads); null when the
/// store cannot list.</param>
/// <param name="LastPush">Newest entry's time (the store's modification time of its spec file or manifest).</param>
/// <param name="Layouts">Build cache layout versions present (2, 3).</param>
public sealed record CacheSummary(string Name, bool Public, int Specs, int Packages, long? TotalBytes,
    DateTimeOffset? LastPush, IReadOnlyList<int> Layouts);

/// <summary>One spec as a search result or a table row: what the index summary holds, nothing read per entry.</summary>
/// <param name="Hash">The 32-character DAG hash.</param>
/// <param name="Name">The package name.</param>
/// <param name="Version">The version (no <c>@</c>).</param>
/// <param name="Namespace">The package repository namespace (<c>builtin</c>).</param>
/// <param name="Architecture">Spack's <c>platform-os-target</c> string.</param>
/// <param name="Platform">The first part of <paramref name="Architecture"/> (<c>linux</c>).</param>
/// <param name="Os">Its second part (<c>ubuntu22.04</c>).</param>
/// <param name="Target">Its third part (<c>x86_64_v3</c>).</param>
/// <param name="Compiler">The compiler label, as <c>depot list</c> prints it (<c>gcc@12.2.0</c>).</param>
/// <param name="Variants">Variants as Spack prints them (<c>+mpi ~shared build_system=cmake</c>).</param>
/// <param name="Layout">Build cache layout version of the entry (2 or 3).</param>
public sealed record SpecRow(string Hash, string Name, string Version, string Namespace, string Architecture,
    string Platform, string Os, string Target, string Compiler, string Variants, int Layout);

/// <summary>
/// A search of one cache. <paramref name="Text"/> holds space-separated terms, all of which must match: a name prefix
/// (<c>zl</c>), <c>name@version-prefix</c>, a variant (<c>+mpi</c>, <c>~shared</c>, <c>build_system=cmake</c>), or a
/// hash prefix (<c>/abc12</c>). Empty text matches every spec. The filters are exact values (null: any).
/// </summary>
public sealed record CatalogQuery(string Text, string? Architecture = null, string? Os = null,
    string? Compiler = null, int Offset = 0, int Limit = 50);

/// <summary>A value of a filter and how many matching specs have it.</summary>
public sealed record FacetValue(string Value, int Count);

/// <summary>
/// The result of a search: the total number of matches, one page of them (sorted by name, version descending, hash),
/// and for each filter the values present among the matches of the text alone (so a filter can be changed).
/// </summary>
public sealed record SearchResult(int Total, IReadOnlyList<SpecRow> Rows, IReadOnlyList<FacetValue> Architectures,
    IReadOnlyList<FacetValue> Oses, IReadOnlyList<FacetValue> Compilers, TimeSpan Took);

/// <summary>A package among a cache's packages: how many specs, which versions (newest first).</summary>
public sealed record PackageRow(string Name, int Specs, IReadOnlyList<string> Versions);

/// <summary>One page of a cache's packages, sorted by name.</summary>
public sealed record PackageListing(int Total, IReadOnlyList<PackageRow> Packages);

/// <summary>
/// One package of a cache: every spec of it; pages draw the versions × architectures × compilers table from them.
/// </summary>
public sealed record PackageDetail(string Name, IReadOnlyList<SpecRow> Specs);

/// <summary>A variant of a spec: its name and value(s) as the spec file holds them.</summary>
/// <param name="IsBoolean">Whether the variant is boolean (drawn <c>+name</c> / <c>~name</c>).</param>
/// <param name="Name">The variant name.</param>
/// <param name="Values">One value, or several for a multi-valued variant; a boolean is "True" or "False".</param>
/// <param name="IsMultiValued">Whether the variant is multi-valued (a JSON array even with one value, as <c>depot
/// list --json</c> writes it).</param>
public sealed record VariantValue(string Name, IReadOnlyList<string> Values, bool IsBoolean,
    bool IsMultiValued = false);

/// <summary>A dependency or dependent of a spec, linked when the cache holds it.</summary>
/// <param name="Name">The package name.</param>
/// <param name="Version">The version.</param>
/// <param name="Hash">The DAG hash.</param>
/// <param name="Types">Dependency types, lower case, comma-separated (<c>build,link</c>).</param>
/// <param name="InCache">Whether the cache holds this spec (a link to its page is drawn only then).</param>
public sealed record DependencyLink(string Name, string Version, string Hash, string Types, bool InCache);

/// <summary>The spec's whole dependency DAG for drawing: nodes (the spec first) and edges parent → child.</summary>
public sealed record DependencyGraph(IReadOnlyList<DependencyLink> Nodes,
    IReadOnlyList<(string From, string To)> Edges);

/// <summary>What a spec's signature says to the server (or export) that shows it.</summary>
public enum SignatureState
{
    /// <summary>Signed, and the signature verifies with a key this server trusts.</summary>
    Trusted,

    /// <summary>Signed by a key this server does not trust (or cannot check): the fingerprint is shown.</summary>
    Untrusted,

    /// <summary>No signature.</summary>
    Unsigned,

    /// <summary>A signature that does not verify (tampered, or malformed).</summary>
    Invalid,
}

/// <summary>A spec's signature: its state and, when signed, the key's fingerprint, user id and signing time.</summary>
public sealed record SignatureInfo(SignatureState State, string? Fingerprint, string? UserId, DateTimeOffset? SignedAt);

/// <summary>
/// How to install a spec from this cache: the mirror URL consumers add, the Spack commands
/// (<c>spack mirror add … &amp;&amp; spack buildcache keys --install --trust &amp;&amp; spack install
/// --use-buildcache only /HASH</c>), the Depot command, and a <c>spack.yaml</c> snippet. Never contains a token.
/// </summary>
public sealed record InstallCommands(string MirrorUrl, string Spack, string Depot, string SpackYaml);

/// <summary>Everything the spec page shows.</summary>
/// <param name="Row">The spec as its search row.</param>
/// <param name="Variants">Its variants, sorted by name.</param>
/// <param name="Dependencies">Its direct dependencies.</param>
/// <param name="Dependents">Specs of this cache that depend on it directly.</param>
/// <param name="Graph">Its whole dependency DAG.</param>
/// <param name="CompressedBytes">Size of the tarball as stored; null when unknown.</param>
/// <param name="UncompressedBytes">Size of the tarball's content (gzip trailer); null when unknown.</param>
/// <param name="PushedAt">The store's modification time of the entry's spec file or manifest.</param>
/// <param name="Signature">Its signature.</param>
/// <param name="Install">How to install it.</param>
public sealed record SpecDetail(SpecRow Row, IReadOnlyList<VariantValue> Variants,
    IReadOnlyList<DependencyLink> Dependencies, IReadOnlyList<DependencyLink> Dependents, DependencyGraph Graph,
    long? CompressedBytes, long? UncompressedBytes, SignatureInfo Signature, DateTimeOffset? PushedAt,
    InstallCommands Install);

/// <summary>A public key the cache publishes (what <c>spack buildcache keys</c> would fetch).</summary>
/// <param name="Fingerprint">The key's 40-hex-digit fingerprint, upper case.</param>
/// <param name="UserId">Its first user id.</param>
/// <param name="Created">Its creation time.</param>
/// <param name="Download">The key's path relative to the cache root (<c>v3/layout/…/FPR.pub</c> or
/// <c>build_cache/_pgp/FPR.pub</c>).</param>
/// <param name="Trusted">Whether this server trusts it.</param>
public sealed record CatalogKey(string Fingerprint, string UserId, DateTimeOffset? Created, string Download,
    bool Trusted);

/// <summary>A recent push: an entry and when the store last modified it.</summary>
public sealed record PushActivity(string Hash, string Name, string Version, DateTimeOffset PushedAt);

/// <summary>
/// One cache as the catalog (pages, JSON API, static export) sees it. Implementations keep what they derive from
/// the index in memory keyed by the index's checksum, and look at the index again at most every few seconds, so a
/// push shows without restarting. Unknown names and hashes answer null, never throw.
/// </summary>
public interface ICatalogSource
{
    /// <summary>The cache's name.</summary>
    string Name { get; }

    /// <summary>Whether anonymous visitors may see it.</summary>
    bool IsPublic { get; }

    Task<CacheSummary> GetSummaryAsync(CancellationToken cancellationToken = default);

    Task<SearchResult> SearchAsync(CatalogQuery query, CancellationToken cancellationToken = default);

    Task<PackageListing> GetPackagesAsync(int offset, int limit, CancellationToken cancellationToken = default);

    Task<PackageDetail?> GetPackageAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The spec page's data; <paramref name="mirrorUrl"/> is the URL consumers add (for the commands).
    /// </summary>
    Task<SpecDetail?> GetSpecAsync(string hash, string mirrorUrl, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<CatalogKey>> GetKeysAsync(CancellationToken cancellationToken = default);

    Task<IReadOnlyList<PushActivity>> GetActivityAsync(int limit, CancellationToken cancellationToken = default);
}
