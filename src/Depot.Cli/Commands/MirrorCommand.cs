using System.CommandLine;
using Depot.Configuration;
using Depot.Layout;
using Depot.Operations;
using Depot.Storage;

namespace Depot.Cli.Commands;

/// <summary><c>depot mirror add|list|remove|set|check</c>: mirrors in Depot's config.yaml, with Spack's option
/// names.</summary>
public static class MirrorCommand
{
    public static Command Create(CliConsole console) =>
        new("mirror", "Configure mirrors (Spack's mirrors.yaml is read too)")
    {
        Add(console), List(console), Remove(console), Set(console), Check(console),
    };

    private sealed record ConnectionOptions(Option<string?> KeyId, Option<string?> KeyIdVariable,
        Option<string?> SecretVariable,
        Option<string?> TokenVariable, Option<string?> Profile, Option<string?> Endpoint, Option<string?> GcsKeyFile,
            Option<string?> AzureVariable,
        Option<bool> Signed, Option<bool> Unsigned, Option<string?> OciUser, Option<string?> OciUserVariable,
            Option<string?> OciPasswordVariable,
        Option<string?> CaCert, Option<string?> HttpTokenVariable)
    {
        public static ConnectionOptions Create() => new(
            new Option<string?>("--s3-access-key-id") { Description = "S3 access key id (not secret)" },
            new Option<string?>("--s3-access-key-id-variable")
            {
                Description = "Environment variable holding the S3 access key id",
            },
            new Option<string?>("--s3-access-key-secret-variable")
            {
                Description = "Environment variable holding the S3 secret key",
            },
            new Option<string?>("--s3-access-token-variable")
            {
                Description = "Environment variable holding an S3 session token",
            },
            new Option<string?>("--s3-profile") { Description = "AWS profile" },
            new Option<string?>("--endpoint-url", "--s3-endpoint-url")
            {
                Description = "S3-compatible endpoint (path-style addressing), or the server a gs:// mirror's "
                    + "requests go to (Spack's endpoint_url)",
            },
            new Option<string?>("--gcs-key-file")
            {
                Description = "Google service-account key file (default: Application Default Credentials)",
            },
            new Option<string?>("--azure-connection-string-variable")
            {
                Description = "Environment variable holding an Azure connection string",
            },
            new Option<bool>("--signed") { Description = "Require signed entries (the default)" },
            new Option<bool>("--unsigned") { Description = "Accept unsigned entries and push unsigned" },
            new Option<string?>("--oci-username") { Description = "OCI registry user name (not secret)" },
            new Option<string?>("--oci-username-variable")
            {
                Description = "Environment variable holding the OCI registry user name",
            },
            new Option<string?>("--oci-password-variable")
            {
                Description = "Environment variable holding the OCI registry password or token",
            },
            new Option<string?>("--ca-cert")
            {
                Description = "CA certificate (PEM) to trust for this mirror's https, besides the system's",
            },
            new Option<string?>("--token-variable")
            {
                Description = "Environment variable holding the token of a depot serve cache (https://)",
            });

        public IEnumerable<Option> All =>
            [KeyId, KeyIdVariable, SecretVariable, TokenVariable, Profile, Endpoint, GcsKeyFile, AzureVariable, Signed,
                Unsigned,
            OciUser, OciUserVariable, OciPasswordVariable, CaCert, HttpTokenVariable];

        public void Apply(ParseResult parse, MirrorConfig mirror)
        {
            // S3 keys and OCI logins are both Spack's access_pair.
            var id = parse.GetValue(KeyId) ?? parse.GetValue(OciUser);
            var idVariable = parse.GetValue(KeyIdVariable) ?? parse.GetValue(OciUserVariable);
            var secretVariable = parse.GetValue(SecretVariable) ?? parse.GetValue(OciPasswordVariable);
            if (id is not null || idVariable is not null || secretVariable is not null)
            {
                mirror.AccessPair ??= new MirrorAccessPair();
                mirror.AccessPair.Id = id ?? mirror.AccessPair.Id;
                mirror.AccessPair.IdVariable = idVariable ?? mirror.AccessPair.IdVariable;
                mirror.AccessPair.SecretVariable = secretVariable ?? mirror.AccessPair.SecretVariable;
            }

            if (parse.GetValue(CaCert) is { } ca)
            {
                mirror.CaCert = File.Exists(ca) ? Path.GetFullPath(ca)
                    : throw new DepotException(ErrorKind.NotFound, $"--ca-cert {ca}: no such file");
            }

            mirror.AccessTokenVariable = parse.GetValue(TokenVariable) ?? mirror.AccessTokenVariable;
            mirror.TokenVariable = parse.GetValue(HttpTokenVariable) ?? mirror.TokenVariable;
            mirror.Profile = parse.GetValue(Profile) ?? mirror.Profile;
            mirror.EndpointUrl = parse.GetValue(Endpoint) ?? mirror.EndpointUrl;
            mirror.GcsKeyFile = parse.GetValue(GcsKeyFile) is { } key ? Path.GetFullPath(key) : mirror.GcsKeyFile;
            mirror.AzureConnectionStringVariable = parse.GetValue(AzureVariable)
                ?? mirror.AzureConnectionStringVariable;
            if (parse.GetValue(Signed) && parse.GetValue(Unsigned))
            {
                throw new DepotException(ErrorKind.Usage, "--signed and --unsigned contradict each other");
            }

            mirror.Signed = parse.GetValue(Unsigned) ? false : parse.GetValue(Signed) ? true : mirror.Signed;
        }
    }

