using System.CommandLine;
using System.Globalization;
using Depot.InstallTree;
using Depot.Operations;
using Depot.Sources;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary><c>depot push MIRROR [SPEC...] [--all]</c>: installed specs → build cache entries, signed, in
/// parallel; <c>depot push MIRROR --sources</c>: Spack's download cache → the mirror's source archives.</summary>
public static class PushCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to push to");
        var queries =
            CommonArguments.Queries("Installed specs to push: name, name@version or /hash (with their link and run "
                + "dependencies)");
        var all = new Option<bool>("--all", "-a") { Description = "Push every installed, non-external spec" };
        var tree = new Option<string?>("--install-tree")
        {
            Description = "Spack install tree (default: $SPACK_ROOT/opt/spack)",
        };
        var only = new Option<string>("--only")
        {
            Description =
                "Push only the named specs ('package') or only their dependencies ('dependencies'); default both",
        };
        only.AcceptOnlyFromAmong("package", "dependencies", "package,dependencies");
        var buildDeps = new Option<bool>("--with-build-dependencies") { Description = "Also push build dependencies" };
        var force = new Option<bool>("--force", "-f") { Description = "Rewrite entries the mirror already holds" };
        var unsigned = new Option<bool>("--unsigned", "-u")
        {
            Description = "Do not sign (default: sign with the Depot key)",
        };
        var key = new Option<string?>("--key", "-k")
        {
            Description = "Signing key fingerprint (default: the only secret key)",
        };
        var layout = new Option<string?>("--layout")
        {
            Description =
                "v3 (Spack 1.x), v2 (what Spack 0.21 writes and 0.21-1.x read) or v2-0.22 (what Spack 0.22/0.23 "
                + "write); default: the mirror's, v3 if new (a registry always gets Spack's OCI layout)",
        };
        layout.AcceptOnlyFromAmong("v3", "v2", "v2-0.22");
        var jobs = CommonArguments.Jobs("Packages pushed at once", "number of cores");
        var noIndex = new Option<bool>("--no-index")
        {
            Description = "Do not publish the key or update the index afterwards",
        };
        var failFast = new Option<bool>("--fail-fast")
        {
            Description = "Stop at the first failure (default: push the rest, report at the end)",
        };
        var json = CommonArguments.Json("Print a JSON summary (errors too)");
        var spackPrefix = new Option<string?>("--spack-prefix")
        {
            Description = "Builder's Spack checkout recorded in build info (default: $SPACK_ROOT)",
        };
        var baseImage = new Option<string?>("--base-image")
        {
            Description =
                "OCI registries: build each spec's image on this image (oci://host/repo:tag or a Docker reference like "
                + "ubuntu:24.04), as Spack does",
        };
        var tag = new Option<string?>("--tag")
        {
            Description =
                "OCI registries: also tag one runnable image holding every pushed spec and its dependencies, as "
                + "Spack's --tag",
        };
        var sources = new Option<bool>("--sources")
        {
            Description = "Push Spack's download cache (source archives, checked against their sha256) instead of "
                + "packages, for air-gapped sites: the mirror becomes a source mirror too",
        };
        var sourceCache = new Option<string?>("--source-cache")
        {
            Description = "With --sources: the download cache (default: $SPACK_ROOT/var/spack/cache, or the one of "
                + "--install-tree's Spack)",
        };
        var command = new Command("push",
            "Push installed Spack packages to a build cache (signed, in parallel; index updated)")
        {
            mirror, queries, all, tree, only, buildDeps, force, unsigned, key, layout, jobs, noIndex, failFast, json,
                spackPrefix, baseImage, tag, sources, sourceCache,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var specs = parse.GetValue(queries) ?? [];
            if (parse.GetValue(sources))
            {
                if (specs.Length > 0 || parse.GetValue(all))
                {
                    throw new DepotException(ErrorKind.Usage,
                        "--sources pushes the download cache alone: push packages in a run of their own");
                }

                var cache = SourceCacheLocator.Resolve(parse.GetValue(sourceCache), parse.GetValue(tree),
                    console.Environment["SPACK_ROOT"]);
                var sourceMirror = console.Engine.Open(parse.GetValue(mirror)!, MirrorPurpose.Write);
                var transfer = new SourceTransferOptions(parse.GetValue(jobs) ?? Environment.ProcessorCount,
                    parse.GetValue(force));
                return await SourcesReport.FinishAsync(console, parse.GetValue(json), "pushed",
                    progress => SourcePushOperation.RunAsync(sourceMirror, cache, transfer, progress, token))
                    .ConfigureAwait(false);
            }

            if (parse.GetValue(sourceCache) is not null)
            {
                throw new DepotException(ErrorKind.Usage, "--source-cache goes with --sources");
            }

            if (specs.Length == 0 && !parse.GetValue(all))
            {
                throw new DepotException(ErrorKind.Usage,
                    "name the specs to push, or use --all to push everything installed");
            }

            // Like Spack: --unsigned, else --key, else the mirror's configured `signed` (default true).
            var writeOptions = new MirrorWriteOptions(parse.GetValue(unsigned), parse.GetValue(key),
                PushLayouts.Parse(parse.GetValue(layout)))
                .Validate();
            var root = InstallTreeLocator.Resolve(parse.GetValue(tree), console.Environment["SPACK_ROOT"]);
            var db = await InstallDatabase.ReadAsync(root, cancellationToken: token).ConfigureAwait(false);
            var parts = parse.GetValue(only) switch
            {
                "package" => PushParts.Package,
                "dependencies" => PushParts.Dependencies,
                _ => PushParts.Both,
            };
            var plan = PushSelection.Select(db, specs.Select(SpecQuery.Parse).ToList(), parse.GetValue(all), parts,
                parse.GetValue(buildDeps));

            var target = console.Engine.OpenForWrite(parse.GetValue(mirror)!, writeOptions);
            var options = new PushOptions(parse.GetValue(force), parse.GetValue(jobs) ?? Environment.ProcessorCount,
                parse.GetValue(failFast),
                parse.GetValue(spackPrefix) ?? console.Environment["SPACK_ROOT"],
                !parse.GetValue(noIndex), console.Engine.IndexCache,
                    parse.GetValue(baseImage), parse.GetValue(tag));

            var result = await PushDisplay.RunAsync(console, parse.GetValue(json),
                progress => PushOperation.RunAsync(target, db, plan, options, progress, token)).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                PushReport.WriteJson(console.Out, result);
            }

            return result.AnyFailed ? ExitCodes.Failed : ExitCodes.Success;
        }));
        return command;
    }
}

