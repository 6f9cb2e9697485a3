using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Depot.Tests.Storage;

/// <summary>
/// A real server the store tests talk to, started on 127.0.0.1 on a free port and stopped afterwards. The servers are
/// npm packages that <c>./test.sh</c> installs into <c>.test-services/</c>; if one is missing the tests fail saying so
/// (they never skip).
/// </summary>
public abstract class TestServer : IAsyncLifetime
{
    private Process? process;
    private readonly TempDir data = new();

    public int Port { get; private set; }

    protected string DataPath => data.Path;

    /// <summary>The program under <c>.test-services/node_modules/.bin</c> and its arguments for a port.</summary>
    protected abstract (string Program, string[] Arguments) Command(int port);

    public async ValueTask InitializeAsync()
    {
        var (program, arguments) = Command(0);
        var path = ProgramPath(program);

        Port = FreePort();
        (_, arguments) = Command(Port);
        process = Process.Start(new ProcessStartInfo(path, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{program} exited with {process.ExitCode} at start");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException($"{program} did not listen on 127.0.0.1:{Port} within 30 s");
    }

    /// <summary>Where the server program is: the npm packages <c>./test.sh</c> installs into
    /// <c>.test-services/</c>.</summary>
    protected virtual string ProgramPath(string program)
    {
        var bin = Path.Combine(TestData.Path(""), "..", "..", ".test-services", "node_modules", ".bin");
        var path = Path.GetFullPath(Path.Combine(bin, program));
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"{program} is not installed in {Path.GetFullPath(bin)}: run "
                + "./test.sh, which installs the test services");
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process?.Dispose();
        data.Dispose();
        GC.SuppressFinalize(this);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>s3rver (credentials S3RVER/S3RVER), with the bucket <see cref="Bucket"/>.</summary>
public sealed class S3rver : TestServer
{
    public const string Bucket = "depot-test";

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Where s3rver keeps the objects: <c>BUCKET/KEY._S3rver_object</c> files.</summary>
    public string DataFolder => DataPath;

    protected override (string, string[]) Command(int port) =>
        ("s3rver",
            ["-d", DataPath, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--configure-bucket", Bucket, "--silent"]);
}

/// <summary>Azurite's blob service (the well-known development account), in memory.</summary>
public sealed class Azurite : TestServer
{
    public const string AccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};"
        + $"BlobEndpoint=http://127.0.0.1:{Port}/devstoreaccount1;";

    protected override (string, string[]) Command(int port) =>
        ("azurite-blob",
            ["--blobHost", "127.0.0.1", "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--inMemoryPersistence",
            "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--extentMemoryLimit", "256", "--silent"]);
}
