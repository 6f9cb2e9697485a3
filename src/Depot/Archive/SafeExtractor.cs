using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Depot.Archive;

/// <summary>Limits on what one package tarball may unpack to, and on the tarball itself.</summary>
/// <param name="MaxBytes">Total size of all files (a gzip bomb stops here).</param>
/// <param name="MaxEntries">Number of members.</param>
/// <param name="MaxDownloadBytes">
/// Size of the compressed tarball fetched. A v3 (or OCI) entry records its tarball's size and the fetch stops as soon
/// as more arrives; a v2 spec file records none, so this limit is all that stops an endless one. The default, like
/// <paramref name="MaxBytes"/>, is 64 GiB: a tarball larger than that could not unpack within the default limit
/// anyway for any real package (gzip does not expand data by more than a fraction of a percent).
/// </param>
public sealed record ExtractionLimits(long MaxBytes = 64L << 30, int MaxEntries = 2_000_000,
    long MaxDownloadBytes = 64L << 30)
{
    /// <summary>
    /// 200:1. Deflate cannot exceed about 1032:1, and a bomb sits near that (runs of one byte); honest package
    /// content (binaries, libraries, headers, text) gzips 2–10:1, and even a package padded with zeros or sparse data
    /// files stays well under 100:1 over hundreds of MiB. 200 is twice the most compressible honest data seen and five
    /// times under a bomb's, so a 2 MB bomb is stopped after writing at most <see cref="CompressionRatioFloor"/>
    /// (256 MiB) instead of the 64 GiB <see cref="MaxBytes"/> allows.
    /// </summary>
    public const double DefaultMaxCompressionRatio = 200;

    /// <summary>Bytes unpacked per compressed byte read, past <see cref="CompressionRatioFloor"/>; a mirror's
    /// <c>max_compression_ratio</c> sets it for its packages.</summary>
    public double MaxCompressionRatio { get; init; } = DefaultMaxCompressionRatio;

    /// <summary>Below this many bytes unpacked, any ratio passes: small packages that compress very well (headers,
    /// empty files) are no danger.</summary>
    public long CompressionRatioFloor { get; init; } = 256L << 20;

    /// <summary>The free space Depot leaves on the file system it unpacks to.</summary>
    public long MinFreeBytes { get; init; } = 64L << 20;

    /// <summary>How often, in bytes unpacked, free space is looked at again while unpacking.</summary>
    public long FreeSpaceCheckBytes { get; init; } = 64L << 20;

    /// <summary>Free bytes on the file system holding a folder, or null when unknown. The default asks the system
    /// (statvfs); tests give their own.</summary>
    public Func<string, long?> FreeBytes { get; init; } = FreeSpace.Of;

    /// <summary>What to change to let a package over the ratio through, for the refusal.</summary>
    public string RatioSetting { get; init; } = "max_compression_ratio in the mirror's configuration (config.yaml)";
}

