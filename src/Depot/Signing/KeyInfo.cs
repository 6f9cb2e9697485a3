namespace Depot.Signing;

/// <summary>What a user needs to know about a key: identity, age, and where it came from.</summary>
/// <param name="Fingerprint">40 upper-case hex digits, as gpg prints it.</param>
/// <param name="KeyId">The low 64 bits of the fingerprint, 16 upper-case hex digits.</param>
/// <param name="UserIds">User ids, primary first.</param>
/// <param name="Created">Creation time of the primary key.</param>
/// <param name="Expires">Expiry time, or null when the key does not expire.</param>
/// <param name="Algorithm">e.g. <c>rsa4096</c>, <c>ed25519</c>.</param>
/// <param name="HasSecret">True when the keyring holds the secret key (it can sign).</param>
/// <param name="Source">Where the key came from (file, mirror URL, "created").</param>
public sealed record KeyInfo(string Fingerprint, string KeyId, IReadOnlyList<string> UserIds, DateTimeOffset Created,
    DateTimeOffset? Expires, string Algorithm, bool HasSecret, string Source)
{
    public string PrimaryUserId => UserIds.Count > 0 ? UserIds[0] : "(no user id)";
}
