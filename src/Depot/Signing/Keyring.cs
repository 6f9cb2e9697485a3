using System.Globalization;
using System.Text.Json;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// Depot's keyring under <c>$DEPOT_HOME/keys</c>: trusted public keys in <c>public/&lt;FPR&gt;.asc</c>, secret keys
/// in <c>secret/&lt;FPR&gt;.asc</c> (owner-only permissions), and <c>keyring.json</c> recording where each key came
/// from. A key with a secret part is also trusted for verification, as in gpg.
/// </summary>
public sealed class Keyring
{
    private readonly string folder;
    private readonly Dictionary<string, string> sources;

    private Keyring(string folder)
    {
        this.folder = folder;
        sources = LoadSources(SourcesFile);
    }

    private string PublicFolder => Path.Combine(folder, "public");

    private string SecretFolder => Path.Combine(folder, "secret");

    private string SourcesFile => Path.Combine(folder, "keyring.json");

    /// <summary>The keyring kept in <paramref name="folder"/> (a Depot home's <c>keys</c>).</summary>
    public static Keyring Open(string folder) => new(folder);

    /// <summary>Every trusted key (and whether its secret is held), sorted by user id.</summary>
    public IReadOnlyList<KeyInfo> List(bool secretOnly = false)
    {
        var secrets = SecretRings()
            .ToDictionary(r => SignatureVerifier.Fingerprint(r.GetPublicKey()), StringComparer.Ordinal);
        var list = new List<KeyInfo>();
        foreach (var ring in PublicRings())
        {
            var fpr = SignatureVerifier.Fingerprint(ring.GetPublicKey());
            if (!secretOnly || secrets.ContainsKey(fpr))
            {
                list.Add(Describe(ring.GetPublicKey(), secrets.ContainsKey(fpr), sources.GetValueOrDefault(fpr, "")));
            }
        }

        return list.OrderBy(k => k.PrimaryUserId, StringComparer.Ordinal)
            .ThenBy(k => k.Fingerprint, StringComparer.Ordinal).ToList();
    }

    /// <summary>Trusted public key rings, for verification.</summary>
    public IReadOnlyList<PgpPublicKeyRing> TrustedRings() => PublicRings().ToList();

    /// <summary>
    /// Imports every key in armored text. Secret keys are stored and their public parts trusted. Public keys are kept
    /// as <see cref="CertifiedKeyRing"/> says, merged with the copy already trusted: whoever supplies a key can add
    /// only what its primary key signed.
    /// </summary>
    /// <returns>The keys imported, in the order found.</returns>
    public IReadOnlyList<KeyInfo> Import(string armored, string location, string source)
    {
        var (publicRings, secretRings) = OpenPgpArmor.ReadKeyRings(armored, location);
        var imported = new List<KeyInfo>();
        foreach (var secret in secretRings)
        {
            var pub = secret.GetPublicKey();
            if (secret.GetSecretKey().KeyEncryptionAlgorithm != SymmetricKeyAlgorithmTag.Null)
            {
                throw new DepotException(ErrorKind.Unsupported,
                    $"{location}: secret key {SignatureVerifier.Fingerprint(pub)} is protected by a passphrase; export "
                    + "it without one (gpg --export-secret-keys after removing the passphrase)");
            }

            WriteSecret(secret);
            WritePublic(PublicRingOf(secret), source, location);
            imported.Add(Describe(pub, true, source));
        }

        foreach (var ring in publicRings)
        {
            var fpr = SignatureVerifier.Fingerprint(ring.GetPublicKey());
            if (imported.Any(k => k.Fingerprint == fpr))
            {
                continue;
            }

            WritePublic(ring, source, location);
            imported.Add(Describe(ring.GetPublicKey(), File.Exists(SecretPath(fpr)), source));
        }

        return imported;
    }

