using System.Text;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Depot.Signing;

/// <summary>
/// Reads and writes ASCII-armored OpenPGP data. Writing is done by hand so the output matches GnuPG 2.2 byte for
/// byte: no <c>Version:</c> header, a blank line after the BEGIN line, 64-character lines, the CRC-24 line.
/// </summary>
public static class OpenPgpArmor
{
    public const string PublicKeyBlock = "PGP PUBLIC KEY BLOCK";
    public const string PrivateKeyBlock = "PGP PRIVATE KEY BLOCK";
    public const string SignatureBlock = "PGP SIGNATURE";

    public static string Armor(string blockType, ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder();
        sb.Append("-----BEGIN ").Append(blockType).Append("-----\n\n");
        var base64 = Convert.ToBase64String(data);
        for (var i = 0; i < base64.Length; i += 64)
        {
            sb.Append(base64.AsSpan(i, Math.Min(64, base64.Length - i))).Append('\n');
        }

        var crc = Crc24(data);
        sb.Append('=').Append(Convert.ToBase64String([(byte)(crc >> 16), (byte)(crc >> 8), (byte)crc])).Append('\n');
        sb.Append("-----END ").Append(blockType).Append("-----\n");
        return sb.ToString();
    }

    /// <summary>Splits text into its armored blocks (a file may hold public and secret keys one after
    /// another).</summary>
    public static IEnumerable<string> Blocks(string text)
    {
        var start = 0;
        while ((start = text.IndexOf("-----BEGIN PGP ", start, StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf("-----END PGP ", start, StringComparison.Ordinal);
            if (end < 0)
            {
                yield break;
            }

            var close = text.IndexOf("-----", end + 13, StringComparison.Ordinal);
            if (close < 0)
            {
                yield break;
            }

            yield return text[start..(close + 5)] + "\n";
            start = close + 5;
        }
    }

    /// <summary>Decodes one armored block to its binary packets, checking the CRC.</summary>
    /// <exception cref="InvalidContentException">The armor is malformed.</exception>
    public static byte[] Decode(string block, string location)
    {
        try
        {
            using var input = new ArmoredInputStream(new MemoryStream(Encoding.ASCII.GetBytes(block)));
            using var output = new MemoryStream();
            input.CopyTo(output);
            if (output.Length == 0)
            {
                throw new InvalidContentException(location, "empty OpenPGP armor block");
            }

            return output.ToArray();
        }
        catch (IOException e)
        {
            throw new InvalidContentException(location, "malformed OpenPGP armor: " + e.Message);
        }
    }

    /// <summary>Reads every public and secret key ring in armored text.</summary>
    public static (List<PgpPublicKeyRing> Public, List<PgpSecretKeyRing> Secret) ReadKeyRings(string text,
        string location)
    {
        var publicRings = new List<PgpPublicKeyRing>();
        var secretRings = new List<PgpSecretKeyRing>();
        foreach (var block in Blocks(text))
        {
            var bytes = Decode(block, location);
            try
            {
                var factory = new PgpObjectFactory(bytes);
                PgpObject? obj;
                while ((obj = factory.NextPgpObject()) is not null)
                {
                    switch (obj)
                    {
                        case PgpPublicKeyRing pub:
                            CheckSubpackets(pub.GetPublicKeys());
                            publicRings.Add(pub);
                            break;
                        case PgpSecretKeyRing sec:
                            CheckSubpackets(sec.GetPublicKeys());
                            secretRings.Add(sec);
                            break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or PgpException or UnsupportedPacketVersionException
                or InvalidOperationException or ArgumentException)
            {
                // UnsupportedPacketVersionException: a packet of a version BouncyCastle does not read (it derives
                // from neither of the others). InvalidOperationException, ArgumentException: a signature subpacket
                // of the wrong size (CheckSubpackets).
                throw new InvalidContentException(location, "unreadable OpenPGP key data: " + e.Message);
            }
        }

        if (publicRings.Count == 0 && secretRings.Count == 0)
        {
            throw new InvalidContentException(location, "no OpenPGP key found (expected an ASCII-armored key block)");
        }

        return (publicRings, secretRings);
    }

    /// <summary>
    /// Reads, once, every signature subpacket Depot later asks keys and their signatures for. BouncyCastle parses
    /// them only when asked, so a malformed one (a creation time of five bytes) would otherwise throw from deep inside
    /// listing or trusting a key; here it makes the key block unreadable, named by its file.
    /// </summary>
    private static void CheckSubpackets(IEnumerable<PgpPublicKey> keys)
    {
        foreach (var key in keys)
        {
            _ = key.GetValidSeconds();
            foreach (var signature in key.GetSignatures())
            {
                _ = signature.CreationTime;
                if (signature.GetHashedSubPackets() is { } hashed)
                {
                    _ = hashed.GetKeyExpirationTime() + hashed.GetSignatureExpirationTime();
                    _ = hashed.HasSubpacket(SignatureSubpacketTag.KeyFlags) ? hashed.GetKeyFlags() : 0;
                }
            }
        }
    }

    private static int Crc24(ReadOnlySpan<byte> data)
    {
        var crc = 0xB704CE;
        foreach (var b in data)
        {
            crc ^= b << 16;
            for (var i = 0; i < 8; i++)
            {
                crc <<= 1;
                if ((crc & 0x1000000) != 0)
                {
                    crc ^= 0x1864CFB;
                }
            }
        }

        return crc & 0xFFFFFF;
    }
}