/// <summary>Free space on file systems.</summary>
public static class FreeSpace
{
    /// <summary>Bytes available to this user on the file system holding <paramref name="folder"/> (statvfs's
    /// <c>f_bavail</c>), or null when the system cannot tell.</summary>
    public static long? Of(string folder)
    {
        try
        {
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>
/// Unpacks a package tarball into an empty staging folder, treating it as hostile even when signed, in one pass:
/// absolute names, <c>..</c>, devices and FIFOs are refused; no member may be written through a symlink; hard links
/// must name a file already unpacked; sizes are capped. Then the package directory is found as Spack does (grandparent
/// of the shortest <c>.spack/binary_distribution</c>) and every member must lie inside it (ancestor directories
/// excepted), hard links included. Symlink targets, relative or absolute, are the caller's to check once it knows where
/// the package goes and after relocation (<see cref="Relocation.SymlinkCheck"/>): a relative link may rightly lead
/// into a dependency's prefix, and only the final target tells. Nothing is written outside the staging folder, nor
/// through a symlink, whatever the archive holds.
/// </summary>
public static partial class SafeExtractor
{
    private const string BuildInfoSuffix = ".spack/binary_distribution";

    // Linux's NAME_MAX and PATH_MAX: longer names and paths fail in the file system, not as the archive's fault.
    private const int MaxNameBytes = 255;
    private const int MaxPathBytes = 4096;

    /// <summary>
    /// Unpacks <paramref name="tarballGz"/> in one pass under <paramref name="staging"/> (created, must not exist),
    /// each member at its own path, then checks the whole: the package directory must exist and hold every member (its
    /// ancestors excepted), hard links must stay inside it. Returns the package directory's path under
    /// <paramref name="staging"/>; on any refusal the caller deletes <paramref name="staging"/>.
    /// </summary>
    /// <exception cref="InvalidContentException">The archive is corrupt, truncated, too large, or tries to
    /// escape.</exception>
    public static Task<string> ExtractAsync(string tarballGz, string staging, ExtractionLimits limits,
        string location, CancellationToken cancellationToken = default) =>
        ExtractAsync(tarballGz, staging, limits, location, null, cancellationToken);

    /// <summary>As <see cref="ExtractAsync(string, string, ExtractionLimits, string, CancellationToken)"/>;
    /// <paramref name="package"/> (name@version/hash) is named in refusals of ratio and free space.</summary>
    /// <exception cref="InvalidContentException">The archive is corrupt, truncated, too large, unpacks at too high a
    /// ratio, or tries to escape.</exception>
    /// <exception cref="DepotException">Too little free space (I/O).</exception>
    public static async Task<string> ExtractAsync(string tarballGz, string staging, ExtractionLimits limits,
        string location, string? package, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Directory.CreateDirectory(staging);
        var members = new List<(string Name, TarEntryType Type, string LinkName)>();
        var symlinks = new HashSet<string>(StringComparer.Ordinal);
        var files = new HashSet<string>(StringComparer.Ordinal);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        void EnsureFolder(string folder)
        {
            if (folders.Add(folder))
            {
                Directory.CreateDirectory(folder);
                // Its parents were created too: a later member of the same name must be seen to replace them.
                for (var parent = Path.GetDirectoryName(folder); parent is not null && parent.Length > staging.Length
                    && folders.Add(parent); parent = Path.GetDirectoryName(parent))
                {
                }
            }
        }

        long total = 0;
        ExtractionBudget? budget = null;
        await ReadAsync(tarballGz, location, compressed =>
        {
            budget = new ExtractionBudget(limits, compressed, staging, location, package ?? "the package");
            budget.CheckFreeSpaceBefore(compressed.Length);
        }, async (entry, name) =>
        {
            if (members.Count >= limits.MaxEntries)
            {
                throw new InvalidContentException(location, $"holds more than {limits.MaxEntries} members (limit)");
            }

            members.Add((name, entry.EntryType, entry.LinkName));

            // Nothing is written through a symlink: no parent of this member may be one unpacked before it. Nor may a
            // parent be a file, or the member replace an earlier one (the file system would refuse it half-way).
            for (var cut = name.IndexOf('/'); cut > 0; cut = name.IndexOf('/', cut + 1))
            {
                if (symlinks.Contains(name[..cut]))
                {
                    throw new InvalidContentException(location,
                        $"member {name} would be written through the symlink {name[..cut]}");
                }

                if (files.Contains(name[..cut]))
                {
                    throw new InvalidContentException(location, $"member {name} lies under the file {name[..cut]}");
                }
            }

            var path = Path.Combine(staging, name);
            if (entry.EntryType != TarEntryType.Directory
                && (files.Contains(name) || symlinks.Contains(name) || folders.Contains(path)))
            {
                throw new InvalidContentException(location, $"member {name} replaces an earlier member");
            }

            if (Encoding.UTF8.GetByteCount(path) >= MaxPathBytes)
            {
                throw new InvalidContentException(location,
                    $"member {name[..40]}… has a path longer than this system allows ({MaxPathBytes} bytes)");
            }

            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    if (symlinks.Contains(name) || files.Contains(name))
                    {
                        throw new InvalidContentException(location, $"member {name} replaces an earlier member");
                    }

                    EnsureFolder(path);
                    break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                    total += entry.Length;
                    if (total > limits.MaxBytes)
                    {
                        throw new InvalidContentException(location,
                            $"unpacks to more than {limits.MaxBytes} bytes (limit)");
                    }

                    EnsureFolder(Path.GetDirectoryName(path)!);
                    var mode = (UnixFileMode)((int)entry.Mode & 0x1ff); // no setuid, setgid or sticky bits from a cache
                    await using (var output = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.Write,
                        UnixCreateMode = mode | UnixFileMode.UserWrite | UnixFileMode.UserRead,
                    }))
                    {
                        if (entry.DataStream is { } data)
                        {
                            await CopyBoundedAsync(data, output, entry.Length, location, name, budget!,
                                cancellationToken).ConfigureAwait(false);
                        }
                    }

                    files.Add(name);
                    break;
                case TarEntryType.SymbolicLink:
                    // Targets are judged by the caller after relocation; nothing is ever written through a link.
                    if (entry.LinkName.Length == 0 || entry.LinkName.Contains('\0', StringComparison.Ordinal))
                    {
                        throw new InvalidContentException(location, $"symlink {name} has an empty or malformed target");
                    }

                    EnsureFolder(Path.GetDirectoryName(path)!);
                    File.CreateSymbolicLink(path, entry.LinkName);
                    symlinks.Add(name);
                    break;
                case TarEntryType.HardLink:
                    var first = CheckName(entry.LinkName, location);
                    if (!files.Contains(first))
                    {
                        throw new InvalidContentException(location,
                            $"hard link {name} -> {entry.LinkName} does not name a file of the package "
                            + "unpacked before it");
                    }

                    EnsureFolder(Path.GetDirectoryName(path)!);
                    HardLink(Path.Combine(staging, first), path);
                    files.Add(name);
                    break;
                default:
                    throw new InvalidContentException(location,
                        $"member {name} is a {entry.EntryType}, which a package may not hold");
            }
        }, cancellationToken).ConfigureAwait(false);

        var packageDir = PackageDirectory(members, location);
        foreach (var (name, type, linkName) in members)
        {
            var inside = Relative(name, packageDir) is not null;
            var ancestor = type == TarEntryType.Directory
                && packageDir.StartsWith(name + "/", StringComparison.Ordinal);
            if (!inside && !ancestor)
            {
                throw new InvalidContentException(location,
                    $"member {name} is outside the package directory {packageDir}");
            }

            if (type == TarEntryType.HardLink && Relative(linkName.TrimEnd('/'), packageDir) is null)
            {
                throw new InvalidContentException(location,
                    $"hard link {name} -> {linkName} does not name a file of the package unpacked before it");
            }
        }

        return Path.Combine(staging, packageDir);
    }

