using System.CommandLine;
using System.Globalization;
using Depot.Operations;
using Depot.Specs;

namespace Depot.Cli.Commands;

/// <summary><c>depot install SPEC... --from MIRROR (--root PATH | --install-tree PATH)</c>.</summary>
public static class InstallCommand
{
    public static Command Create(CliConsole console)
    {
        var queries = new Argument<string[]>("spec")
        {
            Description = "Specs to install: name, name@version or /hash",
            Arity = ArgumentArity.OneOrMore,
        };
        var from = new Option<string[]>("--from")
        {
            Description = "Mirror to install from, repeatable, tried in order (default: every configured mirror): "
                + CommonArguments.MirrorForms,
            AllowMultipleArgumentsPerToken = false,
        };
        var root = new Option<string?>("--root")
        {
            Description = "Plain tree without Spack: one prefix per package, ROOT/name-version-hash",
        };
        var tree = new Option<string?>("--install-tree")
        {
            Description = "Spack install tree to install into and register in (default: $SPACK_ROOT/opt/spack)",
        };
        var spackVersion = new Option<string>("--spack-version")
        {
            Description = "Database format for a tree with no database yet: Spack 1.x, or 0.21 to 0.23",
            DefaultValueFactory = _ => "1",
        };
        spackVersion.AcceptOnlyFromAmong("1", "0.21", "0.22", "0.23");
        // Spack's names for the same thing: `spack buildcache install -u/--unsigned`, `spack install
        // --no-check-signature` (install without checking signatures).
        var noVerify = new Option<bool>("--no-verify", "--no-check-signature", "-u", "--unsigned")
        {
            Description = "Do not check signatures (checksums are always checked); -u, --unsigned and "
                + "--no-check-signature are Spack's names for it",
        };
        var jobs = CommonArguments.Jobs("Packages installed at once", "number of cores, at least 2");
        var failFast = new Option<bool>("--fail-fast") { Description = "Stop at the first failure" };
        var json = CommonArguments.Json("Print a JSON summary (errors too)");
        var command = new Command("install",
            "Install specs from build caches: verify, unpack safely, relocate, register")
        {
            queries, from, root, tree, spackVersion, noVerify, jobs, failFast, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            if (parse.GetValue(root) is not null && parse.GetValue(tree) is not null)
            {
                throw new DepotException(ErrorKind.Usage,
                    "--root and --install-tree exclude each other: pick a plain tree or a Spack tree");
            }

            InstallTarget target = parse.GetValue(root) is { } plain ? new PlainRootTarget(plain)
                : new SpackTreeTarget(parse.GetValue(tree) ?? SpackRootTree(console.Environment),
                    parse.GetValue(spackVersion) == "1" ? 8 : 7, SpackRoot: console.Environment["SPACK_ROOT"]);
            var mirrors = parse.GetValue(from) is { Length: > 0 } given ? given : ConfiguredMirrors(console.Engine);
            var sources = mirrors.Select(name => console.Engine.OpenForRead(name, parse.GetValue(noVerify))).ToList();

            var options = new InstallOptions(target, parse.GetValue(jobs) ?? Math.Max(2, Environment.ProcessorCount),
                null, parse.GetValue(failFast));
            var specs = parse.GetValue(queries)!.Select(SpecQuery.Parse).ToList();
            var result = await InstallDisplay.RunAsync(console, parse.GetValue(json), target,
                progress => InstallOperation.RunAsync(sources, specs, options, progress, token)).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                InstallReport.WriteJson(console.Out, result);
            }
            else
            {
                InstallReport.WriteText(console, result, target);
            }

            return result.AnyFailed ? ExitCodes.Failed : ExitCodes.Success;
        }));
        return command;
    }

    private static string SpackRootTree(EnvironmentVariables environment) =>
        environment["SPACK_ROOT"] is { } spackRoot
            ? Path.Combine(spackRoot, "opt", "spack")
            : throw new DepotException(ErrorKind.Usage,
                "where to install? pass --root PATH (plain tree) or --install-tree PATH (Spack tree), "
                + "or set SPACK_ROOT");

    private static string[] ConfiguredMirrors(EngineContext engine)
    {
        var names = engine.Registry.Mirrors.Select(m => m.Name).ToArray();
        return names.Length > 0 ? names
            : throw new DepotException(ErrorKind.Usage,
                "no mirror to install from: pass --from MIRROR (or configure mirrors in "
                + engine.Home.ConfigFile + ")");
    }
}

