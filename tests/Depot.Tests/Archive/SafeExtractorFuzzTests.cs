using System.Formats.Tar;
using System.IO.Compression;
using CsCheck;
using Depot.Archive;

namespace Depot.Tests.Archive;

/// <summary>
/// Hostile package tarballs: mutated real ones (compressed, and uncompressed then gzipped so the mutation reaches the
/// tar and PAX headers) and generated archives with any member type, name, link and PAX record go through
/// <see cref="SafeExtractor.ExtractAsync"/>, and build info files (<c>.spack/binary_distribution</c>) through
/// <see cref="BuildInfo.Parse"/>; only Depot's own errors may come out.
/// </summary>
public sealed class SafeExtractorFuzzTests
{
    private static readonly string[] Names =
    [
        "pkg", "pkg/.spack", "pkg/.spack/binary_distribution", "pkg/bin/x", "pkg/bin", "../x", "/abs", "pkg/./a",
        "pkg//b", "pkg/bin/x/y", "a\\b", "pkg/" + new string('n', 300), "pkg/lnk", "pkg/lnk/z", "",
    ];

    private static readonly Gen<(string Name, int Type, string Link, string PaxKey, string PaxValue, int Size)> Member =
        Gen.Select(Gen.Int[0, Names.Length - 1], Gen.Int[0, 6], Gen.Int[0, Names.Length - 1], Gen.Int[0, 5],
                Gen.OneOf("0", "-1", "4611686018427387904", "99999999999999999999", "x", "1.5", ""),
                Gen.Int[0, 2000])
            .Select((n, t, l, k, v, s) => (Names[n], t, Names[l],
                new[] { "size", "path", "linkpath", "mtime", "uid", "comment" }[k], v, s));

    /// <summary>Archives of generated members, gzipped.</summary>
    private static readonly Gen<byte[]> TarLike = Member.Array[1, 8].Select(members =>
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, type, link, paxKey, paxValue, size) in members)
            {
                if (name.Length == 0)
                {
                    continue;
                }

                var entryType = new[]
                {
                    TarEntryType.Directory, TarEntryType.RegularFile, TarEntryType.SymbolicLink,
                    TarEntryType.HardLink, TarEntryType.Fifo, TarEntryType.RegularFile, TarEntryType.CharacterDevice,
                }[type];
                var attributes = new Dictionary<string, string>();
                if (paxValue.Length > 0 && paxKey is not ("size" or "path" or "linkpath"))
                {
                    attributes[paxKey] = paxValue;
                }

                var entry = new PaxTarEntry(entryType, name, attributes);
                if (entryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                {
                    entry.LinkName = link.Length == 0 ? "x" : link;
                }

                if (entryType == TarEntryType.RegularFile)
                {
                    entry.DataStream = new MemoryStream(new byte[size]);
                }

                writer.WriteEntry(entry);
            }
        }

        return tar.ToArray();
    });

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void TarballsUnpackOrFailWithDepotsOwnError()
    {
        using var scratch = new TempDir();
        var n = 0;
        FuzzLoop.Run("tar", input =>
        {
            var tarball = scratch.Combine($"input-{n}.tar.gz");
            var staging = scratch.Combine($"staging-{n++}");
            File.WriteAllBytes(tarball, input.AsSpan().StartsWith(new byte[] { 0x1F, 0x8B }) ? input : Gzipped(input));
            try
            {
                SafeExtractor.ExtractAsync(tarball, staging, new ExtractionLimits(MaxBytes: 1 << 20, MaxEntries: 100),
                    "fuzzed.tar.gz", TestContext.Current.CancellationToken).GetAwaiter().GetResult();
            }
            finally
            {
                File.Delete(tarball);
                if (Directory.Exists(staging))
                {
                    Directory.Delete(staging, recursive: true);
                }
            }
        }, iterations: 400, TarLike);
    }

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void BuildInfoFilesParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("buildinfo", input => BuildInfo.Parse(input, "pkg/.spack/binary_distribution"),
            iterations: 1500);

    internal static byte[] Gzipped(byte[] tar)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        return output.ToArray();
    }
}
