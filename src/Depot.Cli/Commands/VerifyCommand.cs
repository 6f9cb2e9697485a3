using System.CommandLine;
using System.Globalization;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary><c>depot verify MIRROR [QUERY...]</c>: signature and checksums of every entry.</summary>
public static class VerifyCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to verify");
        var queries = CommonArguments.Queries("Only these specs: name, name@version, /hashprefix (default: all)");
        var noVerify = new Option<bool>("--no-verify") { Description = "Do not check signatures (checksums only)" };
        var jobs = CommonArguments.Jobs("Entries checked in parallel", "8");
        var json = CommonArguments.Json();
        var sourcesOnly = new Option<bool>("--sources-only")
        {
            Description = "Check only the source mirror (_source-cache/: every archive against the sha256 in its name)",
        };
        var noSources = new Option<bool>("--no-sources")
        {
            Description = "Check only the build cache (default: also the source mirror, when there is one and no "
                + "specs are named)",
        };
        var command = new Command("verify", "Check the signature and checksums of every entry of a build cache, and "
            + "every archive of a source mirror")
        {
            mirror, queries, noVerify, jobs, json, sourcesOnly, noSources,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var name = parse.GetValue(mirror)!;
            var parts = (parse.GetValue(sourcesOnly), parse.GetValue(noSources)) switch
            {
                (true, true) => throw new DepotException(ErrorKind.Usage,
                    "--sources-only and --no-sources contradict each other"),
                (true, _) when (parse.GetValue(queries) ?? []).Length > 0 => throw new DepotException(ErrorKind.Usage,
                    "--sources-only checks source archives: spec queries do not apply"),
                (true, _) => VerifyParts.Sources,
                (_, true) => VerifyParts.BuildCache,
                _ => VerifyParts.Both,
            };
            var source = console.Engine.OpenForRead(name, parse.GetValue(noVerify));
            var options = new VerifyOptions((parse.GetValue(queries) ?? []).Select(SpecQuery.Parse).ToList(),
                parse.GetValue(jobs) ?? 8)
            { Parts = parts };
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => VerifyOperation.RunAsync(source, options, progress, token)).ConfigureAwait(false);
            var trust = await source.GetTrustAsync(token).ConfigureAwait(false);
            if (options.Queries.Count > 0 && result.Checked == 0)
            {
                var wanted = string.Join(' ', options.Queries.Select(q => q.Text));
                return console.Fail(parse, ErrorKind.NotFound, "no entry matches " + wanted);
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("mirror", name);
                    w.WriteNumber("checked", result.Checked);
                    w.WriteNumber("ok", result.Checked - result.Failures.Count);
                    w.WriteNumber("signed", result.Signed);
                    w.WriteBoolean("signatures_checked", trust.Verifier is not null);
                    w.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
                    JsonOutput.WriteProblems(w, "failures", result.Failures);
                    if (result.Sources is { } sources)
                    {
                        w.WriteStartObject("sources");
                        w.WriteNumber("checked", sources.Checked);
                        w.WriteNumber("ok", sources.Good);
                        w.WriteNumber("failed", sources.Failures.Count);
                        w.WriteNumber("not_checkable", sources.NotCheckable);
                        w.WriteNumber("bytes", sources.Bytes);
                        JsonOutput.WriteProblems(w, "failures", sources.Failures);
                        w.WriteEndObject();
                    }

                    w.WriteEndObject();
                });
                return result.Ok ? ExitCodes.Success : ExitCodes.Failed;
            }

            foreach (var failure in result.Failures)
            {
                console.Error.WriteLine("FAILED " + HintText.WithHint(failure.Message, failure.Hint));
            }

            foreach (var failure in result.Sources?.Failures ?? [])
            {
                console.Error.WriteLine("FAILED " + failure.Message);
            }

            var signatures = trust.Verifier is null ? "signatures not checked" : $"{result.Signed} signatures good";
            if (result.BuildCacheChecked)
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {result.Checked} entries checked, {result.Checked - result.Failures.Count} ok, "
                    + $"{result.Failures.Count} failed ({signatures}, checksums of spec and tarball), "
                    + $"{result.Elapsed.TotalSeconds:0.00} s"));
            }

            if (result.Sources is { } checkedSources)
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {checkedSources.Checked} source archives checked against their names, "
                    + $"{checkedSources.Good} ok, {checkedSources.Failures.Count} failed, "
                    + $"{checkedSources.NotCheckable} VCS checkouts not "
                    + $"checkable (named by revision), {result.Elapsed.TotalSeconds:0.00} s"));
            }

            return result.Ok ? ExitCodes.Success : ExitCodes.Failed;
        }));
        return command;
    }
}
