using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Depot.Layout;
using Depot.Layout.Detection;
using Depot.Operations;
using Depot.Signing;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Tests.Layout;

/// <summary>
/// The contract every layout's writer (<see cref="IBuildCacheWriter"/>) keeps, as <c>StoreContractTests</c> is the
/// contract of every store: each layout's test class derives from this and supplies a fresh, empty mirror and the ways
/// to break an entry. Entries are real Spack 1.2 entries (spec file and tarball) from the committed fixture mirror.
/// </summary>
public abstract class BuildCacheWriterContractTests : IAsyncDisposable
{
    private readonly TempDir home = new();

    /// <summary>A folder removed after the test (a directory mirror's root).</summary>
    protected TempDir Scratch { get; } = new();
    private IObjectStore? store;

    protected IObjectStore Store => store ??= CreateStore();

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>"v3", "v2" or "oci": the layout the writer must write.</summary>
    protected abstract string LayoutName { get; }

    /// <summary>The layout version asked of <see cref="BuildCache.OpenForWriteAsync"/> (null: as found).</summary>
    protected abstract int? Version { get; }

    /// <summary>v2 spec files' <c>buildcache_layout_version</c>.</summary>
    protected virtual int SpecLayoutVersion => 2;

    /// <summary>A fixture mirror of this layout kind, whose entries are copied as they are (null: never).</summary>
    protected abstract string? SameKindMirror { get; }

    /// <summary>Creates a new, empty mirror for one test.</summary>
    protected abstract IObjectStore CreateStore();

    /// <summary>Removes the tarball of a written entry, leaving its metadata.</summary>
    protected abstract Task RemoveTarballAsync(SpecNode spec, string sha256);

    /// <summary>Removes the metadata of a written entry (manifest, spec file, image), leaving its tarball.</summary>
    protected abstract Task RemoveMetadataAsync(SpecNode spec);

