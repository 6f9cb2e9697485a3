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
        var command = new Command("verify", "Check the signature and checksums of every entry of a build cache")
        {
            mirror, queries, noVerify, jobs, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var name = parse.GetValue(mirror)!;
            var source = console.Engine.OpenForRead(name, parse.GetValue(noVerify));
            var options = new VerifyOptions((parse.GetValue(queries) ?? []).Select(SpecQuery.Parse).ToList(),
                parse.GetValue(jobs) ?? 8);
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
                    w.WriteEndObject();
                });
                return result.Ok ? ExitCodes.Success : ExitCodes.Failed;
            }

            foreach (var failure in result.Failures)
            {
                console.Error.WriteLine("FAILED " + HintText.WithHint(failure.Message, failure.Hint));
            }

            var signatures = trust.Verifier is null ? "signatures not checked" : $"{result.Signed} signatures good";
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {result.Checked} entries checked, {result.Checked - result.Failures.Count} ok, "
                + $"{result.Failures.Count} failed ({signatures}, checksums of spec and tarball), "
                + $"{result.Elapsed.TotalSeconds:0.00} s"));
            return result.Ok ? ExitCodes.Success : ExitCodes.Failed;
        }));
        return command;
    }
}
