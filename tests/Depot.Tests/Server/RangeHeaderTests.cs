using Depot.Server;

namespace Depot.Tests.Server;

/// <summary>Range headers as RFC 9110 reads them: one range served, anything else whole, past the end 416.</summary>
public class RangeHeaderTests
{
    [Theory]
    [InlineData("bytes=0-9", 100, 0, 10)]
    [InlineData("bytes=90-", 100, 90, 10)]
    [InlineData("bytes=90-500", 100, 90, 10)]
    [InlineData("bytes=-5", 100, 95, 5)]
    [InlineData("bytes=-500", 100, 0, 100)]
    [InlineData("BYTES=5-5", 100, 5, 1)]
    public void OneRangeIsServed(string header, long size, long offset, long length) =>
        Assert.Equal((new ByteRange(offset, length), false), RangeHeader.Parse(header, size));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("items=0-1")]
    [InlineData("bytes=0-1,5-6")]
    [InlineData("bytes=9-2")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=5")]
    public void AnythingElseIsServedWhole(string? header) =>
        Assert.Equal((null, false), RangeHeader.Parse(header, 100));

    [Theory]
    [InlineData("bytes=100-", 100)]
    [InlineData("bytes=-0", 100)]
    [InlineData("bytes=0-", 0)]
    public void ARangePastTheEndIsUnsatisfiable(string header, long size) =>
        Assert.Equal((null, true), RangeHeader.Parse(header, size));

    [Fact]
    public void ContentRangeNamesTheLastByteAndTheSize() =>
        Assert.Equal("bytes 90-99/100", new ByteRange(90, 10).ContentRange(100));
}
