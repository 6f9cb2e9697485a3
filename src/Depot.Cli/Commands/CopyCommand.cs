using System.CommandLine;
using System.Globalization;
using Depot.Operations;
using Depot.Sources;
using Depot.Specs;
using Depot.Storage;

namespace Depot.Cli.Commands;

/// <summary><c>depot copy SRC DST [QUERY...]</c>: move a cache between any two mirrors, verified on the way.</summary>
public static class CopyCommand
{
    public static Command Create(CliConsole console)
    {
        var source = new Argument<string>("source")
        {
            Description = "Mirror to copy from: " + CommonArguments.MirrorForms,
        };
        var destination = new Argument<string>("destination")
        {
            Description = "Mirror to copy into: " + CommonArguments.MirrorForms,
        };
        var queries = CommonArguments.Queries("Only these specs: name, name@version, /hashprefix (default: all)");
        var layout = new Option<string?>("--layout")
        {
            Description = "Destination layout for a new directory or bucket: v3 (default), v2 or v2-0.22",
        };
        layout.AcceptOnlyFromAmong("v3", "v2", "v2-0.22");
        var unsigned = new Option<bool>("--unsigned", "-u")
        {
            Description = "Write entries rewritten in another layout unsigned (default: sign with the Depot key)",
        };
        var key = new Option<string?>("--key", "-k")
        {
            Description = "Signing key fingerprint (default: the only secret key)",
        };
        var noVerify = new Option<bool>("--no-verify")
        {
            Description = "Do not check the source's signatures (checksums are always checked)",
        };
        var force = new Option<bool>("--force", "-f") { Description = "Copy entries the destination holds already" };
        var jobs = CommonArguments.Jobs("Entries copied at once", "8");
        var noIndex = new Option<bool>("--no-index") { Description = "Do not update the destination's index" };
        var json = CommonArguments.Json("Print a JSON summary instead of lines (errors too)");
        var sources = new Option<bool>("--sources")
        {
            Description = "Copy the source mirror (_source-cache/, archives checked against their sha256) instead of "
                + "the build cache",
        };
        var command = new Command("copy",
            "Copy a build cache into another mirror (directory, S3, GCS, Azure, OCI registry), verifying as it goes")
        {
            source, destination, queries, layout, unsigned, key, noVerify, force, jobs, noIndex, json, sources,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            if (parse.GetValue(sources))
            {
                if ((parse.GetValue(queries) ?? []).Length > 0)
                {
                    throw new DepotException(ErrorKind.Usage,
                        "--sources copies every source archive: spec queries do not apply");
                }

                var fromSources = console.Engine.Open(parse.GetValue(source)!, MirrorPurpose.Read);
                var toSources = console.Engine.Open(parse.GetValue(destination)!, MirrorPurpose.Write);
                var transfer = new SourceTransferOptions(parse.GetValue(jobs) ?? 8, parse.GetValue(force));
                return await SourcesReport.FinishAsync(console, parse.GetValue(json), "copied",
                    progress => SourceCopyOperation.RunAsync(fromSources, toSources, transfer, progress, token))
                    .ConfigureAwait(false);
            }

            // Entries rewritten in another layout are signed like a push signs: --unsigned, else --key, else the
            // destination's setting.
            var writeOptions = new MirrorWriteOptions(parse.GetValue(unsigned), parse.GetValue(key),
                PushLayouts.Parse(parse.GetValue(layout)))
                .Validate();
            var from = parse.GetValue(source)!;
            var to = parse.GetValue(destination)!;
            var sourceMirror = console.Engine.OpenForRead(from, parse.GetValue(noVerify));
            var destinationMirror = console.Engine.OpenForWrite(to, writeOptions);
            var options = new CopyOptions((parse.GetValue(queries) ?? []).Select(SpecQuery.Parse).ToList(),
                parse.GetValue(jobs) ?? 8, parse.GetValue(force), !parse.GetValue(noIndex),
                    console.Engine.IndexCache);
            void Print(CopyOutcome o)
            {
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"{StatusName(o.Status),-10}{o.Display} "
                    + $"/{o.Hash[..7]}{(o.Reason is null ? "" : ": " + HintText.WithHint(o.Reason, o.Hint))}");
                (o.Status == CopyStatus.Failed ? console.Error : console.Out).WriteLine(line);
            }

            CopyResult result;
            try
            {
                result = await ProgressDisplay.CopyAsync(console, parse.GetValue(json), Print,
                    progress => CopyOperation.RunAsync(sourceMirror, destinationMirror, options, progress, token))
                    .ConfigureAwait(false);
            }
            catch (IncompleteRunException<CopyResult> e) when (parse.GetValue(json))
            {
                // The last step (key, index) failed: what was copied, with the error inside.
                WriteJson(console.Out, e.Result, e);
                throw new ErrorReportedException(ExitCodes.For(e.Kind));
            }
            catch (IncompleteRunException<CopyResult> e)
            {
                WriteSummary(console, from, to, e.Result);
                throw; // then the error line
            }

            if (parse.GetValue(json))
            {
                WriteJson(console.Out, result);
                return result.AnyFailed ? ExitCodes.Failed : ExitCodes.Success;
            }

            WriteSummary(console, from, to, result);
            return result.AnyFailed ? ExitCodes.Failed : ExitCodes.Success;
        }));
        return command;
    }

    private static void WriteSummary(CliConsole console, string from, string to, CopyResult result)
    {
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{from} -> {to}: copied {result.Count(CopyStatus.Copied)}, converted "
            + $"{result.Count(CopyStatus.Converted)} (layout {PushReport.LayoutName(result.Layout)}), skipped "
            + $"{result.Count(CopyStatus.SkippedExists)} existing, failed {result.Count(CopyStatus.Failed)} in "
            + $"{result.Elapsed.TotalSeconds:0.00} s"));
        if (result.Index is { } index)
        {
            console.Out.WriteLine($"index updated: {index.Specs} specs in {index.IndexKey}");
        }
        else if (result.IndexedByServer && result.Count(CopyStatus.Copied) + result.Count(CopyStatus.Converted) > 0)
        {
            console.Out.WriteLine("index updated by the server");
        }
    }

    private static void WriteJson(TextWriter output, CopyResult result, DepotException? error = null)
    {
        JsonOutput.Write(output, w =>
        {
            w.WriteStartObject();
            w.WriteString("source", result.Source);
            w.WriteString("destination", result.Destination);
            w.WriteString("layout", PushReport.LayoutName(result.Layout));
            w.WriteString("published_key", result.PublishedKey);
            w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            w.WriteStartObject("counts");
            foreach (var status in Enum.GetValues<CopyStatus>())
            {
                w.WriteNumber(StatusName(status).ToLowerInvariant(), result.Count(status));
            }

            w.WriteEndObject();
            w.WriteStartArray("specs");
            foreach (var o in result.Outcomes)
            {
                JsonOutput.StartSpec(w, o.Name, o.Hash, o.Display, StatusName(o.Status).ToLowerInvariant());
                if (o.Reason is not null)
                {
                    w.WriteString("reason", o.Reason);
                }

                JsonOutput.WriteHint(w, o.Hint);

                if (o.Bytes > 0)
                {
                    w.WriteNumber("tarball_bytes", o.Bytes);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (result.Index is { } index)
            {
                w.WriteStartObject("index");
                w.WriteString("key", index.IndexKey);
                w.WriteNumber("specs", index.Specs);
                w.WriteEndObject();
            }
            else if (result.IndexedByServer)
            {
                w.WriteBoolean("indexed_by_server", true);
            }

            if (error is not null)
            {
                JsonOutput.WriteErrorField(w, error);
            }

            w.WriteEndObject();
        });
    }

    private static string StatusName(CopyStatus status) => status switch
    {
        CopyStatus.Copied => "copied",
        CopyStatus.Converted => "converted",
        CopyStatus.SkippedExists => "exists",
        _ => "FAILED",
    };
}