/// <summary>Text and JSON reports of a push.</summary>
internal static class PushReport
{
    /// <summary>Every outcome not printed yet, then the summary.</summary>
    public static void WriteText(CliConsole console, PushResult result, IReadOnlySet<string> printed)
    {
        foreach (var o in result.Outcomes.Where(o => !printed.Contains(o.Hash)))
        {
            WriteOutcome(console, o);
        }

        var signing = result.PublishedKey is null ? "" : $", key {result.PublishedKey} published";
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Mirror}: pushed {result.Count(PushStatus.Pushed)}, skipped "
            + $"{result.Count(PushStatus.SkippedExists)} existing and {result.Count(PushStatus.SkippedExternal)} "
            + $"external, failed {result.Count(PushStatus.Failed)} (layout {LayoutName(result.Layout)}{signing}) in "
            + $"{result.Elapsed.TotalSeconds:0.00} s"));
        if (result.Index is { } index)
        {
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"index updated: {index.Specs} specs ({index.Read} read, {index.Reused} reused) in {index.IndexKey}"));
        }
        else if (result.IndexedByServer && result.Count(PushStatus.Pushed) > 0)
        {
            console.Out.WriteLine("index updated by the server");
        }

        if (result.TaggedImage is { } tag)
        {
            console.Out.WriteLine($"tagged {result.Mirror}:{tag}: every pushed spec and its dependencies in one image");
        }
    }

    /// <summary>One line per spec: status, spec, and sizes and time or the reason.</summary>
    public static void WriteOutcome(CliConsole console, PushOutcome o)
    {
        var label = o.Status switch
        {
            PushStatus.Pushed => "pushed",
            PushStatus.SkippedExists => "exists",
            PushStatus.SkippedExternal => "external",
            PushStatus.SkippedNotInstalled => "missing",
            PushStatus.Failed => "FAILED",
            _ => "stopped",
        };
        var line = $"{label,-8} {o.Display} /{o.Hash[..7]}";
        if (o.Status == PushStatus.Pushed)
        {
            line += string.Create(CultureInfo.InvariantCulture,
                $"  {ByteSize.Format(o.ContentBytes)} -> {ByteSize.Format(o.TarballBytes)}  "
                + $"{o.Elapsed.TotalSeconds:0.00} s");
        }
        else if (o.Reason is not null)
        {
            line += "  " + HintText.WithHint(o.Reason, o.Hint);
        }

        (o.Status is PushStatus.Failed ? console.Error : console.Out).WriteLine(line);
    }

    /// <summary>The JSON document; <paramref name="error"/>: the last step's failure, as an <c>error</c>
    /// field.</summary>
    public static void WriteJson(TextWriter output, PushResult result, DepotException? error = null)
    {
        JsonOutput.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("mirror", result.Mirror);
            json.WriteString("layout", LayoutName(result.Layout));
            json.WriteString("published_key", result.PublishedKey);
            json.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            json.WriteStartObject("counts");
            foreach (var status in Enum.GetValues<PushStatus>())
            {
                json.WriteNumber(StatusName(status), result.Count(status));
            }

            json.WriteEndObject();
            json.WriteStartArray("specs");
            foreach (var o in result.Outcomes)
            {
                JsonOutput.StartSpec(json, o.Name, o.Hash, o.Display, StatusName(o.Status));
                if (o.Reason is not null)
                {
                    json.WriteString("reason", o.Reason);
                }

                JsonOutput.WriteHint(json, o.Hint);

                if (o.Status == PushStatus.Pushed)
                {
                    json.WriteNumber("content_bytes", o.ContentBytes);
                    json.WriteNumber("tarball_bytes", o.TarballBytes);
                    json.WriteNumber("seconds", Math.Round(o.Elapsed.TotalSeconds, 3));
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (result.Index is { } index)
            {
                json.WriteStartObject("index");
                json.WriteString("key", index.IndexKey);
                json.WriteNumber("specs", index.Specs);
                json.WriteNumber("read", index.Read);
                json.WriteNumber("reused", index.Reused);
                json.WriteEndObject();
            }
            else if (result.IndexedByServer)
            {
                json.WriteBoolean("indexed_by_server", true);
            }

            if (error is not null)
            {
                JsonOutput.WriteErrorField(json, error);
            }

            json.WriteEndObject();
        });
    }

    public static string LayoutName(PushLayout layout) => layout switch
    {
        PushLayout.V3 => "v3",
        PushLayout.V2 => "v2",
        PushLayout.Oci => "oci",
        _ => "v2-0.22",
    };

    private static string StatusName(PushStatus status) => status switch
    {
        PushStatus.Pushed => "pushed",
        PushStatus.SkippedExists => "skipped_exists",
        PushStatus.SkippedExternal => "skipped_external",
        PushStatus.SkippedNotInstalled => "skipped_not_installed",
        PushStatus.Failed => "failed",
        _ => "not_attempted",
    };
}