    // Spack's rule: the grandparent of the shortest member ending in .spack/binary_distribution, itself a directory
    // member.
    private static string PackageDirectory(List<(string Name, TarEntryType Type, string LinkName)> members,
        string location)
    {
        var buildInfo = members
            .Where(n => n.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile
                && (n.Name == BuildInfoSuffix || n.Name.EndsWith("/" + BuildInfoSuffix, StringComparison.Ordinal)))
            .Select(n => n.Name).OrderBy(n => n.Length).FirstOrDefault()
            ?? throw new InvalidContentException(location,
                "no .spack/binary_distribution: not a Spack package tarball");
        var packageDir = buildInfo[..^BuildInfoSuffix.Length].TrimEnd('/');
        if (packageDir.Length == 0 || !members.Any(n => n.Type == TarEntryType.Directory && n.Name == packageDir))
        {
            throw new InvalidContentException(location,
                $"the package directory {(packageDir.Length == 0 ? "." : packageDir)} is not a directory member");
        }

        return packageDir;
    }

    /// <summary>The next member; the reader's own refusal of a header (a PAX size beyond what follows, found by
    /// bench/fuzz.sh) is an InvalidOperationException, which here means a corrupt tarball and nothing else.</summary>
    private static async Task<TarEntry?> NextEntryAsync(TarReader reader, string location,
        CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidContentException(location, "corrupt package tarball: " + e.Message);
        }
    }

    private static async Task ReadAsync(string tarballGz, string location, Action<Stream> opened,
        Func<TarEntry, string, Task> visit, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(tarballGz, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            opened(file);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using var reader = new TarReader(gzip);
            while (await NextEntryAsync(reader, location, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                await visit(entry, CheckName(entry.Name, location)).ConfigureAwait(false);
            }
        }
        catch (Exception e)
            when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException
                or OverflowException)
        {
            throw new InvalidContentException(location, "corrupt or truncated package tarball: " + e.Message);
        }
        catch (IOException e) when (e is not FileNotFoundException && e.GetType() == typeof(IOException)
            && e.Message.Contains("archive", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidContentException(location, "corrupt or truncated package tarball: " + e.Message);
        }
    }

    private static string CheckName(string raw, string location)
    {
        var name = raw.TrimEnd('/');
        if (name.Length == 0 || name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal)
            || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new InvalidContentException(location, $"member name '{raw}' is absolute or malformed");
        }

        if (name.Split('/').Any(part => part is ".." or "." or ""))
        {
            throw new InvalidContentException(location, $"member name '{raw}' has '..', '.' or an empty part");
        }

        if (name.Split('/').FirstOrDefault(part => Encoding.UTF8.GetByteCount(part) > MaxNameBytes) is { } longPart)
        {
            throw new InvalidContentException(location,
                $"member name has a part of {Encoding.UTF8.GetByteCount(longPart)} bytes ({longPart[..40]}…), more "
                + $"than a file name may have ({MaxNameBytes})");
        }

        return name;
    }

    private static string? Relative(string name, string packageDir) =>
        name == packageDir ? "" : name.StartsWith(packageDir + "/", StringComparison.Ordinal)
            ? name[(packageDir.Length + 1)..] : null;

    private static async Task CopyBoundedAsync(Stream from, Stream to, long expected, string location, string name,
        ExtractionBudget budget, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 16];
        long copied = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            copied += read;
            if (copied > expected)
            {
                throw new InvalidContentException(location, $"member {name} holds more data than its header says");
            }

            budget.Wrote(read);

            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    private static void HardLink(string existing, string link)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            File.Copy(existing, link);
            return;
        }

        if (LinkNative(existing, link) != 0)
        {
            throw new IOException($"{link}: cannot create hard link: "
                + $"{Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkNative(string existing, string link);
}