    public virtual ValueTask DisposeAsync()
    {
        (store as IDisposable)?.Dispose();
        home.Dispose();
        Scratch.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>A fixture entry: its spec file, its tarball's bytes and their sha256.</summary>
    protected sealed record Source(SpecFile Spec, byte[] Tarball, string Sha256);

    protected static async Task<Source> SourceAsync(string name)
    {
        var layout = new BuildCacheV3(new LocalDirectoryStore(TestData.Path(TestData.V3Unsigned)));
        var entry = await layout.ListSpecEntriesAsync(Token)
            .FirstAsync(e => e.Key.Contains($"/{name}/", StringComparison.Ordinal), Token);
        var content = await layout.ReadEntryAsync(entry, null, Token);
        var tarball = await layout.Store.ReadAllBytesAsync(content.Tarball!.Key, cancellationToken: Token);
        return new Source(content.Spec, tarball, content.Tarball.Sha256);
    }

    private Keyring Keyring => field ??= TestData.FixtureKeyring(home.Path);

    private string Fingerprint => SignatureVerifier.Fingerprint(Keyring.SigningKey().PublicKey);

    protected async Task<IBuildCacheWriter> WriterAsync(bool signed) =>
        (await BuildCache.OpenForWriteAsync(Store, Version, Token)).CreateWriter(
            new EntryWriterOptions(signed ? Keyring.SigningKey() : null, SpecLayoutVersion));

    protected static async Task WriteAsync(IBuildCacheWriter writer, Source source)
    {
        await using var staged = await writer.Layout.Store.RequireWritable().CreateStagedAsync(Token);
        await staged.Content.WriteAsync(source.Tarball, Token);
        var tarball = new StagedTarball(staged, source.Sha256, source.Tarball.LongLength);
        await writer.WriteAsync(source.Spec, tarball, Token);
    }

    private static async Task WriteAndCompleteAsync(IBuildCacheWriter writer, params Source[] sources)
    {
        foreach (var source in sources)
        {
            await WriteAsync(writer, source);
        }

        Assert.Empty(await writer.CompleteAsync(2, Token));
    }

    private static async Task<EntryContent> ReadBackAsync(IBuildCacheLayout layout, SpecNode spec,
        TrustPolicy? trust) =>
        await layout.ReadEntryAsync(await layout.EntryForAsync(spec, Token), trust, Token);

    private static void AssertSameSpec(SpecFile expected, SpecFile actual)
    {
        static JsonNode? Spec(SpecFile file) =>
            JsonNode.Parse(file.Document.RootElement.GetProperty("spec").GetRawText());
        Assert.True(JsonNode.DeepEquals(Spec(expected), Spec(actual)), "the spec read back differs");
    }

    [Fact]
    public async Task AWrittenEntryExistsAndReadsBackIdentically()
    {
        var source = await SourceAsync("greet-data");
        var writer = await WriterAsync(signed: false);
        Assert.Equal(LayoutName, writer.Layout.Name);
        Assert.False(await writer.ExistsAsync(source.Spec.Root, Token));

        await WriteAndCompleteAsync(writer, source);
        Assert.True(await writer.ExistsAsync(source.Spec.Root, Token));

        var listed = await writer.Layout.ListSpecEntriesAsync(Token).ToListAsync(Token);
        Assert.Equal(source.Spec.Root.Hash, Assert.Single(listed).Hash);
        var content = await ReadBackAsync(writer.Layout, source.Spec.Root, null);
        AssertSameSpec(source.Spec, content.Spec);
        Assert.Null(content.SignerFingerprint);
        Assert.Equal(source.Sha256, content.Tarball!.Sha256);
        var tarball = await writer.Layout.Store.ReadAllBytesAsync(content.Tarball.Key, cancellationToken: Token);
        Assert.Equal(source.Sha256, Convert.ToHexStringLower(SHA256.HashData(tarball)));
    }

    [Fact]
    public async Task ASignedEntryCarriesTheWritersSignature()
    {
        var source = await SourceAsync("greet-data");
        var writer = await WriterAsync(signed: true);
        Assert.True(writer.Signs);
        await WriteAndCompleteAsync(writer, source);

        Assert.True(await writer.ExistsAsync(source.Spec.Root, Token));
        var content = await ReadBackAsync(writer.Layout, source.Spec.Root, TestData.Trusting(Keyring, Store.Root));
        Assert.Equal(Fingerprint, content.SignerFingerprint);
        AssertSameSpec(source.Spec, content.Spec);
    }

    [Fact]
    public async Task AnUnsignedEntryIsAbsentForASigningWriter()
    {
        var source = await SourceAsync("greet-data");
        await WriteAndCompleteAsync(await WriterAsync(signed: false), source);

        Assert.True(await (await WriterAsync(signed: false)).ExistsAsync(source.Spec.Root, Token));
        Assert.False(await (await WriterAsync(signed: true)).ExistsAsync(source.Spec.Root, Token));
    }

    [Fact]
    public async Task AnEntryWithoutItsTarballIsAbsent()
    {
        var source = await SourceAsync("greet-data");
        var writer = await WriterAsync(signed: false);
        await WriteAndCompleteAsync(writer, source);

        await RemoveTarballAsync(source.Spec.Root, source.Sha256);
        Assert.False(await writer.ExistsAsync(source.Spec.Root, Token));
    }

    [Fact]
    public async Task ATarballWithoutItsMetadataIsAbsent()
    {
        var source = await SourceAsync("greet-data");
        var writer = await WriterAsync(signed: false);
        await WriteAndCompleteAsync(writer, source);

        await RemoveMetadataAsync(source.Spec.Root);
        Assert.False(await writer.ExistsAsync(source.Spec.Root, Token));
        Assert.Empty(await writer.Layout.ListSpecEntriesAsync(Token).ToListAsync(Token));
    }

    [Fact]
    public async Task FinishPublishesTheKeyAndTheIndexListsEveryEntry()
    {
        var sources = new[] { await SourceAsync("greet-data"), await SourceAsync("compiler-wrapper") };
        var writer = await WriterAsync(signed: true);
        await WriteAndCompleteAsync(writer, sources);

        var key = new PublishedKey(Fingerprint, Keyring.ExportPublic(Fingerprint), Fingerprint);
        var result = await EntryWriting.FinishAsync(writer, key, null, Token);
        Assert.Equal(2, result.Specs);

        var index = await writer.Layout.ReadIndexAsync(Token);
        Assert.NotNull(index);
        Assert.Equal(sources.Select(s => s.Spec.Root.Hash).Order(StringComparer.Ordinal),
            index.CachedSpecs.Select(s => s.Hash).Order(StringComparer.Ordinal));
        Assert.Equal(Fingerprint, Assert.Single(await writer.Layout.ReadPublishedKeysAsync(Token)).Fingerprint);
    }

    [Fact]
    public async Task SigningInPlaceKeepsTheSpecAndHappensOnce()
    {
        var source = await SourceAsync("greet-data");
        await WriteAndCompleteAsync(await WriterAsync(signed: false), source);
        var signer = await WriterAsync(signed: true);
        var entry = Assert.Single(await signer.Layout.ListSpecEntriesAsync(Token).ToListAsync(Token));

        Assert.True(await signer.SignAsync(entry, force: false, Token));
        entry = Assert.Single(await signer.Layout.ListSpecEntriesAsync(Token).ToListAsync(Token));
        Assert.False(await signer.SignAsync(entry, force: false, Token)); // this key's signature is there
        Assert.True(await signer.SignAsync(entry, force: true, Token));

        Assert.True(await signer.ExistsAsync(source.Spec.Root, Token));
        var content = await ReadBackAsync(signer.Layout, source.Spec.Root, TestData.Trusting(Keyring, Store.Root));
        Assert.Equal(Fingerprint, content.SignerFingerprint);
        AssertSameSpec(source.Spec, content.Spec);
        Assert.Equal(source.Sha256, content.Tarball!.Sha256);
    }

    [Fact]
    public async Task AWriterWithoutAKeyRefusesToSign()
    {
        var source = await SourceAsync("greet-data");
        var writer = await WriterAsync(signed: false);
        await WriteAndCompleteAsync(writer, source);
        var entry = Assert.Single(await writer.Layout.ListSpecEntriesAsync(Token).ToListAsync(Token));

        var e = await Assert.ThrowsAsync<DepotException>(() => writer.SignAsync(entry, force: false, Token));
        Assert.Contains("signing entries needs a signing key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntriesOfTheSameKindAreCopiedAsTheyAreAndOthersNot()
    {
        var writer = await WriterAsync(signed: true);

        // Another kind of layout: nothing is written, the caller rewrites the entry.
        var other = SameKindMirror == TestData.V2Signed
            ? (IBuildCacheLayout)new BuildCacheV3(new LocalDirectoryStore(TestData.Path(TestData.V3Signed)))
            : new BuildCacheV2(new LocalDirectoryStore(TestData.Path(TestData.V2Signed)));
        var otherEntry = await other.ListSpecEntriesAsync(Token).FirstAsync(Token);
        var otherContent = await other.ReadEntryAsync(otherEntry, null, Token);
        Assert.Null(await writer.TryCopyAsync(other, otherEntry, otherContent.Tarball!, null, Token));
        Assert.False(await writer.ExistsAsync(otherContent.Spec.Root, Token));

        if (SameKindMirror is null)
        {
            return; // this layout's entries are always rewritten
        }

        // The same kind: byte for byte, the source's own signature kept.
        var from = (await BuildCache.DetectAsync(new LocalDirectoryStore(TestData.Path(SameKindMirror)), Token))[0];
        var entry = await from.ListSpecEntriesAsync(Token)
            .FirstAsync(e => e.Key.Contains("greet-data", StringComparison.Ordinal), Token);
        var content = await from.ReadEntryAsync(entry, null, Token);
        long? done = null;
        var size = new FileInfo(TestData.Path(SameKindMirror + "/" + content.Tarball!.Key)).Length;
        Assert.Equal(size, await writer.TryCopyAsync(from, entry, content.Tarball, n => done = n, Token));
        Assert.NotNull(done);

        Assert.True(await writer.ExistsAsync(content.Spec.Root, Token));
        Assert.Equal(await from.Store.ReadAllBytesAsync(entry.Key, cancellationToken: Token),
            await Store.ReadAllBytesAsync(entry.Key, cancellationToken: Token));
        var copied = await ReadBackAsync(writer.Layout, content.Spec.Root, TestData.Trusting(Keyring, Store.Root));
        Assert.Equal(Fingerprint, copied.SignerFingerprint);
        Assert.Equal(content.Tarball.Sha256, copied.Tarball!.Sha256);
    }
}
