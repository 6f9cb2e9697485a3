using System.CommandLine;
using System.Globalization;
using Depot.Catalog;
using Depot.Catalog.Pages;
using Depot.Operations;
using Depot.Serving;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot catalog MIRROR --out DIR</c>: the web catalog of a build cache as static files (the pages
/// <c>depot serve</c> shows, searched in the browser), for a bucket website, GitHub Pages or an air-gapped server.
/// </summary>
public static class CatalogCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to write the catalog of");
        var output = new Option<string>("--out", "-o")
        {
            Description = "Folder to write (new, empty, or a previous export, which is replaced)",
            HelpName = "DIR",
            Required = true,
        };
        var name = new Option<string?>("--name")
        {
            Description = "The cache's name in the pages and paths (default: as depot serve names the mirror)",
            HelpName = "NAME",
        };
        var mirrorUrl = new Option<string?>("--mirror-url")
        {
            Description = "The mirror URL shown in install commands and linked for keys (default: the mirror's own)",
            HelpName = "URL",
        };
        var jobs = CommonArguments.Jobs("Pages written in parallel", "number of cores");
        var json = CommonArguments.Json();
        var command = new Command("catalog", "Write a build cache's web catalog as static files (the pages depot "
            + "serve shows)")
        {
            mirror, output, name, mirrorUrl, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var mirrorArgument = parse.GetValue(mirror)!;
            var opened = console.Engine.Open(mirrorArgument, MirrorPurpose.Read);
            var cacheName = parse.GetValue(name) ?? opened.ConfiguredName ?? CacheNames.FromMirror(mirrorArgument);
            var url = parse.GetValue(mirrorUrl) ?? OwnUrl(mirrorArgument, opened);
            using var catalog = new CacheCatalog(opened, console.Engine.Home.KeysFolder, console.Engine.IndexCache,
                new CatalogOptions(cacheName, true));
            var options = new CatalogExportOptions(parse.GetValue(output)!, url,
                parse.GetValue(jobs) ?? Environment.ProcessorCount);
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => CatalogExport.RunAsync(catalog, options, progress, token)).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("out", result.OutputDirectory);
                    w.WriteString("name", cacheName);
                    w.WriteString("mirror_url", url);
                    w.WriteNumber("pages", result.Pages);
                    w.WriteNumber("specs", result.Specs);
                    w.WriteNumber("skipped", result.Skipped);
                    w.WriteNumber("bytes", result.Bytes);
                    w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
                    w.WriteEndObject();
                });
            }
            else
            {
                if (result.Skipped > 0)
                {
                    console.Warn($"{result.Skipped} specs or packages left out: their hash or name cannot be a "
                        + "folder name");
                }

                var size = string.Create(CultureInfo.InvariantCulture,
                    $"{result.Specs} specs, {result.Pages} pages, {result.Bytes / 1048576.0:0.0} MiB");
                var time = result.Elapsed.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
                console.Out.WriteLine($"catalog of {cacheName}: {size} in {result.OutputDirectory} ({time} s); open "
                    + Path.Combine(result.OutputDirectory, "index.html") + " or serve the folder");
            }

            return result.Skipped > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The URL consumers would add: a configured mirror's URL, a path as <c>file://</c>, a URL as given.
    /// </summary>
    private static string OwnUrl(string argument, Mirror mirror)
    {
        if (mirror.Configuration is { Url.Length: > 0 } configured)
        {
            return configured.Url;
        }

        return argument.Contains("://", StringComparison.Ordinal) ? argument
            : new Uri(Path.GetFullPath(argument)).AbsoluteUri;
    }
}
