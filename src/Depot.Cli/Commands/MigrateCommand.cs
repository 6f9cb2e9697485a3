using System.CommandLine;
using System.Globalization;
using Depot.Operations;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot migrate MIRROR</c>: a Spack 0.21-0.23 <c>build_cache/</c> layout rewritten in place as layout v3 (Spack
/// 1.x's <c>buildcache migrate</c>).
/// </summary>
public static class MigrateCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to migrate in place");
        var unsigned = new Option<bool>("--unsigned", "-u")
        {
            Description = "Neither check the old entries' signatures nor sign the new ones (default: check them, and "
                + "sign with the Depot key)",
        };
        var key = new Option<string?>("--key", "-k")
        {
            Description = "Signing key fingerprint (default: the only secret key)",
        };
        var deleteOld = new Option<bool>("--delete-old")
        {
            Description = "Delete build_cache/ once every entry is in layout v3 (default: keep it)",
        };
        var jobs = CommonArguments.Jobs("Entries migrated at once", "8");
        var json = CommonArguments.Json();
        var command = new Command("migrate",
            "Rewrite a build cache's v2 layout (Spack 0.21-0.23) as layout v3 (Spack 1.x), in the same mirror")
        {
            mirror, unsigned, key, deleteOld, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var name = parse.GetValue(mirror)!;
            var writeOptions = new MirrorWriteOptions(parse.GetValue(unsigned), parse.GetValue(key), PushLayout.V3)
                .Validate();
            var target = console.Engine.OpenForWrite(name, writeOptions);
            var source = console.Engine.OpenForRead(name, noVerify: parse.GetValue(unsigned));
            var options = new MigrateOptions(parse.GetValue(deleteOld), parse.GetValue(jobs) ?? 8,
                console.Engine.IndexCache);
            MigrateResult result;
            try
            {
                result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                    progress => MigrateOperation.RunAsync(source, target, options, Entries(progress), token))
                    .ConfigureAwait(false);
            }
            catch (IncompleteRunException<MigrateResult> e) when (parse.GetValue(json))
            {
                WriteJson(console, name, e.Result, e);
                throw new ErrorReportedException(ExitCodes.For(e.Kind));
            }
            catch (IncompleteRunException<MigrateResult> e)
            {
                WriteText(console, name, e.Result);
                throw;
            }

            if (parse.GetValue(json))
            {
                WriteJson(console, name, result);
            }
            else
            {
                WriteText(console, name, result);
            }

            return result.AnyFailed ? ExitCodes.Failed : ExitCodes.Success;
        }));
        return command;
    }

    // One bar: the old entries looked at so far.
    private static EntriesProgress? Entries(IProgress<OperationProgress>? progress) =>
        progress is null ? null : new EntriesProgress(progress);

    private sealed class EntriesProgress(IProgress<OperationProgress> bar) : IProgress<CopyProgress>
    {
        public void Report(CopyProgress value) =>
            bar.Report(new OperationProgress("migrate", value.Examined, value.Entries));
    }

    private static string Status(CopyStatus status) => status switch
    {
        CopyStatus.Converted => "migrated",
        CopyStatus.SkippedExists => "skipped",
        CopyStatus.Copied => "copied",
        _ => "failed",
    };

    private static void WriteText(CliConsole console, string name, MigrateResult result)
    {
        if (!result.HadOldLayout)
        {
            console.Out.WriteLine($"{name}: no build_cache/ layout: nothing to migrate");
            return;
        }

        foreach (var o in result.Outcomes.Where(o => o.Status != CopyStatus.SkippedExists)
                     .OrderBy(o => o.Display, StringComparer.Ordinal))
        {
            var line = $"{Status(o.Status),-9}{o.Display} /{o.Hash[..7]}"
                + (o.Reason is null ? "" : ": " + HintText.WithHint(o.Reason, o.Hint));
            (o.Status == CopyStatus.Failed ? console.Error : console.Out).WriteLine(line);
        }

        if (result.NothingDone)
        {
            console.Out.WriteLine($"{name}: nothing to migrate: all {result.Outcomes.Count} entries are in layout v3 "
                + "already, with their index");
            return;
        }

        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: migrated {result.Count(CopyStatus.Converted)} entries to layout v3, skipped "
            + $"{result.Count(CopyStatus.SkippedExists)} already there, failed {result.Count(CopyStatus.Failed)} in "
            + $"{result.Elapsed.TotalSeconds:0.00} s"));
        if (result.PublishedKey is { } fingerprint)
        {
            console.Out.WriteLine($"key {fingerprint} published");
        }

        if (result.Index is { } index)
        {
            console.Out.WriteLine($"index updated: {index.Specs} specs in {index.IndexKey}");
        }

        if (result.DeletedOld > 0)
        {
            console.Out.WriteLine($"old layout deleted: {result.DeletedOld} objects under build_cache/");
        }
        else if (result.AnyFailed)
        {
            console.Out.WriteLine("old layout kept: not every entry was migrated");
        }
    }

    private static void WriteJson(CliConsole console, string name, MigrateResult result,
        DepotException? error = null) =>
        JsonOutput.Write(console.Out, w =>
        {
            w.WriteStartObject();
            w.WriteString("mirror", name);
            w.WriteBoolean("had_old_layout", result.HadOldLayout);
            w.WriteBoolean("nothing_done", result.NothingDone);
            w.WriteNumber("migrated", result.Count(CopyStatus.Converted));
            w.WriteNumber("skipped", result.Count(CopyStatus.SkippedExists));
            w.WriteNumber("failed", result.Count(CopyStatus.Failed));
            w.WriteString("published_key", result.PublishedKey);
            w.WriteNumber("deleted_old", result.DeletedOld);
            w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            w.WriteStartArray("specs");
            foreach (var o in result.Outcomes)
            {
                JsonOutput.StartSpec(w, o.Name, o.Hash, o.Display, Status(o.Status));
                if (o.Reason is not null)
                {
                    w.WriteString("reason", o.Reason);
                }

                JsonOutput.WriteHint(w, o.Hint);
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

            if (error is not null)
            {
                JsonOutput.WriteErrorField(w, error);
            }

            w.WriteEndObject();
        });
}
