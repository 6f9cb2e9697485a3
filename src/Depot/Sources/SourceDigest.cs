using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace Depot.Sources;

/// <summary>
/// The checksum a source archive is named by. Spack names an archive after the digest its package declares, and tells
/// the algorithm by the digest's length (md5, sha1, sha224, sha256, sha384, sha512), so a name alone says how to check
/// the bytes.
/// </summary>
public sealed record SourceDigest(string Algorithm, string Hex)
{
    /// <summary>The digest a name holds, or null when it is not a hex digest of a known length.</summary>
    public static SourceDigest? Parse(string hex)
    {
        if (hex.Length == 0 || !hex.All(char.IsAsciiHexDigit))
        {
            return null;
        }

        var algorithm = hex.Length switch
        {
            32 => "md5",
            40 => "sha1",
            56 => "sha224",
            64 => "sha256",
            96 => "sha384",
            128 => "sha512",
            _ => null,
        };
        return algorithm is null ? null : new SourceDigest(algorithm, hex.ToLowerInvariant());
    }

    /// <summary>A hasher of this digest's algorithm.</summary>
    public SourceHasher CreateHasher() => new(Algorithm);

    /// <summary>"sha256 abcd…", for messages.</summary>
    public override string ToString() => $"{Algorithm} {Hex}";
}

/// <summary>Hashes a stream as it passes, with one of Spack's checksum algorithms.</summary>
public sealed class SourceHasher : IDisposable
{
    private readonly IncrementalHash? platform;
    private readonly Sha224Digest? sha224;

    /// <summary>A hasher for <paramref name="algorithm"/> (a name <see cref="SourceDigest.Parse"/> gives).</summary>
    public SourceHasher(string algorithm)
    {
        if (algorithm == "sha224")
        {
            sha224 = new Sha224Digest(); // the platform has no SHA-224
            return;
        }

        platform = IncrementalHash.CreateHash(algorithm switch
        {
#pragma warning disable CA5350, CA5351 // names, not security: Spack's package digests include md5 and sha1
            "md5" => HashAlgorithmName.MD5,
            "sha1" => HashAlgorithmName.SHA1,
#pragma warning restore CA5350, CA5351
            "sha256" => HashAlgorithmName.SHA256,
            "sha384" => HashAlgorithmName.SHA384,
            "sha512" => HashAlgorithmName.SHA512,
            _ => throw new ArgumentException($"unknown checksum algorithm {algorithm}", nameof(algorithm)),
        });
    }

    /// <summary>Adds bytes.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (sha224 is not null)
        {
            sha224.BlockUpdate(data);
        }
        else
        {
            platform!.AppendData(data);
        }
    }

    /// <summary>The lower-case hex digest of everything appended.</summary>
    public string Finish()
    {
        if (sha224 is not null)
        {
            var output = new byte[sha224.GetDigestSize()];
            sha224.DoFinal(output, 0);
            return Convert.ToHexStringLower(output);
        }

        return Convert.ToHexStringLower(platform!.GetHashAndReset());
    }

    public void Dispose() => platform?.Dispose();
}
