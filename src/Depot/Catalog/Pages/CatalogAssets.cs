using System.Security.Cryptography;

namespace Depot.Catalog.Pages;

/// <summary>
/// The catalog's only assets, <c>catalog.css</c> and <c>catalog.js</c>, embedded in the engine (an air-gapped site
/// fetches nothing from a CDN; no web fonts: the system's). The server answers them at <c>/_depot/assets/NAME</c>, the
/// export writes them to <c>_depot/assets/</c>.
/// </summary>
public sealed class CatalogAssets
{
    private readonly byte[] content;

    private CatalogAssets(string name, string contentType)
    {
        Name = name;
        ContentType = contentType;
        using var stream = typeof(CatalogAssets).Assembly
            .GetManifestResourceStream("Depot.Catalog.Pages.Assets." + name)
            ?? throw new InvalidOperationException($"embedded asset {name} is missing from the build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        content = copy.ToArray();
        ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\"";
    }

    /// <summary>The stylesheet.</summary>
    public static CatalogAssets Css { get; } = new("catalog.css", "text/css; charset=utf-8");

    /// <summary>The script (live search, copy buttons).</summary>
    public static CatalogAssets Script { get; } = new("catalog.js", "text/javascript; charset=utf-8");

    /// <summary>Every asset.</summary>
    public static IReadOnlyList<CatalogAssets> All { get; } = [Css, Script];

    /// <summary>The file name.</summary>
    public string Name { get; }

    /// <summary>The media type it is served with.</summary>
    public string ContentType { get; }

    /// <summary>A strong validator: part of the sha256 of the bytes, quoted.</summary>
    public string ETag { get; }

    /// <summary>The asset's size in bytes.</summary>
    public long Length => content.LongLength;

    /// <summary>The asset named <paramref name="name"/>, or null.</summary>
    public static CatalogAssets? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    /// <summary>The bytes, read-only.</summary>
    public Stream OpenRead() => new MemoryStream(content, writable: false);
}
