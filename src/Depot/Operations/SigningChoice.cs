using Depot.Configuration;
using Depot.Layout;
using Depot.Signing;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Operations;

/// <summary>What a mirror opened for writing is asked to do: sign or not, with which key, in which layout.</summary>
/// <param name="Unsigned">Write unsigned (<c>--unsigned</c>).</param>
/// <param name="Key">Fingerprint (or id) of the signing key (<c>--key</c>); null: the keyring's only secret key.
/// </param>
/// <param name="Layout">Layout to write (<c>--layout</c>); null: the mirror's own, v3 if new, OCI for a registry.
/// </param>
public sealed record MirrorWriteOptions(bool Unsigned = false, string? Key = null, PushLayout? Layout = null)
{
    /// <summary>Refuses options that contradict each other (hosts may call it before any slow work).</summary>
    /// <exception cref="DepotException">Both unsigned and a key were asked for.</exception>
    public MirrorWriteOptions Validate() =>
        Unsigned && Key is not null
            ? throw new DepotException(ErrorKind.Usage, "--unsigned and --key contradict each other") : this;
}

/// <summary>
/// The key a mirror's writes are signed with and the public key published beside them, or neither (unsigned).
/// Decided once, when the mirror is opened for writing.
/// </summary>
/// <param name="Key">The secret key that signs manifests / spec files; null writes unsigned.</param>
/// <param name="Published">The public key to publish on the mirror with the index; null when unsigned.</param>
public sealed record SigningChoice(PgpSecretKey? Key, PublishedKey? Published)
{
    /// <summary>Nothing is signed, no key is published.</summary>
    public static SigningChoice Unsigned { get; } = new(null, null);

    /// <summary>True when writes are signed.</summary>
    public bool Signs => Key is not null;

    /// <summary>
    /// Spack's rule for push (Depot's for copy too): unsigned when asked, else signed when a key is named, else as the
    /// mirror is configured (<c>signed</c>, default true).
    /// </summary>
    /// <exception cref="DepotException">Both unsigned and a key were asked for.</exception>
    public static bool Wanted(MirrorWriteOptions options, MirrorConfig? configured)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return !options.Unsigned && (options.Key is not null || configured?.Signed != false);
    }

    /// <summary>
    /// The choice for a mirror opened for writing: <see cref="Wanted"/>, then the key from the keyring.
    /// </summary>
    /// <exception cref="DepotException">The options contradict each other, or the keyring has no such secret key.
    /// </exception>
    public static SigningChoice Decide(DepotHome home, MirrorWriteOptions options, MirrorConfig? configured) =>
        Wanted(options, configured) ? WithKey(home, options.Key) : Unsigned;

    /// <summary>
    /// Signs with the keyring's secret key <paramref name="key"/> (null: its only one), publishing its public key.
    /// </summary>
    /// <exception cref="DepotException">No such secret key, or several and none named.</exception>
    public static SigningChoice WithKey(DepotHome home, string? key)
    {
        ArgumentNullException.ThrowIfNull(home);
        var keyring = Keyring.Open(home.KeysFolder);
        var secret = keyring.SigningKey(key);
        var fingerprint = SignatureVerifier.Fingerprint(secret.PublicKey);
        return new SigningChoice(secret, new PublishedKey(fingerprint, keyring.ExportPublic(fingerprint), fingerprint));
    }
}

/// <summary>The names of <see cref="PushLayout"/> a user types (<c>--layout</c>).</summary>
public static class PushLayouts
{
    /// <summary>
    /// The names a user may ask for (a registry's OCI layout is never asked for: it is the only one).
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = ["v3", "v2", "v2-0.22"];

    /// <summary>v3, v2 (Spack 0.21's) or v2-0.22 (Spack 0.22/0.23's); null stays null (the mirror's own).</summary>
    /// <exception cref="DepotException">Another name.</exception>
    public static PushLayout? Parse(string? name) => name switch
    {
        null => null,
        "v3" => PushLayout.V3,
        "v2" => PushLayout.V2,
        "v2-0.22" => PushLayout.V2Spack022,
        _ => throw new DepotException(ErrorKind.Usage, $"layout '{name}' is not one of {string.Join(", ", Names)}"),
    };
}
