using System.Buffers;
using System.Text;
using System.Text.Json;
using Depot.Formats;
using Depot.Signing;
using Depot.Specs;

namespace Depot.Layout;

/// <summary>One record of a v3 manifest: a blob's size, type, compression and checksum (of the stored bytes).</summary>
public sealed record BlobRecord(long ContentLength, string MediaType, string Compression, string ChecksumAlgorithm,
    string Checksum)
{
    /// <summary>The blob's key in the mirror: <c>blobs/&lt;algorithm&gt;/&lt;first
    /// two&gt;/&lt;checksum&gt;</c>.</summary>
    public string BlobKey => BuildCacheV3.BlobKey(ChecksumAlgorithm, Checksum);
}

/// <summary>
/// A v3 manifest: <c>{"version": 3, "data": [records]}</c>, plain or clearsigned. Spec manifests point at the
/// tarball and spec blobs, the index manifest at the database blob, key manifests at key blobs.
/// </summary>
public sealed class BuildCacheManifest
{
    public const int SupportedVersion = 3;

    public BuildCacheManifest(IReadOnlyList<BlobRecord> records) => Records = records;

    public IReadOnlyList<BlobRecord> Records { get; }

    /// <summary>True when the manifest text was clearsigned.</summary>
    public bool IsSigned { get; private init; }

    /// <summary>The manifest's JSON text as signed (the clearsign body), for signature checks.</summary>
    public string SignedText { get; private init; } = "";

    /// <summary>The first record whose media type equals, or starts with, <paramref name="mediaType"/>.</summary>
    public BlobRecord? Find(string mediaType, bool prefix = false) =>
        Records.FirstOrDefault(r => prefix ? r.MediaType.StartsWith(mediaType, StringComparison.Ordinal)
            : r.MediaType == mediaType);

    /// <exception cref="InvalidContentException">Malformed JSON, a wrong version or a bad record.</exception>
    public static BuildCacheManifest Parse(ReadOnlySpan<byte> content, string location)
    {
        var signed = ClearSignedMessage.LooksClearSigned(content);
        var text = Encoding.UTF8.GetString(content);
        if (signed)
        {
            text = ClearSignedMessage.Parse(text, location).Body;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, Specs.SpecFile.DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidContentException(location, "malformed JSON: " + e.Message);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("version", out var version)
                || version.ValueKind != JsonValueKind.Number)
            {
                throw new InvalidContentException(location, "not a build cache manifest: no integer 'version'");
            }

            if (!version.TryGetInt32(out var v) || v != SupportedVersion)
            {
                throw new InvalidContentException(location,
                    $"unsupported manifest layout version {version.GetRawText()} (this Depot reads version "
                    + $"{SupportedVersion})");
            }

            if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidContentException(location, "manifest has no 'data' list");
            }

            var records = new List<BlobRecord>();
            var i = 0;
            try
            {
                foreach (var r in data.EnumerateArray())
                {
                    records.Add(ParseRecord(r, location, i++));
                }
            }
            catch (InvalidOperationException e)
            {
                // A string that is not valid UTF-8.
                throw new InvalidContentException(location, $"manifest record {i - 1}: malformed JSON: " + e.Message);
            }

            return new BuildCacheManifest(records) { IsSigned = signed, SignedText = text };
        }
    }

    private static BlobRecord ParseRecord(JsonElement r, string location, int index)
    {
        string Field(string name) => SpecNode.OptionalString(r, name)
            ?? throw new InvalidContentException(location, $"manifest record {index} has no string '{name}'");

        if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("contentLength", out var length)
            || !length.TryGetInt64(out var contentLength) || contentLength < 0)
        {
            throw new InvalidContentException(location, $"manifest record {index} has no valid 'contentLength'");
        }

        var checksum = Field("checksum");
        var algorithm = Field("checksumAlgorithm");
        if (algorithm != "sha256" || checksum.Length != 64 || !checksum.All(char.IsAsciiHexDigitLower))
        {
            throw new InvalidContentException(location,
                $"manifest record {index} has an invalid checksum '{algorithm}:{checksum}'");
        }

        return new BlobRecord(contentLength, Field("mediaType"), Field("compression"), algorithm, checksum);
    }

    /// <summary>The manifest JSON exactly as Spack writes it: indent 0, no trailing newline.</summary>
    public byte[] ToJsonBytes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var w = new PythonJsonWriter(buffer, PythonJsonStyle.IndentZero);
        w.StartObject();
        w.WriteNumber("version", SupportedVersion);
        w.WritePropertyName("data");
        w.StartArray();
        foreach (var r in Records)
        {
            w.StartObject();
            w.WriteNumber("contentLength", r.ContentLength);
            w.WriteString("mediaType", r.MediaType);
            w.WriteString("compression", r.Compression);
            w.WriteString("checksumAlgorithm", r.ChecksumAlgorithm);
            w.WriteString("checksum", r.Checksum);
            w.EndObject();
        }

        w.EndArray();
        w.EndObject();
        return buffer.WrittenSpan.ToArray();
    }
}
