using CsCheck;
using Depot.Relocation;

namespace Depot.Tests.Relocation;

/// <summary>
/// Hostile binaries in a package: mutated real ELF files and generated minimal ones (both classes, both byte orders,
/// RPATH or RUNPATH, with or without an interpreter) go through <see cref="ElfPaths.RelocateInPlace"/> and
/// <see cref="BinaryRelocator.RelocateInPlace"/> as the relocator runs them; only Depot's own errors may come out.
/// </summary>
public sealed class ElfFuzzTests
{
    private const string FixtureRoot = "/tmp/depot-fixtures/spack-1.2/opt/spack";

    private static readonly Gen<byte[]> MinimalElfs =
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Bool, Gen.Int[0, 300], Gen.Bool).Select(
            (is64, little, interp, length, rpath) => MinimalElf.Create(is64, little,
                interp ? FixtureRoot + "/ld.so" : null,
                FixtureRoot + "/" + new string('p', length) + ":/usr/lib",
                rpath ? MinimalElf.DtRpath : MinimalElf.DtRunpath).Bytes);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void BinariesRelocateOrFailWithDepotsOwnError()
    {
        var shorter = new PrefixMap();
        shorter.Add(FixtureRoot, "/sw");
        var longer = new PrefixMap();
        longer.Add(FixtureRoot, "/a/much/longer/install/root/than/the/one/the/package/was/built/in/sw");
        FuzzLoop.Run("elf", input =>
        {
            ElfPaths.RelocateInPlace(input.ToArray(), shorter, null, out _, "fuzzed.so");
            ElfPaths.RelocateInPlace(input.ToArray(), longer, old => "/x", out _, "fuzzed.so");
            BinaryRelocator.RelocateInPlace(input.ToArray(), shorter, out _);
            BinaryRelocator.RelocateInPlace(input.ToArray(), longer, out _);
        }, iterations: 2000, MinimalElfs);
    }
}