/// <summary>Per-package lines with phase times, problems, and a total.</summary>
internal static class InstallReport
{
    public static void WriteText(CliConsole console, InstallResult result, InstallTarget target)
    {
        foreach (var o in result.Outcomes)
        {
            var line = o.Status switch
            {
                InstallStatus.Installed when o.Phases is { } p => string.Create(CultureInfo.InvariantCulture,
                    $"installed {o.Display} /{o.Hash[..7]} -> {o.Prefix}  (verify {Ms(p.Verify)}, fetch {Ms(p.Fetch)}, "
                    + $"extract {Ms(p.Extract)}, relocate "
                    + $"{Ms(p.Relocate)}){(o.Signer is null ? "" : ", signed by " + o.Signer)}"),
                InstallStatus.AlreadyInstalled => $"present   {o.Display} /{o.Hash[..7]} at {o.Prefix}",
                InstallStatus.External => $"external  {o.Display} /{o.Hash[..7]} at {o.Prefix}",
                InstallStatus.Failed =>
                    $"FAILED    {o.Display} /{o.Hash[..7]}: {HintText.WithHint(o.Reason ?? "", o.Hint)}",
                _ => $"stopped   {o.Display} /{o.Hash[..7]}: {o.Reason}",
            };
            (o.Status is InstallStatus.Failed ? console.Error : console.Out).WriteLine(line);
            foreach (var problem in o.Relocation?.Problems ?? [])
            {
                console.Warn($"{o.Name}/{o.Hash[..7]}: {problem}");
            }

            foreach (var leftover in o.Relocation?.Leftovers ?? [])
            {
                console.Warn($"{o.Name}/{o.Hash[..7]}: {leftover} still mentions an old prefix after relocation");
            }
        }

        foreach (var problem in result.Problems)
        {
            console.Warn(problem);
        }

        var installed = result.Outcomes.Count(o => o.Status == InstallStatus.Installed);
        var failed = result.Outcomes.Count(o => o.Status == InstallStatus.Failed);
        var cancelled = result.Outcomes.Where(o => o.Status == InstallStatus.Cancelled).ToList();
        var undone = cancelled.Count(o => o.Phases is not null); // finished, then taken out again
        var stopped = cancelled.Count == 0 ? ""
            : $", cancelled {cancelled.Count} ({undone} of them had finished and were removed again: the tree is as it "
                + "was)";
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{target.Root}: installed {installed}, already present "
            + $"{result.Outcomes.Count(o => o.Status == InstallStatus.AlreadyInstalled)}, failed {failed}{stopped}"
            + $" in {result.Elapsed.TotalSeconds:0.00} s"));
    }

    /// <summary>The JSON document; <paramref name="cancelled"/>: the run was cancelled (a <c>cancelled</c> error
    /// inside).</summary>
    public static void WriteJson(TextWriter output, InstallResult result, bool cancelled = false)
    {
        JsonOutput.Write(output, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("seconds", Math.Round(result.Elapsed.TotalSeconds, 3));
            json.WriteStartArray("specs");
            foreach (var o in result.Outcomes)
            {
                JsonOutput.StartSpec(json, o.Name, o.Hash, o.Display, o.Status.ToString().ToLowerInvariant());
                json.WriteString("prefix", o.Prefix);
                if (o.Reason is not null)
                {
                    json.WriteString("reason", o.Reason);
                }

                JsonOutput.WriteHint(json, o.Hint);

                if (o.Phases is { } p)
                {
                    json.WriteStartObject("seconds");
                    json.WriteNumber("verify", Math.Round(p.Verify.TotalSeconds, 4));
                    json.WriteNumber("fetch", Math.Round(p.Fetch.TotalSeconds, 4));
                    json.WriteNumber("extract", Math.Round(p.Extract.TotalSeconds, 4));
                    json.WriteNumber("relocate", Math.Round(p.Relocate.TotalSeconds, 4));
                    json.WriteEndObject();
                }

                if (o.Relocation is { } r)
                {
                    json.WriteStartArray("relocation_problems");
                    r.Problems.ToList().ForEach(json.WriteStringValue);
                    json.WriteEndArray();
                    json.WriteStartArray("leftovers");
                    r.Leftovers.ToList().ForEach(json.WriteStringValue);
                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            JsonOutput.WriteProblems(json, "problems", result.Problems);
            if (cancelled)
            {
                JsonOutput.WriteErrorField(json, "cancelled", ExitCodes.Cancelled, "cancelled", null);
            }

            json.WriteEndObject();
        });
    }

    private static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms");
}
