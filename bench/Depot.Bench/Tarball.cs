using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Depot.Layout;

namespace Depot.Bench;

/// <summary>
/// A tiny but real Spack 1.x tarball: parent directories first, the prefix in depth-first pre-order (files before
/// subdirectories), <c>.spack/binary_distribution</c> last; uid/gid 0, mtime 0, git-like modes.
/// </summary>
internal static class Tarball
{
    private const string StoreRoot = "/opt/spack";

    private const UnixFileMode DirMode = (UnixFileMode)0b111_101_101; // 0755
    private const UnixFileMode FileMode = (UnixFileMode)0b110_100_100; // 0644
    private const UnixFileMode ExecMode = (UnixFileMode)0b111_101_101; // 0755

    public static string PrefixOf(GraphNode node) =>
        $"{StoreRoot}/{Catalog.Platform}-{node.Target}/{PathNames.Polite($"{node.Name}-{node.Version}-{node.Hash}")}";

    public static byte[] Build(SpecGraph graph, GraphNode node)
    {
        var prefix = PrefixOf(node);
        var member = prefix.TrimStart('/');
        var isLibrary = node.Id % 3 != 0;
        var fileName = isLibrary ? $"lib/lib{node.Name}.so.1" : $"bin/{node.Name}";
        var payload = Encoding.ASCII.GetBytes(isLibrary
            ? $"\u007fELF synthetic library {node.Name}@{node.Version} rpath {prefix}/lib\n"
            : $"#!/bin/sh\n# synthetic {node.Name}@{node.Version}\nexec {prefix}/libexec/{node.Name} \"$@\"\n");
        var times = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{{\"phases\":[{{\"name\":\"install\",\"seconds\":{node.Id % 97}.{node.Id % 10}}}],"
            + $"\"total\":{{\"seconds\":{node.Id % 97}.{node.Id % 10}}}}}"));

        var hashToPrefix = new StringBuilder();
        hashToPrefix.Append(CultureInfo.InvariantCulture, $"{node.Hash}: {prefix}");
        foreach (var d in node.Dependencies.Select(id => graph[id]).Where(n => !n.IsExternal))
        {
            hashToPrefix.Append(CultureInfo.InvariantCulture, $", {d.Hash}: {PrefixOf(d)}");
        }

        var buildinfo = Encoding.ASCII.GetBytes(
            $"{{sbang_install_path: {StoreRoot}/bin/sbang, buildpath: {StoreRoot}, spackprefix: /opt/spack-src, "
            + $"relative_prefix: {prefix[(StoreRoot.Length + 1)..]}, hardlinks_deduped: true, "
            + $"hash_to_prefix: {{{hashToPrefix}}}, relocate_binaries: [{(isLibrary ? fileName : "")}], "
            + $"relocate_links: [], relocate_textfiles: [{(isLibrary ? "" : fileName)}]}}");

        using var tarStream = new MemoryStream(8192);
        using (var tar = new TarWriter(tarStream, TarEntryFormat.Pax, leaveOpen: true))
        {
            var parts = member.Split('/');
            for (var i = 1; i <= parts.Length; i++)
            {
                Dir(tar, string.Join('/', parts[..i]) + "/");
            }

            Dir(tar, $"{member}/.spack/");
            File(tar, $"{member}/.spack/install_times.json", times, FileMode);
            var sub = fileName[..fileName.IndexOf('/', StringComparison.Ordinal)];
            Dir(tar, $"{member}/{sub}/");
            File(tar, $"{member}/{fileName}", payload, isLibrary ? FileMode : ExecMode);
            File(tar, $"{member}/.spack/binary_distribution", buildinfo, FileMode);
        }

        return V3Generator.Gzip(tarStream.GetBuffer().AsSpan(0, (int)tarStream.Length));
    }

    private static void Dir(TarWriter tar, string name) =>
        tar.WriteEntry(Entry(TarEntryType.Directory, name, DirMode));

    private static void File(TarWriter tar, string name, byte[] content, UnixFileMode mode)
    {
        var entry = Entry(TarEntryType.RegularFile, name, mode);
        entry.DataStream = new MemoryStream(content, writable: false);
        tar.WriteEntry(entry);
    }

    private static PosixTarEntry Entry(TarEntryType type, string name, UnixFileMode mode)
    {
        // Python's tarfile (PAX_FORMAT) writes plain ustar headers ("ustar\0", "00") and a pax header only for names
        // over 100 bytes. .NET names pax headers after its process id, which would make blobs differ between runs,
        // so long names use the ustar prefix field instead (any tar reader, Python's included, joins it back).
        PosixTarEntry entry = name.Length > 255
            ? new PaxTarEntry(type, name, new Dictionary<string, string> { ["path"] = name })
            : new UstarTarEntry(type, name);
        entry.Mode = mode;
        entry.Uid = 0;
        entry.Gid = 0;
        entry.UserName = "";
        entry.GroupName = "";
        entry.ModificationTime = DateTimeOffset.UnixEpoch;
        return entry;
    }
}
