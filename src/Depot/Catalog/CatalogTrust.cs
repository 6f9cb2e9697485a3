using System.Security.Cryptography;
using System.Text;
using Depot.Formats;
using Depot.Layout;
using Depot.Signing;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Catalog;

/// <summary>
/// What the catalog says about a cache's signatures: the keys the cache publishes (and which of them this server
/// trusts), and the state of one entry's signature. Trusted means what a push to the cache means by it
/// (<c>CacheWrites</c>): the signature verifies with a key of the Depot home's keyring, restricted to the cache's
/// pinned fingerprints (a served cache's <c>trusted_fingerprints</c>) when it pins any, a pinned key the keyring lacks
/// being taken from the keys the cache publishes. Made once per index checksum (the keyring and the published keys are
/// read then).
/// </summary>
public sealed class CatalogTrust
{
    private readonly SignatureVerifier trusted;
    private readonly SignatureVerifier published;

    private CatalogTrust(IReadOnlyList<CatalogKey> keys, SignatureVerifier trusted, SignatureVerifier published)
    {
        Keys = keys;
        this.trusted = trusted;
        this.published = published;
    }

    /// <summary>The keys the cache publishes, by fingerprint.</summary>
    public IReadOnlyList<CatalogKey> Keys { get; }

    /// <summary>Reads the keyring and the published keys of every layout.</summary>
    /// <exception cref="DepotException">The keyring or a published key cannot be read.</exception>
    public static async Task<CatalogTrust> LoadAsync(string keysFolder, IReadOnlyList<IBuildCacheLayout> layouts,
        IReadOnlyCollection<string> pinnedFingerprints, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layouts);
        ArgumentNullException.ThrowIfNull(pinnedFingerprints);
        var pins = pinnedFingerprints.Select(f => f.Replace(" ", "", StringComparison.Ordinal)
            .ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
        var trustedRings = Keyring.Open(keysFolder).TrustedRings()
            .Where(r => pins.Count == 0 || pins.Contains(SignatureVerifier.Fingerprint(r.GetPublicKey()))).ToList();
        var publishedRings = new List<PgpPublicKeyRing>();
        var keys = new Dictionary<string, (PgpPublicKeyRing Ring, string Download)>(StringComparer.Ordinal);
        foreach (var layout in layouts)
        {
            foreach (var key in await layout.ReadPublishedKeysAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var ring in OpenPgpArmor.ReadKeyRings(key.Armored, key.Location).Public)
                {
                    var certified = CertifiedKeyRing.Merge([ring], key.Location);
                    var fpr = SignatureVerifier.Fingerprint(certified.GetPublicKey());
                    publishedRings.Add(certified);
                    if (pins.Contains(fpr) && !trustedRings.Any(r =>
                            SignatureVerifier.Fingerprint(r.GetPublicKey()) == fpr))
                    {
                        trustedRings.Add(certified);
                    }

                    keys.TryAdd(fpr, (certified, DownloadKey(layout, key)));
                }
            }
        }

        var trustedFingerprints = trustedRings.Select(r => SignatureVerifier.Fingerprint(r.GetPublicKey()))
            .ToHashSet(StringComparer.Ordinal);
        var list = keys.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k =>
        {
            var info = Keyring.Describe(k.Value.Ring.GetPublicKey(), hasSecret: false, k.Value.Download);
            return new CatalogKey(k.Key, info.PrimaryUserId, info.Created, k.Value.Download,
                trustedFingerprints.Contains(k.Key));
        }).ToList();
        return new CatalogTrust(list, new SignatureVerifier(trustedRings), new SignatureVerifier(publishedRings));
    }

    // Where Spack fetches the key: v2's build_cache/_pgp/FPR.pub; v3's key blob (the manifest names it by sha256,
    // and the layout checked the armored text against it).
    private static string DownloadKey(IBuildCacheLayout layout, PublishedKey key) => layout.Version == 2
        ? BuildCacheV2.KeysPrefix + key.Fingerprint + ".pub"
        : BuildCacheV3.BlobKey("sha256",
            Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(key.Armored))));

    /// <summary>
    /// The state of a signed document (a v3 manifest, a v2 spec file), or <see cref="SignatureState.Unsigned"/> when
    /// it is not clearsigned. A signature by a key not trusted here is checked against the cache's published keys:
    /// good → untrusted (with that key's user id), bad → invalid; by a key nobody publishes → untrusted, fingerprint
    /// from the signature. A trusted key that is expired or revoked counts as untrusted; a subkey its primary never
    /// bound for signing, a bad or unreadable signature as invalid.
    /// </summary>
    public SignatureInfo Classify(byte[] document, string location)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (!ClearSignedMessage.LooksClearSigned(document))
        {
            return new SignatureInfo(SignatureState.Unsigned, null, null, null);
        }

        var text = Encoding.UTF8.GetString(document);
        var facts = SignatureFacts(text, location);
        try
        {
            var verified = trusted.Verify(text, location);
            return new SignatureInfo(SignatureState.Trusted, verified.SignerFingerprint, verified.SignerUserId,
                facts.SignedAt);
        }
        catch (SignatureException e) when (e.Failure == SignatureFailure.UntrustedKey)
        {
            try
            {
                var verified = published.Verify(text, location);
                return new SignatureInfo(SignatureState.Untrusted, verified.SignerFingerprint, verified.SignerUserId,
                    facts.SignedAt);
            }
            catch (SignatureException p) when (p.Failure is SignatureFailure.UntrustedKey
                or SignatureFailure.KeyNotValid)
            {
                return new SignatureInfo(SignatureState.Untrusted,
                    p.PrimaryFingerprint ?? e.SignerFingerprint ?? facts.Issuer, null, facts.SignedAt);
            }
            catch (SignatureException p)
            {
                return new SignatureInfo(SignatureState.Invalid, p.PrimaryFingerprint ?? e.SignerFingerprint
                    ?? facts.Issuer, null, facts.SignedAt);
            }
        }
        catch (SignatureException e) when (e.Failure == SignatureFailure.KeyNotValid)
        {
            return new SignatureInfo(SignatureState.Untrusted, e.PrimaryFingerprint ?? e.SignerFingerprint, null,
                facts.SignedAt);
        }
        catch (SignatureException e)
        {
            return new SignatureInfo(SignatureState.Invalid, e.PrimaryFingerprint ?? e.SignerFingerprint
                ?? facts.Issuer, null, facts.SignedAt);
        }
    }

    // The signature's own claims: when it was made and by which key (its issuer fingerprint, else its key id).
    private static (DateTimeOffset? SignedAt, string? Issuer) SignatureFacts(string text, string location)
    {
        try
        {
            var message = ClearSignedMessage.Parse(text, location);
            var bytes = OpenPgpArmor.Decode(message.SignatureArmor, location);
            if (new PgpObjectFactory(bytes).NextPgpObject() is PgpSignatureList { Count: > 0 } list)
            {
                var signature = list[0];
                var issuer = SignatureVerifier.IssuerFingerprint(signature)
                    ?? signature.KeyId.ToString("X16", System.Globalization.CultureInfo.InvariantCulture);
                return (new DateTimeOffset(DateTime.SpecifyKind(signature.CreationTime, DateTimeKind.Utc)), issuer);
            }
        }
        catch (Exception e) when (e is InvalidContentException or IOException or PgpException)
        {
            // Unreadable: the verifier says so (invalid).
        }

        return (null, null);
    }
}
