using System.Security.Cryptography;
using System.Text;
using Depot.Layout;
using Depot.Storage;

namespace Depot.Tests.Operations;

/// <summary>
/// Orphans of every kind, planted in a build cache through its store: an unreferenced blob or tarball, an entry whose
/// tarball is missing, a key the key index does not list (and, in a directory, writers' temporaries). Returns every
/// key a prune must remove (and nothing else).
/// </summary>
internal static class PlantedOrphans
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private const string FingerprintA = "0123456789ABCDEF0123456789ABCDEF01234567";
    private const string FingerprintB = "89ABCDEF0123456789ABCDEF0123456789ABCDEF";

    /// <summary>A fresh DAG hash (32 base32 characters).</summary>
    public static string NewHash() =>
        string.Concat(RandomNumberGenerator.GetBytes(32).Select(b => "abcdefghijklmnopqrstuvwxyz234567"[b % 32]));

    /// <summary>Plants v3 orphans; returns the keys a prune removes.</summary>
    public static async Task<HashSet<string>> PlantV3Async(IObjectStore store)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal)
        {
            // a blob nobody names (a push killed before its manifest)
            await PutBlobAsync(store, "orphan tarball " + Guid.NewGuid()),
        };

        // an entry whose tarball blob is missing; its spec blob is named only by it, so it goes with it
        var spec = await PutBlobAsync(store, "ghost spec " + Guid.NewGuid());
        var missing = Sha("never written " + Guid.NewGuid());
        var manifest = $"{BuildCacheV3.SpecManifestPrefix}ghost/ghost-1.0-{NewHash()}{BuildCacheV3.SpecManifestSuffix}";
        await store.WriteAllBytesAsync(manifest, new BuildCacheManifest([
            new BlobRecord(10, MediaTypes.Tarball, "gzip", "sha256", missing),
            new BlobRecord(20, MediaTypes.SpecPrefix + "3+json", "gzip", "sha256", spec[(spec.LastIndexOf('/') + 1)..]),
        ]).ToJsonBytes(), Token);
        expected.Add(manifest);
        expected.Add(spec);

        // keys: A published and listed, B's manifest and blob left behind
        var keyIndex = await PutRecordAsync(store, $"{{\"keys\":{{\"{FingerprintA}\":{{}}}}}}", MediaTypes.KeyIndex);
        await store.WriteAllBytesAsync(BuildCacheV3.KeyIndexManifestKey, new BuildCacheManifest([keyIndex])
            .ToJsonBytes(), Token);
        foreach (var fpr in new[] { FingerprintA, FingerprintB })
        {
            var key = await PutRecordAsync(store, $"-----BEGIN PGP PUBLIC KEY BLOCK-----\n{fpr}\n", MediaTypes.Key);
            var keyManifest = BuildCacheV3.KeyManifestPrefix + fpr + BuildCacheV3.KeyManifestSuffix;
            await store.WriteAllBytesAsync(keyManifest, new BuildCacheManifest([key]).ToJsonBytes(), Token);
            if (fpr == FingerprintB)
            {
                expected.Add(keyManifest);
                expected.Add(key.BlobKey);
            }
        }

        return expected;
    }

    /// <summary>Plants v2 orphans next to the fixture's entries (greet's tarball deleted); returns the keys a prune
    /// removes.</summary>
    public static async Task<HashSet<string>> PlantV2Async(IObjectStore store)
    {
        var keys = await ((IStoreLister)store).ListKeysAsync(BuildCacheV2.Prefix, Token).ToListAsync(Token);
        var greetTarball = keys.Single(k => k.EndsWith(".spack", StringComparison.Ordinal)
            && k.Contains("-greet-1.0.0-", StringComparison.Ordinal));
        await store.DeleteAsync(greetTarball, Token);
        var greetSpec = keys.Single(k => k.StartsWith(BuildCacheV2.Prefix + "linux", StringComparison.Ordinal)
            && !k[BuildCacheV2.Prefix.Length..].Contains('/', StringComparison.Ordinal)
            && k.Contains("-greet-1.0.0-", StringComparison.Ordinal));
        var orphan = $"{BuildCacheV2.Prefix}linux-debian12-x86_64/gcc-12.2.0/gone-2.0/"
            + $"linux-debian12-x86_64-gcc-12.2.0-gone-2.0-{NewHash()}.spack";
        await store.WriteAllTextAsync(orphan, "orphan tarball", Token);
        await store.WriteAllTextAsync(BuildCacheV2.KeyIndexKey, $"{{\"keys\":{{\"{FingerprintA}\":{{}}}}}}", Token);
        await store.WriteAllTextAsync(BuildCacheV2.KeysPrefix + FingerprintA + ".pub", "key A", Token);
        var unlisted = BuildCacheV2.KeysPrefix + FingerprintB + ".pub";
        await store.WriteAllTextAsync(unlisted, "key B", Token);
        return new HashSet<string>(StringComparer.Ordinal) { greetSpec, orphan, unlisted };
    }

    /// <summary>Plants two temporaries in a directory mirror (a staged object at the root, a write below); returns
    /// their keys.</summary>
    public static HashSet<string> PlantTemporaries(string root)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal)
        {
            $".depot-tmp-{Guid.NewGuid():N}-staged",
            $"blobs/sha256/ab/.depot-tmp-{Guid.NewGuid():N}-ab12",
        };
        foreach (var key in keys)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, key))!);
            File.WriteAllText(Path.Combine(root, key), "half written");
        }

        return keys;
    }

    /// <summary>Makes the objects at <paramref name="keys"/> in a directory mirror <paramref name="age"/>
    /// old.</summary>
    public static void Age(string root, IEnumerable<string> keys, TimeSpan age)
    {
        foreach (var key in keys)
        {
            File.SetLastWriteTimeUtc(Path.Combine(root, key), DateTime.UtcNow - age);
        }
    }

    /// <summary>Every file under a directory mirror, as keys.</summary>
    public static HashSet<string> Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToHashSet(StringComparer.Ordinal);

    private static async Task<string> PutBlobAsync(IObjectStore store, string text) =>
        (await PutRecordAsync(store, text, MediaTypes.Tarball)).BlobKey;

    private static async Task<BlobRecord> PutRecordAsync(IObjectStore store, string text, string mediaType)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var record = new BlobRecord(bytes.Length, mediaType, "none", "sha256", Sha(text));
        await store.WriteAllBytesAsync(record.BlobKey, bytes, Token);
        return record;
    }

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