    private static Command Add(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "Mirror name" };
        var url = new Argument<string>("url")
        {
            Description = "A directory path, file://, s3://, gs://, azure://, https:// (read-only unless depot serve), "
                + "oci:// or oci+http:// URL",
        };
        var options = ConnectionOptions.Create();
        var json = CommonArguments.Json();
        var command = new Command("add", "Add a mirror") { name, url, json };
        options.All.ToList().ForEach(command.Options.Add);
        command.SetAction(console.Guard((parse, token) =>
        {
            var config = DepotConfig.Load(console.Home.ConfigFile);
            var mirrorName = parse.GetValue(name)!;
            if (config.Mirrors.ContainsKey(mirrorName))
            {
                throw new DepotException(ErrorKind.Conflict,
                    $"mirror '{mirrorName}' exists already in {console.Home.ConfigFile}: use 'depot mirror set' or "
                    + "remove it first");
            }

            var location = parse.GetValue(url)!;
            var mirror = new MirrorConfig
            {
                Url = location.Contains("://", StringComparison.Ordinal) ? location : Path.GetFullPath(location),
            };
            options.Apply(parse, mirror);
            console.Engine.Providers.Open(mirror.Url); // a malformed URL is refused now, not at first use
            config.Mirrors[mirrorName] = mirror;
            config.Save(console.Home.ConfigFile);
            Report(console, parse, "added", mirrorName, mirror.Url, $"added mirror '{mirrorName}' -> {mirror.Url}");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Set(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "Mirror name" };
        var url = new Option<string?>("--url") { Description = "New URL" };
        var options = ConnectionOptions.Create();
        var json = CommonArguments.Json();
        var command = new Command("set", "Change a mirror's URL or settings") { name, url, json };
        options.All.ToList().ForEach(command.Options.Add);
        command.SetAction(console.Guard((parse, token) =>
        {
            var config = DepotConfig.Load(console.Home.ConfigFile);
            var mirrorName = parse.GetValue(name)!;
            var mirror = config.Mirrors.GetValueOrDefault(mirrorName)
                ?? throw new DepotException(ErrorKind.NotFound,
                    $"no mirror '{mirrorName}' in {console.Home.ConfigFile} (Spack's mirrors are changed with spack "
                    + "mirror set-url)");
            if (parse.GetValue(url) is { } u)
            {
                mirror.Url = u.Contains("://", StringComparison.Ordinal) ? u : Path.GetFullPath(u);
                console.Engine.Providers.Open(mirror.Url); // as for add: refused before the file is changed
            }

            options.Apply(parse, mirror);
            config.Save(console.Home.ConfigFile);
            Report(console, parse, "updated", mirrorName, mirror.Url, $"updated mirror '{mirrorName}'");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Remove(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "Mirror name" };
        var json = CommonArguments.Json();
        var command = new Command("remove", "Remove a mirror from Depot's configuration") { name, json };
        command.Aliases.Add("rm");
        command.SetAction(console.Guard((parse, token) =>
        {
            var config = DepotConfig.Load(console.Home.ConfigFile);
            var mirrorName = parse.GetValue(name)!;
            if (!config.Mirrors.Remove(mirrorName, out var removed))
            {
                throw new DepotException(ErrorKind.NotFound, $"no mirror '{mirrorName}' in {console.Home.ConfigFile}");
            }

            config.Save(console.Home.ConfigFile);
            Report(console, parse, "removed", mirrorName, removed.Url, $"removed mirror '{mirrorName}'");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command List(CliConsole console)
    {
        var json = CommonArguments.Json();
        var command = new Command("list",
            "List mirrors: Depot's, then Spack's user and site scopes, and where each comes from")
        {
            json,
        };
        command.SetAction(console.Guard((parse, token) =>
        {
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartArray();
                    foreach (var (name, mirror) in console.Engine.Registry.Mirrors)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", name);
                        w.WriteString("url", mirror.Url);
                        w.WriteString("fetch_url", mirror.Fetch?.Url is { Length: > 0 } f ? f : mirror.Url);
                        w.WriteString("push_url", mirror.Push?.Url is { Length: > 0 } p ? p : mirror.Url);
                        w.WriteBoolean("signed", mirror.Signed != false);
                        w.WriteString("source", mirror.Source);
                        w.WriteStartArray("variables");
                        mirror.Variables().ToList().ForEach(w.WriteStringValue);
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                return Task.FromResult(ExitCodes.Success);
            }

            foreach (var (name, mirror) in console.Engine.Registry.Mirrors)
            {
                var details = new List<string> { mirror.Signed == false ? "unsigned" : "signed" };
                if (mirror.Fetch?.Url is { Length: > 0 } fetch && fetch != mirror.Url)
                {
                    details.Add("fetch " + fetch);
                }

                if (mirror.Push?.Url is { Length: > 0 } pushUrl && pushUrl != mirror.Url)
                {
                    details.Add("push " + pushUrl);
                }

                details.AddRange(new[] { mirror.EndpointUrl is { } e ? "endpoint " + e : null,
                    mirror.Profile is { } p ? "profile " + p : null,
                    mirror.AccessPair?.Id is { } id ? "key id " + id : null,
                        mirror.GcsKeyFile is { } k ? "key file " + k : null }.OfType<string>());
                details.AddRange(mirror.Variables().Select(v => "$" + v));
                console.Out.WriteLine($"{name,-16} {mirror.Url}  [{string.Join(", ", details)}]  from {mirror.Source}");
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Check(CliConsole console)
    {
        var name = CommonArguments.Mirror("Mirror to check");
        var write = new Option<bool>("--write")
        {
            Description = "Also write and delete a probe object (what push needs)",
        };
        var json = CommonArguments.Json();
        var command = new Command("check", "Check that a mirror works: credentials, listing, layout, index, writing")
        {
            name, write, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var mirror = parse.GetValue(name)!;
            var failures = 0;
            var steps = new List<CheckStep>();
            async Task Step(string what, Func<Task<string>> step, string fix)
            {
                // Each step's failure is the finding, reported with its fix; the check goes on where it can.
                try
                {
                    steps.Add(new CheckStep(what, await step().ConfigureAwait(false), null, null, null));
                }
                catch (Exception e) when (ErrorKinds.Of(e) is { } kind)
                {
                    failures++;
                    var error = HintText.WithHint(e.Message, (e as DepotException)?.Hint);
                    steps.Add(new CheckStep(what, null, kind, error, fix));
                }

                if (!parse.GetValue(json))
                {
                    WriteStep(console, steps[^1]);
                }
            }

            int Done(int code)
            {
                if (parse.GetValue(json))
                {
                    WriteCheck(console, mirror, steps);
                }

                return code;
            }

            Mirror? opened = null;
            var purpose = parse.GetValue(write) ? MirrorPurpose.Write : MirrorPurpose.Read;
            await Step("configuration", () => Task.FromResult((opened = console.Engine.Open(mirror,
                purpose)).Store.Root),
                "check the URL and that every variable named in the mirror's configuration is set")
                    .ConfigureAwait(false);
            if (opened is null)
            {
                return Done(ExitCodes.Failed);
            }

            var store = opened.Store;

            if (store is Storage.Oci.OciStore oci)
            {
                var before = failures;
                await Step("registry", async () =>
                {
                    var tags = await oci.Registry.ListTagsAsync(token).CountAsync(token).ConfigureAwait(false);
                    return $"{oci.Registry.Reference.BaseUri.GetLeftPart(UriPartial.Authority)} answers, repository "
                        + $"{oci.Registry.Reference.Repository} has {tags} tags";
                }, "check host and port, the login (--oci-username / --oci-password-variable, or "
                    + "~/.docker/config.json) and, for https with a private CA, --ca-cert or SSL_CERT_FILE")
                    .ConfigureAwait(false);
                if (failures > before)
                {
                    return Done(ExitCodes.Failed);
                }
            }

            IReadOnlyList<IBuildCacheLayout> layouts = [];
            await Step("layout", async () =>
            {
                layouts = await opened.GetLayoutsAsync(token).ConfigureAwait(false);
                return string.Join(", ", layouts.Select(l => l.Name));
            }, "the credentials may lack list/read permission, or the URL points at the wrong prefix; 'depot push' "
                + "creates a cache").ConfigureAwait(false);
            foreach (var layout in layouts)
            {
                await Step($"index ({layout.Name})", async () =>
                    await layout.ReadIndexAsync(token).ConfigureAwait(false) is { } index
                        ? $"{index.CachedSpecs.Count()} cached specs" : "none yet (run 'depot index')",
                    "rebuild it with 'depot index'").ConfigureAwait(false);
            }

            if (parse.GetValue(write))
            {
                await Step("write and delete a probe", async () =>
                {
                    var key = $".depot-probe-{Guid.NewGuid():N}";
                    await store.RequireWritable().WriteAllTextAsync(key, "probe", token).ConfigureAwait(false);
                    await store.RequireWritable().DeleteAsync(key, token).ConfigureAwait(false);
                    return "allowed";
                }, "grant write and delete permission to these credentials (push needs both)").ConfigureAwait(false);
            }

            return Done(failures == 0 ? ExitCodes.Success : ExitCodes.Failed);
        }));
        return command;
    }

    /// <summary>One step of <c>mirror check</c>: what it found, or what failed (its kind) and the fix.</summary>
    private sealed record CheckStep(string Name, string? Result, ErrorKind? Kind, string? Error, string? Fix);

    private static void WriteStep(CliConsole console, CheckStep step)
    {
        if (step.Kind is null)
        {
            console.Out.WriteLine($"ok    {step.Name}: {step.Result}");
            return;
        }

        console.Out.WriteLine($"FAIL  {step.Name}: {step.Error}");
        console.Out.WriteLine($"      fix: {step.Fix}");
    }

    private static void WriteCheck(CliConsole console, string mirror, List<CheckStep> steps)
    {
        JsonOutput.Write(console.Out, w =>
        {
            w.WriteStartObject();
            w.WriteString("mirror", mirror);
            w.WriteBoolean("ok", steps.All(s => s.Kind is null));
            w.WriteStartArray("steps");
            foreach (var step in steps)
            {
                w.WriteStartObject();
                w.WriteString("step", step.Name);
                w.WriteBoolean("ok", step.Kind is null);
                if (step.Kind is { } kind)
                {
                    w.WriteString("kind", kind.Name());
                    w.WriteString("error", step.Error);
                    w.WriteString("fix", step.Fix);
                }
                else
                {
                    w.WriteString("result", step.Result);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>A line, or with <c>--json</c> <c>{"ACTION": {"name", "url"}}</c>.</summary>
    private static void Report(CliConsole console, ParseResult parse, string action, string name, string url,
        string line)
    {
        if (!CliConsole.WantsJson(parse))
        {
            console.Out.WriteLine(line);
            return;
        }

        JsonOutput.Write(console.Out, w =>
        {
            w.WriteStartObject();
            w.WriteStartObject(action);
            w.WriteString("name", name);
            w.WriteString("url", url);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }
}
