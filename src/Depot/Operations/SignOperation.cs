using System.Text;
using Depot.Formats;
using Depot.Layout;
using Depot.Signing;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>What <see cref="SignOperation"/> did.</summary>
public sealed record SignResult(int Signed, int AlreadySigned, IReadOnlyList<EntryProblem> Problems);

/// <summary>
/// Signs the entries of an existing mirror with a keyring key, as Spack would have at push time: v3 spec manifests
/// are clearsigned in place; v2 spec files get a <c>.spec.json.sig</c> that replaces the plain <c>.spec.json</c>; OCI
/// images (Spack's are never signed) get a signature artifact beside them, the images themselves untouched.
/// Entries already signed by this key are left alone unless <c>force</c>; the JSON text is kept byte for byte.
/// </summary>
public static class SignOperation
{
    public static async Task<SignResult> RunAsync(IObjectStore store, PgpSecretKey key, bool force, int parallelism = 8,
        CancellationToken cancellationToken = default)
    {
        var signed = 0;
        var already = 0;
        var privateKey = key.ExtractPrivateKey(Array.Empty<char>());
        var problems = new List<EntryProblem>();
        foreach (var layout in await BuildCache.DetectAsync(store, cancellationToken).ConfigureAwait(false))
        {
            var entries = new List<SpecEntry>();
            await foreach (var entry in layout.ListSpecEntriesAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(entry);
            }

            await Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
                async (entry, ct) =>
                {
                    try
                    {
                        if (await SignEntryAsync(store, layout, entry, key, privateKey, force, ct).ConfigureAwait(false))
                        {
                            Interlocked.Increment(ref signed);
                        }
                        else
                        {
                            Interlocked.Increment(ref already);
                        }
                    }
                    catch (DepotException e) when (e.Kind.ConcernsOneEntry())
                    {
                        lock (problems)
                        {
                            problems.Add(new EntryProblem(store.Describe(entry.Key), "skipped entry: " + e.Message, e.Kind, e.Hint));
                        }
                    }
                }).ConfigureAwait(false);
        }

        return new SignResult(signed, already, problems.OrderBy(p => p.Location, StringComparer.Ordinal).ToList());
    }

    private static async Task<bool> SignEntryAsync(IObjectStore store, IBuildCacheLayout layout, SpecEntry entry, PgpSecretKey key,
        PgpPrivateKey privateKey, bool force, CancellationToken cancellationToken)
    {
        if (layout is BuildCacheOci oci)
        {
            return await SignImageAsync(oci, entry, key, privateKey, force, cancellationToken).ConfigureAwait(false);
        }

        var location = store.Describe(entry.Key);
        var text = Encoding.UTF8.GetString(await store.ReadAllBytesAsync(entry.Key, 64 << 20, cancellationToken).ConfigureAwait(false));
        if (ClearSignedMessage.LooksClearSigned(Encoding.UTF8.GetBytes(text[..Math.Min(64, text.Length)])))
        {
            if (!force && SignatureVerifier.IsSignedBy(text, key.PublicKey, location))
            {
                return false;
            }

            text = ClearSignedMessage.Parse(text, location).Body;
        }

        // Check the entry is sound before vouching for it.
        await layout.ReadEntryAsync(entry, TrustPolicy.None(store.Root), cancellationToken).ConfigureAwait(false);
        var signedText = ClearSigner.Sign(text, key, privateKey);
        if (layout is BuildCacheV2 && !entry.Key.EndsWith(BuildCacheV2.SignedSuffix, StringComparison.Ordinal))
        {
            await store.WriteAllTextAsync(entry.Key + ".sig", signedText, cancellationToken).ConfigureAwait(false);
            await store.DeleteAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await store.WriteAllTextAsync(entry.Key, signedText, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static async Task<bool> SignImageAsync(BuildCacheOci layout, SpecEntry entry, PgpSecretKey key, PgpPrivateKey privateKey,
        bool force, CancellationToken cancellationToken)
    {
        var registry = layout.Oci.Registry;
        var image = await layout.ReadImageAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        if (!force && await OciSignatures.FindAsync(registry, image.ManifestDigest, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            if (SignatureVerifier.IsSignedBy(existing.Text, key.PublicKey, existing.Location))
            {
                return false;
            }

            // Signed by another key, or damaged: replaced below.
        }

        // Check the entry is sound before vouching for it.
        await layout.ReadEntryAsync(entry, TrustPolicy.None(layout.Store.Root), cancellationToken).ConfigureAwait(false);
        var signed = ClearSigner.Sign(Encoding.UTF8.GetString(image.Config), key, privateKey);
        await OciSignatures.PublishAsync(registry, new Storage.Oci.OciDescriptor(image.Manifest.MediaType, image.ManifestDigest, image.ManifestSize), signed,
            cancellationToken).ConfigureAwait(false);
        return true;
    }
}