    /// <summary>Creates a signing key and keeps it (secret and trusted public parts).</summary>
    public KeyInfo Create(string name, string email, string? comment, DateTimeOffset? expires, KeyAlgorithm algorithm)
    {
        var ring = KeyGenerator.Create(name, email, comment, expires, algorithm);
        WriteSecret(ring);
        WritePublic(PublicRingOf(ring), "created", "created key");
        return Describe(ring.GetPublicKey(), true, "created");
    }

    /// <summary>Resolves a full fingerprint, a 16-hex key id, or a unique fingerprint suffix of 8+ digits.</summary>
    /// <exception cref="DepotException">No key, or several keys, match.</exception>
    public KeyInfo Find(string id, bool secret = false)
    {
        var wanted = NormalizeId(id);
        var matches = List(secret).Where(k => k.Fingerprint.EndsWith(wanted, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new DepotException(ErrorKind.NotFound,
                $"no {(secret ? "secret" : "trusted")} key {id} in {folder}", ErrorHint.ListKeys(secret)),
            _ => throw new DepotException(ErrorKind.Usage,
                $"key id {id} is ambiguous: {string.Join(", ", matches.Select(m => m.Fingerprint))}"),
        };
    }

    /// <summary>The ASCII-armored public key, as <c>gpg --armor --export</c> writes it.</summary>
    public string ExportPublic(string id)
    {
        var key = Find(id);
        return OpenPgpArmor.Armor(OpenPgpArmor.PublicKeyBlock, File.Exists(PublicPath(key.Fingerprint))
            ? ReadRing<PgpPublicKeyRing>(PublicPath(key.Fingerprint)).GetEncoded()
            : throw new DepotException(ErrorKind.NotFound,
                $"public key {key.Fingerprint} missing from {PublicFolder}"));
    }

    /// <summary>The ASCII-armored secret key, as <c>gpg --armor --export-secret-keys</c> writes it.</summary>
    public string ExportSecret(string id)
    {
        var key = Find(id, secret: true);
        return OpenPgpArmor.Armor(OpenPgpArmor.PrivateKeyBlock, ReadSecretRing(key.Fingerprint).GetEncoded());
    }

    /// <summary>
    /// Writes the ASCII-armored secret key to <paramref name="path"/>, owner-only (0600) whether or not the file
    /// existed: the text goes to a new owner-only file beside it, which then replaces the target, so an existing
    /// file's permissions never apply to the secret.
    /// </summary>
    public void ExportSecretToFile(string id, string path)
    {
        var text = ExportSecret(id);
        WriteAtomically(Path.GetFullPath(path), text, ownerOnly: true);
    }

    /// <summary>Forgets a key: its trusted public part and its secret, if held.</summary>
    public KeyInfo Remove(string id)
    {
        var key = Find(id);
        File.Delete(PublicPath(key.Fingerprint));
        if (File.Exists(SecretPath(key.Fingerprint)))
        {
            File.Delete(SecretPath(key.Fingerprint));
        }

        sources.Remove(key.Fingerprint);
        SaveSources();
        return key;
    }

    /// <summary>
    /// The key to sign with: <paramref name="id"/> if given, else the only secret key (Spack's rule). Several
    /// secret keys and no choice is an error listing them.
    /// </summary>
    public PgpSecretKey SigningKey(string? id = null)
    {
        KeyInfo key;
        if (id is not null)
        {
            key = Find(id, secret: true);
        }
        else
        {
            var all = List(secretOnly: true);
            key = all.Count switch
            {
                1 => all[0],
                0 => throw new DepotException(ErrorKind.NotFound, "no signing key",
                    new ErrorHint(HintAction.CreateSigningKey)),
                _ => throw new DepotException(ErrorKind.Usage,
                    "several signing keys (" + string.Join(", ", all.Select(k => k.Fingerprint)) + ")",
                    ErrorHint.ChooseSigningKey(all.Select(k => k.Fingerprint))),
            };
        }

        // The key that verifiers will accept: the primary when it may sign, else the newest signing subkey it bound.
        var ring = ReadSecretRing(key.Fingerprint);
        var publicRing = PublicRingOf(ring);
        var certification = new KeyCertification(new SignatureMath());
        var now = DateTime.UtcNow;
        var statuses = publicRing.GetPublicKeys().Cast<PgpPublicKey>()
            .Select(k => certification.Evaluate(publicRing.GetPublicKey(), k, now))
            .ToList();
        var usable = statuses.Where(s => s.Failure is null && (s.Expires is null || s.Expires > now)
            && s.Key.CreationTime <= now)
            .OrderByDescending(s => s.IsPrimary).ThenByDescending(s => s.Key.CreationTime)
            .FirstOrDefault();
        if (usable is not null && ring.GetSecretKey(usable.Key.KeyId) is { } secret)
        {
            return secret;
        }

        var why = statuses.FirstOrDefault(s => s.Failure is not null)?.Problem
            ?? (statuses.Any(s => s.Expires <= now) ? "it has expired" : "no key of it may sign");
        throw new DepotException(ErrorKind.Trust, $"key {key.Fingerprint} has no usable signing key: {why}");
    }

    public static KeyInfo Describe(PgpPublicKey key, bool hasSecret, string source)
    {
        var fpr = SignatureVerifier.Fingerprint(key);
        var valid = key.GetValidSeconds();
        var created = new DateTimeOffset(DateTime.SpecifyKind(key.CreationTime, DateTimeKind.Utc));
        var algorithm = key.Algorithm switch
        {
            PublicKeyAlgorithmTag.RsaGeneral or PublicKeyAlgorithmTag.RsaSign =>
                "rsa" + key.BitStrength.ToString(CultureInfo.InvariantCulture),
            PublicKeyAlgorithmTag.EdDsa_Legacy or PublicKeyAlgorithmTag.Ed25519 => "ed25519",
            PublicKeyAlgorithmTag.Dsa => "dsa" + key.BitStrength.ToString(CultureInfo.InvariantCulture),
            PublicKeyAlgorithmTag.ECDsa => "ecdsa",
            var other => other.ToString().ToLowerInvariant(),
        };
        return new KeyInfo(fpr, fpr[^16..], SignatureVerifier.UserIds(key).ToList(), created,
            valid > 0 ? created.AddSeconds(valid) : null, algorithm, hasSecret, source);
    }

    internal static string NormalizeId(string id)
    {
        var wanted = id.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        if (wanted.StartsWith("0X", StringComparison.Ordinal))
        {
            wanted = wanted[2..];
        }

        if (wanted.Length < 8 || !wanted.All(char.IsAsciiHexDigit))
        {
            throw new DepotException(ErrorKind.Usage,
                $"'{id}' is not a key fingerprint or key id (8 to 40 hex digits)");
        }

        return wanted;
    }

    private static PgpPublicKeyRing PublicRingOf(PgpSecretKeyRing secret)
    {
        var keys = new List<PgpPublicKey>();
        foreach (PgpPublicKey k in secret.GetPublicKeys())
        {
            keys.Add(k);
        }

        return new PgpPublicKeyRing(keys.SelectMany(k => k.GetEncoded()).ToArray());
    }

    private IEnumerable<PgpPublicKeyRing> PublicRings() =>
        Directory.Exists(PublicFolder)
            ? Directory.EnumerateFiles(PublicFolder, "*.asc").Order(StringComparer.Ordinal)
                .Select(ReadRing<PgpPublicKeyRing>)
            : [];

    private IEnumerable<PgpSecretKeyRing> SecretRings() =>
        Directory.Exists(SecretFolder)
            ? Directory.EnumerateFiles(SecretFolder, "*.asc").Order(StringComparer.Ordinal)
                .Select(ReadRing<PgpSecretKeyRing>)
            : [];

    private static T ReadRing<T>(string path)
    {
        var (publicRings, secretRings) = OpenPgpArmor.ReadKeyRings(File.ReadAllText(path), path);
        object? ring = typeof(T) == typeof(PgpSecretKeyRing) ? secretRings.FirstOrDefault()
            : publicRings.FirstOrDefault();
        return ring is T t ? t : throw new InvalidContentException(path, $"expected a {typeof(T).Name}");
    }

    /// <summary>A secret key to use (sign, export): refused when others can read its file.</summary>
    private PgpSecretKeyRing ReadSecretRing(string fpr)
    {
        Posix.OwnerOnly.RequireUnreadableByOthers(SecretPath(fpr), "secret key " + fpr);
        return ReadRing<PgpSecretKeyRing>(SecretPath(fpr));
    }

    private string PublicPath(string fpr) => Path.Combine(PublicFolder, fpr + ".asc");

    private string SecretPath(string fpr) => Path.Combine(SecretFolder, fpr + ".asc");

    private void WritePublic(PgpPublicKeyRing ring, string source, string location)
    {
        var fpr = SignatureVerifier.Fingerprint(ring.GetPublicKey());
        CreateKeysFolder();
        Directory.CreateDirectory(PublicFolder);

        // Keep what we have, and take of the new copy only what the key's primary signed (e.g. an extended expiry,
        // a revocation): a copy from a mirror never adds a subkey or user id the key's owner did not certify.
        ring = CertifiedKeyRing.Merge(File.Exists(PublicPath(fpr)) ? [ReadRing<PgpPublicKeyRing>(PublicPath(fpr)), ring]
            : [ring], location);

        WriteAtomically(PublicPath(fpr), OpenPgpArmor.Armor(OpenPgpArmor.PublicKeyBlock, ring.GetEncoded()),
            ownerOnly: false);
        if (!sources.ContainsKey(fpr))
        {
            sources[fpr] = source;
            SaveSources();
        }
    }

    private void WriteSecret(PgpSecretKeyRing ring)
    {
        var fpr = SignatureVerifier.Fingerprint(ring.GetPublicKey());
        CreateKeysFolder();
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(SecretFolder);
        }
        else
        {
            Directory.CreateDirectory(SecretFolder,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            File.SetUnixFileMode(SecretFolder,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        WriteAtomically(SecretPath(fpr), OpenPgpArmor.Armor(OpenPgpArmor.PrivateKeyBlock, ring.GetEncoded()),
            ownerOnly: true);
    }

    /// <summary>
    /// Writes a new file beside <paramref name="path"/> (a fresh name, created exclusively, so no existing file or
    /// symlink is written through and, when <paramref name="ownerOnly"/>, it is 0600 from its first byte), then
    /// renames it over the target, which thus takes the new file's permissions.
    /// </summary>
    private static void WriteAtomically(string path, string text, bool ownerOnly)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..12];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (ownerOnly && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var writer = new StreamWriter(temp, System.Text.Encoding.ASCII, options))
            {
                writer.Write(text);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            File.Delete(temp);
            throw Posix.PermissionDenied.Explain(e, path);
        }
        catch (IOException e)
        {
            File.Delete(temp);
            throw new DepotException(ErrorKind.IO, $"{path}: cannot write: {e.Message}");
        }
    }

    private static Dictionary<string, string> LoadSources(string path)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), KeyringJson.Default.DictionaryStringString)
                ?? new Dictionary<string, string>(StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(path, "malformed JSON: " + e.Message);
        }
    }

    /// <summary>Depot's home and its keys folder, created owner-only when missing.</summary>
    private void CreateKeysFolder()
    {
        if (Path.GetDirectoryName(folder) is { Length: > 0 } home)
        {
            Posix.OwnerOnly.CreateFolder(home);
        }

        Posix.OwnerOnly.CreateFolder(folder);
    }

    private void SaveSources()
    {
        CreateKeysFolder();
        WriteAtomically(SourcesFile,
            JsonSerializer.Serialize(new SortedDictionary<string, string>(sources, StringComparer.Ordinal),
            KeyringJson.Default.SortedDictionaryStringString), ownerOnly: false);
    }
}

/// <summary><c>keyring.json</c>'s shape, generated at compile time (no reflection: trimming and Native AOT
/// safe).</summary>
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(SortedDictionary<string, string>))]
internal sealed partial class KeyringJson : System.Text.Json.Serialization.JsonSerializerContext;
