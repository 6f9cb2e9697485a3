using Depot.Serving;

namespace Depot.Tests.Serving;

/// <summary>A clock tests move by hand: wall time and the monotonic timestamps the token store rechecks by.</summary>
internal sealed class ManualClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 12, 6, 9, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => Now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}

/// <summary>The tokens file: create, list, revoke, expiry, concurrent writers, changes seen by a reader.</summary>
public sealed class TokenStoreTests : IDisposable
{
    private readonly TempDir dir = new();

    private string FilePath => dir.Combine("tokens.json");

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task ATokenIsShownOnceAndStoredOnlyAsItsHash()
    {
        var store = new TokenStore(FilePath);
        var (record, text) = await store.CreateAsync("main", TokenScope.Push, null, "ci", CancellationToken.None);

        Assert.Matches("^dpt_[0-9a-f]{12}_[0-9a-f]{64}$", text); // 64 hex digits: 256 random bits
        Assert.Equal(record.Id, AccessToken.IdOf(text));
        var file = File.ReadAllText(FilePath);
        Assert.DoesNotContain(text[^64..], file, StringComparison.Ordinal);
        Assert.Contains(AccessToken.Hash(text), file, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));

        var listed = Assert.Single(await store.ListAsync(CancellationToken.None));
        Assert.Equal(record, listed);
        Assert.Equal(new TokenCheck(TokenStatus.Valid, record), store.Check(text));
    }

    [Fact]
    public async Task UnknownTamperedAndMalformedTokensAreUnknown()
    {
        var store = new TokenStore(FilePath);
        var (_, text) = await store.CreateAsync("main", TokenScope.Read, null, null, CancellationToken.None);
        var tampered = text[..^1] + (text[^1] == '0' ? '1' : '0');

        Assert.Equal(TokenStatus.Unknown, store.Check(tampered).Status);
        Assert.Equal(TokenStatus.Unknown, store.Check(AccessToken.Generate().Text).Status);
        Assert.Equal(TokenStatus.Unknown, store.Check("hunter2").Status);
        Assert.Equal(TokenStatus.Unknown, store.Check(text.ToUpperInvariant()).Status);
        Assert.Equal(TokenStatus.Unknown, new TokenStore(dir.Combine("none.json")).Check(text).Status);
    }

    [Fact]
    public async Task ATokenExpiresAfterItsLifetime()
    {
        var clock = new ManualClock();
        var store = new TokenStore(FilePath, clock);
        var (record, text) = await store.CreateAsync("main", TokenScope.Read, TimeSpan.FromDays(30), null,
            CancellationToken.None);
        Assert.Equal(clock.Now.AddDays(30), record.Expires);

        clock.Now = clock.Now.AddDays(30).AddSeconds(-1);
        Assert.Equal(TokenStatus.Valid, store.Check(text).Status);
        clock.Now = clock.Now.AddSeconds(1);
        Assert.Equal(new TokenCheck(TokenStatus.Expired, record), store.Check(text));
    }

    [Theory]
    [InlineData("90m", 90 * 60)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("30d", 30 * 86400)]
    [InlineData("2w", 14 * 86400)]
    public void LifetimesAreANumberAndAUnit(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), TokenLifetime.Parse(text));

    [Theory]
    [InlineData("30")]
    [InlineData("d")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("1y")]
    public void OtherLifetimesAreRefusedInOneLine(string text)
    {
        var e = Assert.Throws<DepotException>(() => TokenLifetime.Parse(text));
        Assert.Equal(ErrorKind.Usage, e.Kind);
        Assert.Contains("30d", e.Message, StringComparison.Ordinal);
        Assert.Null(TokenLifetime.Parse("never"));
    }

    [Fact]
    public async Task RevokeByIdOrNameAndAReaderSeesItWithinASecond()
    {
        var clock = new ManualClock();
        var writer = new TokenStore(FilePath, clock);
        var server = new TokenStore(FilePath, clock);
        var (first, firstText) = await writer.CreateAsync("main", TokenScope.Push, null, "ci", CancellationToken.None);
        var (second, secondText) = await writer.CreateAsync("main", TokenScope.Read, null, "dev",
            CancellationToken.None);
        Assert.Equal(TokenStatus.Valid, server.Check(firstText).Status);

        Assert.Equal(first, await writer.RevokeAsync(first.Id, CancellationToken.None));
        Assert.Equal(TokenStatus.Valid, server.Check(firstText).Status); // read less than a second ago
        clock.Now = clock.Now.AddSeconds(1);
        Assert.Equal(TokenStatus.Unknown, server.Check(firstText).Status);

        Assert.Equal(second, await writer.RevokeAsync("dev", CancellationToken.None));
        clock.Now = clock.Now.AddSeconds(1);
        Assert.Equal(TokenStatus.Unknown, server.Check(secondText).Status);
        Assert.Empty(await writer.ListAsync(CancellationToken.None));

        var missing = await Assert.ThrowsAsync<DepotException>(() => writer.RevokeAsync(firstText,
            CancellationToken.None));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.DoesNotContain(firstText, missing.Message, StringComparison.Ordinal); // named by its id only
        Assert.Contains(first.Id, missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANameTwoTokensCarryIsRefusedWithTheirIds()
    {
        var store = new TokenStore(FilePath);
        var (a, _) = await store.CreateAsync("main", TokenScope.Read, null, "same", CancellationToken.None);
        var (b, _) = await store.CreateAsync("main", TokenScope.Read, null, "same", CancellationToken.None);

        var e = await Assert.ThrowsAsync<DepotException>(() => store.RevokeAsync("same", CancellationToken.None));
        Assert.Equal(ErrorKind.Usage, e.Kind);
        Assert.Contains(a.Id, e.Message, StringComparison.Ordinal);
        Assert.Contains(b.Id, e.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await store.ListAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task ConcurrentCreatesFromSeparateStoresAllLand()
    {
        var stores = new[] { new TokenStore(FilePath), new TokenStore(FilePath) };
        var created = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() =>
            stores[i % 2].CreateAsync("main", TokenScope.Read, null, $"t{i}", CancellationToken.None))));

        var listed = await new TokenStore(FilePath).ListAsync(CancellationToken.None);
        Assert.Equal(created.Select(c => c.Token.Id).Order(), listed.Select(t => t.Id).Order());
        var reader = new TokenStore(FilePath);
        Assert.All(created, c => Assert.Equal(TokenStatus.Valid, reader.Check(c.Text).Status));
    }

    [Fact]
    public async Task ABrokenFileIsNamedInTheError()
    {
        File.WriteAllText(FilePath, "{\"tokens\": 3}");
        var e = await Assert.ThrowsAsync<DepotException>(() =>
            new TokenStore(FilePath).ListAsync(CancellationToken.None));
        Assert.Equal(ErrorKind.InvalidContent, e.Kind);
        Assert.StartsWith(FilePath + ": not a tokens file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HashesCompareWholeAndOnlyWhenWellFormed()
    {
        var (_, text) = AccessToken.Generate();
        Assert.True(AccessToken.Matches(text, AccessToken.Hash(text)));
        Assert.False(AccessToken.Matches(text, AccessToken.Hash(text)[..62]));
        Assert.False(AccessToken.Matches(text, new string('z', 64)));
        Assert.False(AccessToken.Matches(text + "x", AccessToken.Hash(text)));
    }
}
