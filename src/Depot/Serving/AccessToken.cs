using System.Security.Cryptography;
using System.Text;

namespace Depot.Serving;

/// <summary>
/// The text of a server token, <c>dpt_&lt;id&gt;_&lt;secret&gt;</c>: a short public id (12 hex digits, what
/// <c>token list</c> shows and <c>token revoke</c> takes, safe in logs) and a 256-bit random secret (64 hex digits).
/// Hex only, so a token survives URLs, <c>.netrc</c> files and Basic credentials unquoted; the prefix lets secret
/// scanners recognise a leaked one.
/// </summary>
public static class AccessToken
{
    /// <summary>What every token starts with.</summary>
    public const string Prefix = "dpt_";

    private const int IdBytes = 6;
    private const int SecretBytes = 32;

    /// <summary>A fresh token: its public id and its full text (shown once, never stored).</summary>
    public static (string Id, string Text) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdBytes));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(SecretBytes));
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The public id of <paramref name="text"/> when it has a token's shape, else null.</summary>
    public static string? IdOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length != Prefix.Length + (2 * IdBytes) + 1 + (2 * SecretBytes)
            || !text.StartsWith(Prefix, StringComparison.Ordinal) || text[Prefix.Length + (2 * IdBytes)] != '_')
        {
            return null;
        }

        var id = text.Substring(Prefix.Length, 2 * IdBytes);
        var secret = text.AsSpan(Prefix.Length + (2 * IdBytes) + 1);
        return IsHex(id) && IsHex(secret) ? id : null;
    }

    /// <summary>
    /// What the tokens file keeps of a token: the SHA-256 of its text (lowercase hex). A plain hash, not a slow
    /// password hash (bcrypt, argon2): those exist to make guessing low-entropy passwords expensive, and a 256-bit
    /// random secret cannot be guessed however fast the hash; a fast hash also keeps every request cheap.
    /// </summary>
    public static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// Whether <paramref name="text"/> hashes to <paramref name="storedHash"/>, in time independent of where they
    /// differ (no timing oracle on the stored hash).
    /// </summary>
    public static bool Matches(string text, string storedHash)
    {
        ArgumentNullException.ThrowIfNull(storedHash);
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        Span<byte> stored = stackalloc byte[SHA256.HashSizeInBytes];
        if (storedHash.Length != 2 * SHA256.HashSizeInBytes
            || Convert.FromHexString(storedHash, stored, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != stored.Length)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(presented, stored);
    }

    private static bool IsHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
