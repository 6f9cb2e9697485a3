using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Depot.Storage.Oci;

namespace Depot.Tests.Storage;

/// <summary>
/// Hostile registry answers: image manifests and indexes through <see cref="OciImageManifest.Parse"/> and
/// <see cref="OciImageManifest.ParseIndex"/>, error bodies through <see cref="OciRegistryException"/>'s summary. Only
/// Depot's own errors may come out, and an error body never makes the message span lines.
/// </summary>
public sealed class OciFuzzTests
{
    private static readonly Gen<byte[]> DescriptorLike =
        Gen.Select(Gen.Long, Gen.String[Gen.Char.AlphaNumeric, 0, 70], Gen.Int[0, 3], Gen.Bool)
            .Select((size, digest, count, index) =>
            {
                JsonObject Descriptor() => new()
                {
                    ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip",
                    ["digest"] = "sha256:" + digest,
                    ["size"] = size,
                    ["annotations"] = new JsonObject { ["a"] = 1 },
                    ["platform"] = new JsonObject { ["architecture"] = 7 },
                };
                var list = new JsonArray(Enumerable.Range(0, count).Select(_ => (JsonNode)Descriptor()).ToArray());
                var document = index ? new JsonObject { ["schemaVersion"] = 2, ["manifests"] = list }
                    : new JsonObject
                    {
                        ["schemaVersion"] = 2,
                        ["config"] = Descriptor(),
                        ["layers"] = list,
                        ["subject"] = Descriptor(),
                    };
                return Encoding.UTF8.GetBytes(document.ToJsonString());
            });

    private static readonly Gen<byte[]> ErrorBodyLike =
        Gen.Select(Gen.String[Gen.Char, 0, 40], Gen.String[Gen.Char, 0, 200], Gen.Int[0, 3])
            .Select((code, message, count) => Encoding.UTF8.GetBytes("{\"errors\":[" + string.Join(",",
                Enumerable.Repeat($"{{\"code\":{System.Text.Json.JsonSerializer.Serialize(code)},\"message\":"
                    + $"{System.Text.Json.JsonSerializer.Serialize(message)}}}", count)) + "]}"));

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void ManifestsAndIndexesParseOrFailWithDepotsOwnError() =>
        FuzzLoop.Run("oci", input =>
        {
            try
            {
                OciImageManifest.Parse(input, "fuzzed manifest");
            }
            finally
            {
                OciImageManifest.ParseIndex(input, "fuzzed index");
            }
        }, iterations: 3000, DescriptorLike);

    [Fact]
    [Trait("Category", FuzzLoop.Trait)]
    public void ErrorBodiesAreSummarisedOnOneLine() =>
        FuzzLoop.Run("oci-error", input =>
        {
            var e = new OciRegistryException(HttpMethod.Get, new Uri("https://registry.example/v2/x/manifests/y"),
                HttpStatusCode.NotFound, Encoding.UTF8.GetString(input));
            Assert.DoesNotContain('\n', e.Message);
            Assert.DoesNotContain('\r', e.Message);
            Assert.True(e.Message.Length < 4096, $"a message of {e.Message.Length} characters");
        }, iterations: 3000, ErrorBodyLike);
}
