using System.Text;
using CsCheck;
using Depot.Signing;

namespace Depot.Tests.Signing;

/// <summary>
/// Hostile OpenPGP data from a mirror: armored or binary key packets through <see cref="OpenPgpArmor.ReadKeyRings"/>,
/// <see cref="Keyring.Describe"/> and <see cref="CertifiedKeyRing.Merge"/>, and clearsigned documents through
/// <see cref="SignatureVerifier.Verify"/> with the fixture key trusted. Only Depot's own errors may come out.
/// </summary>
public sealed class SigningFuzzTests
{
    private static readonly Lazy<SignatureVerifier> Verifier = new(() => new SignatureVerifier(
        OpenPgpArmor.ReadKeyRings(File.ReadAllText(TestData.Path("spack-1.2/keys/public.asc")), "public.asc").Public));

    /// <summary>OpenPGP packet headers of every tag and length form, followed by random bodies.</summary>
    private static readonly Gen<byte[]> PacketLike =
        Gen.Select(Gen.Int[0, 63], Gen.Int[0, 3], Gen.Byte.Array[0, 300]).Select<int, int, byte[], byte[]>(
            (tag, form, body) =>
        {
            var header = form switch
            {
                0 => new byte[] { (byte)(0x80 | (tag & 15) << 2), (byte)body.Length },
                1 => [(byte)(0x80 | (tag & 15) << 2 | 2), 0xFF, 0xFF, 0xFF, 0xFF],
                2 => [(byte)(0xC0 | tag), 0xFF, 0x7F, 0xFF, 0xFF, 0xFF],
                _ => [(byte)(0xC0 | tag), 0xE0 | 5],
            };
            return [.. header, .. body];
        });

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void KeyBlocksReadOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("openpgp", input =>
        {
            var text = input.AsSpan().StartsWith("-----BEGIN"u8) ? Encoding.Latin1.GetString(input)
                : OpenPgpArmor.Armor("PGP PUBLIC KEY BLOCK", input);
            var (rings, secret) = OpenPgpArmor.ReadKeyRings(text, "fuzzed.pub");
            foreach (var ring in rings)
            {
                foreach (var key in ring.GetPublicKeys())
                {
                    Keyring.Describe(key, hasSecret: false, "fuzzed.pub");
                }

                CertifiedKeyRing.Merge([ring, ring], "fuzzed.pub");
            }

            _ = new SignatureVerifier(rings).KeyCount + secret.Count;
        }, iterations: 1500, PacketLike);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void SignedDocumentsVerifyOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("signature", input =>
        {
            Verifier.Value.Verify(Encoding.UTF8.GetString(input), "fuzzed.sig");
        }, iterations: 1500);
}
