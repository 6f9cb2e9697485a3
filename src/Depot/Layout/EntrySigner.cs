using System.Text;
using Depot.Formats;
using Depot.Signing;
using Depot.Storage;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Layout;

/// <summary>
/// The key a writer signs entries with: clearsigns text as gpg does, from any of the writer's tasks at once (see
/// <see cref="DocumentSigner"/>), and tells whether a signed text is already this key's.
/// </summary>
internal sealed class EntrySigner(PgpSecretKey key)
{
    private readonly DocumentSigner signer = new(key);

    /// <summary>A signer for <paramref name="key"/>, or null when entries are written unsigned.</summary>
    public static EntrySigner? For(PgpSecretKey? key) => key is null ? null : new EntrySigner(key);

    /// <summary>The clearsigned document of <paramref name="text"/>.</summary>
    public string Sign(string text) => ClearSigner.Sign(text, signer);

    /// <summary>UTF-8 <paramref name="text"/> clearsigned, as UTF-8.</summary>
    public byte[] Sign(byte[] text) => Encoding.UTF8.GetBytes(Sign(Encoding.UTF8.GetString(text)));

    /// <summary>True when <paramref name="clearSigned"/> carries a good signature by this key.</summary>
    public bool HasSigned(string clearSigned, string location) =>
        SignatureVerifier.IsSignedBy(clearSigned, key.PublicKey, location);

    /// <exception cref="DepotException">No key: the writer was made to write unsigned.</exception>
    public static EntrySigner Required(EntrySigner? signer, IBuildCacheLayout layout) =>
        signer ?? throw new DepotException($"{layout.Store.Root}: signing entries needs a signing key");

    /// <summary>
    /// Signs the text entry at <paramref name="entry"/> (v3 manifest, v2 spec file) in place, its body byte for byte:
    /// false when this key signed it already and not <paramref name="force"/>. The entry is read and checked (without
    /// trust) before it is vouched for; the signed text goes to <paramref name="signedKey"/>, and a different
    /// <paramref name="entry"/> key is then deleted.
    /// </summary>
    public async Task<bool> SignInPlaceAsync(IBuildCacheLayout layout, SpecEntry entry, string signedKey, bool force,
        CancellationToken cancellationToken)
    {
        var store = layout.Store.RequireWritable();
        var location = store.Describe(entry.Key);
        var bytes = await store.ReadAllBytesAsync(entry.Key, 64 << 20, cancellationToken).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(bytes);
        if (ClearSignedMessage.LooksClearSigned(Encoding.UTF8.GetBytes(text[..Math.Min(64, text.Length)])))
        {
            if (!force && HasSigned(text, location))
            {
                return false;
            }

            text = ClearSignedMessage.Parse(text, location).Body;
        }

        // Check the entry is sound before vouching for it.
        await layout.ReadEntryAsync(entry, TrustPolicy.None(store.Root), cancellationToken).ConfigureAwait(false);
        await store.WriteAllTextAsync(signedKey, Sign(text), cancellationToken).ConfigureAwait(false);
        if (signedKey != entry.Key)
        {
            await store.DeleteAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
