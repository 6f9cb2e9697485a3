using System.Text;
using System.Text.Json;
using Depot.Specs;

namespace Depot.Operations;

/// <summary>
/// The hashes <c>--keep FILE</c> names: a Spack lock file (<c>spack.lock</c>: JSON whose <c>concrete_specs</c> object
/// is keyed by DAG hash) or a text list, one hash per line (a leading <c>/</c> allowed, <c>#</c> comments and blank
/// lines skipped), as <c>spack find --format {hash}</c> prints.
/// </summary>
public static class KeepFiles
{
    /// <summary>Reads every file and returns the union of their hashes.</summary>
    /// <exception cref="DepotException">A file is missing (<see cref="ErrorKind.NotFound"/>), or is neither a lock
    /// file nor a list of hashes (<see cref="InvalidContentException"/>, naming the file and line).</exception>
    public static async Task<IReadOnlySet<string>> ReadAsync(IEnumerable<string> paths,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new DepotException(ErrorKind.NotFound, $"{path}: not found (a file of hashes to keep)");
            }

            hashes.UnionWith(Parse(bytes, path));
        }

        return hashes;
    }

    /// <summary>The hashes in one file's content.</summary>
    public static IReadOnlyList<string> Parse(byte[] content, string location)
    {
        ArgumentNullException.ThrowIfNull(content);
        var text = Encoding.UTF8.GetString(content).TrimStart('\uFEFF');
        if (text.TrimStart().StartsWith('{'))
        {
            return ParseLock(content, location);
        }

        var hashes = new List<string>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var hash = line.TrimStart('/');
            if (!DagHash.IsValid(hash))
            {
                throw new InvalidContentException($"{location}:{number}",
                    $"'{line}' is not a DAG hash (32 characters of a-z and 2-7)");
            }

            hashes.Add(hash);
        }

        return hashes;
    }

    private static List<string> ParseLock(byte[] content, string location)
    {
        try
        {
            using var doc = JsonDocument.Parse(content, SpecFile.DocumentOptions);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("concrete_specs", out var specs)
                || specs.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidContentException(location, "not a Spack lock file: no 'concrete_specs' object");
            }

            return specs.EnumerateObject().Select(p => p.Name).Where(DagHash.IsValid).ToList();
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }
    }
}
