using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Depot.Operations;
using Depot.Signing;

namespace Depot.Cli.Commands;

/// <summary><c>depot keys ...</c>: create, list, export, import, remove, publish and trust signing keys.</summary>
public static class KeysCommand
{
    public static Command Create(CliConsole console) => new("keys", "Manage signing keys and trusted keys")
    {
        CreateKey(console), ListKeys(console), Export(console), Import(console), Remove(console), Publish(console),
            Trust(console),
    };

    private static Command CreateKey(CliConsole console)
    {
        var name = new Argument<string>("name") { Description = "Name for the key's user id" };
        var email = new Argument<string>("email") { Description = "Email for the key's user id" };
        var comment = new Option<string>("--comment")
        {
            Description = "Comment in the user id",
            DefaultValueFactory = _ => KeyGenerator.DefaultComment,
        };
        var expires = new Option<string>("--expires")
        {
            Description = "Expiry: never (default), a date (2028-12-31) or a span (2y, 6m, 30d)",
        };
        var algorithm = new Option<string>("--algorithm")
        {
            Description = "rsa4096 (default, as spack gpg create), rsa2048 or ed25519",
            DefaultValueFactory = _ => "rsa4096",
        };
        var json = CommonArguments.Json();
        var command = new Command("create", "Create a signing key (no passphrase, like spack gpg create)")
        {
            name, email, comment, expires, algorithm, json,
        };
        command.SetAction(console.Guard((parse, _) =>
        {
            var alg = parse.GetValue(algorithm)!.ToLowerInvariant() switch
            {
                "rsa4096" or "rsa" => KeyAlgorithm.Rsa4096,
                "rsa2048" => KeyAlgorithm.Rsa2048,
                "ed25519" => KeyAlgorithm.Ed25519,
                var other =>
                    throw new DepotException(ErrorKind.Usage,
                        $"--algorithm: unknown algorithm '{other}' (rsa4096, rsa2048, ed25519)"),
            };
            var key = Keyring.Open(console.Home.KeysFolder)
                .Create(parse.GetValue(name)!, parse.GetValue(email)!, parse.GetValue(comment),
                ParseExpiry(parse.GetValue(expires)), alg);
            Report(console, parse, "created", [key], k => $"created {k.Fingerprint} {k.Algorithm} {k.PrimaryUserId}");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command ListKeys(CliConsole console)
    {
        var secret = new Option<bool>("--secret") { Description = "Only keys that can sign" };
        var json = CommonArguments.Json();
        var command = new Command("list", "List trusted keys (and which can sign)") { secret, json };
        command.SetAction(console.Guard((parse, _) =>
        {
            var keys = Keyring.Open(console.Home.KeysFolder).List(parse.GetValue(secret));
            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartArray();
                    keys.ToList().ForEach(k => WriteKey(w, k));
                    w.WriteEndArray();
                });
                return Task.FromResult(ExitCodes.Success);
            }

            foreach (var k in keys)
            {
                var expiry = k.Expires is { } e ? " expires " + e.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                    : "";
                console.Out.WriteLine($"{(k.HasSecret ? "sec" : "pub")}  {k.Fingerprint}  {k.Algorithm}  "
                    + $"{k.Created:yyyy-MM-dd}{expiry}  {k.PrimaryUserId}  (from {k.Source})");
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Export(CliConsole console)
    {
        var id = new Argument<string>("fingerprint") { Description = "Fingerprint or key id" };
        var secret = new Option<bool>("--secret") { Description = "Export the secret key (keep it safe)" };
        var output = new Option<string>("--output", "-o")
        {
            Description = "Write to this file instead of standard output",
        };
        var json = CommonArguments.Json("Print {\"file\"} or {\"armored\"} as JSON (errors too)");
        var command = new Command("export", "Export a key, ASCII-armored (as gpg --armor --export)")
        {
            id, secret, output, json,
        };
        command.SetAction(console.Guard((parse, _) =>
        {
            var keyring = Keyring.Open(console.Home.KeysFolder);
            var file = parse.GetValue(output);
            if (parse.GetValue(secret) && file is not null)
            {
                keyring.ExportSecretToFile(parse.GetValue(id)!, file); // owner-only even over an existing file
                WriteExported(console, parse, file, null);
                return Task.FromResult(ExitCodes.Success);
            }

            var text = parse.GetValue(secret) ? keyring.ExportSecret(parse.GetValue(id)!)
                : keyring.ExportPublic(parse.GetValue(id)!);
            if (file is not null)
            {
                File.WriteAllText(file, text, System.Text.Encoding.ASCII);
                WriteExported(console, parse, file, null);
            }
            else if (CliConsole.WantsJson(parse))
            {
                WriteExported(console, parse, null, text);
            }
            else
            {
                console.Out.Write(text);
            }

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Import(CliConsole console)
    {
        var file = new Argument<string?>("file")
        {
            Description = "ASCII-armored key file (public or secret)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var gpgHome = new Option<string>("--gpg-home")
        {
            Description = "Import every key of a gpg (or Spack) key directory; needs the gpg binary",
        };
        var json = CommonArguments.Json();
        var command = new Command("import", "Import and trust keys from a file or a gpg home") { file, gpgHome, json };
        command.SetAction(console.Guard((parse, _) =>
        {
            var keyring = Keyring.Open(console.Home.KeysFolder);
            IReadOnlyList<KeyInfo> keys;
            if (parse.GetValue(gpgHome) is { } home)
            {
                keys = keyring.Import(GpgExport.ExportAll(home), home, "gpg home " + home);
            }
            else if (parse.GetValue(file) is { } path)
            {
                if (!File.Exists(path))
                {
                    throw new DepotException(ErrorKind.NotFound, $"{path}: no such file");
                }

                keys = keyring.Import(File.ReadAllText(path), path, Path.GetFullPath(path));
            }
            else
            {
                throw new DepotException(ErrorKind.Usage, "give a key FILE or --gpg-home DIR");
            }

            Report(console, parse, "imported", keys,
                k => $"imported {(k.HasSecret ? "sec" : "pub")} {k.Fingerprint} {k.PrimaryUserId}");

            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Remove(CliConsole console)
    {
        var id = new Argument<string>("fingerprint") { Description = "Fingerprint or key id" };
        var json = CommonArguments.Json();
        var command = new Command("remove", "Forget a key (its trust, and its secret if held)") { id, json };
        command.SetAction(console.Guard((parse, _) =>
        {
            var key = Keyring.Open(console.Home.KeysFolder).Remove(parse.GetValue(id)!);
            Report(console, parse, "removed", [key], k => $"removed {k.Fingerprint} {k.PrimaryUserId}");
            return Task.FromResult(ExitCodes.Success);
        }));
        return command;
    }

    private static Command Publish(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to publish the keys on");
        var ids = new Argument<string[]>("fingerprint")
        {
            Description = "Keys to publish (default: every key that can sign)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var json = CommonArguments.Json();
        var command = new Command("publish", "Put public keys on a mirror where Spack's 'buildcache keys' finds them")
        {
            mirror, ids, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            // Publishing writes: the mirror's push connection, as push and sign use.
            var target = console.Engine.Open(parse.GetValue(mirror)!, MirrorPurpose.Write);
            var store = target.Store;
            var keys = await KeyOperations.PublishAsync(console.Home, target, parse.GetValue(ids) ?? [],
                token).ConfigureAwait(false);
            Report(console, parse, "published", keys,
                k => $"published {k.Fingerprint} {k.PrimaryUserId} to {store.Root}");

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Trust(CliConsole console)
    {
        var target = new Argument<string>("target")
        {
            Description = "A key file, or a mirror whose published keys to trust: " + CommonArguments.MirrorForms,
        };
        var fingerprint = new Option<string>("--fingerprint")
        {
            Description = "Trust (and pin) only the mirror's key with this fingerprint",
        };
        var all = new Option<bool>("--all")
        {
            Description = "Trust every key the mirror publishes (trust on first use)",
        };
        var json = CommonArguments.Json();
        var command = new Command("trust", "Trust a key file, or a mirror's published key by fingerprint")
        {
            target, fingerprint, all, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var what = parse.GetValue(target)!;
            if (File.Exists(what))
            {
                var imported = Keyring.Open(console.Home.KeysFolder)
                    .Import(File.ReadAllText(what), what, Path.GetFullPath(what));
                Report(console, parse, "trusted", imported, k => $"trusted {k.Fingerprint} {k.PrimaryUserId}");

                return ExitCodes.Success;
            }

            var fpr = parse.GetValue(fingerprint);
            var source = console.Engine.Open(what, MirrorPurpose.Read);
            if (fpr is null && !parse.GetValue(all))
            {
                var offered = await KeyOperations.ReadMirrorKeysAsync(source, token).ConfigureAwait(false);
                foreach (var (info, _) in offered)
                {
                    console.Error.WriteLine($"  {info.Fingerprint}  {info.PrimaryUserId}");
                }

                throw new DepotException(ErrorKind.Usage,
                    $"{what}: say which key to trust: --fingerprint FPR (check it with the mirror's owner) or --all");
            }

            if (fpr is null)
            {
                (CliConsole.WantsJson(parse) ? console.Error : console.Out)
                    .WriteLine($"Trusting every key {what} publishes, on first use: "
                        + "check these fingerprints with the mirror's owner.");
            }

            var trusted = await KeyOperations.TrustMirrorKeysAsync(console.Home, source, fpr, token)
                .ConfigureAwait(false);
            Report(console, parse, "trusted", trusted, k => $"trusted {k.Fingerprint} {k.PrimaryUserId}");

            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>A line per key, or with <c>--json</c> <c>{"ACTION": [keys]}</c>.</summary>
    private static void Report(CliConsole console, ParseResult parse, string action, IEnumerable<KeyInfo> keys,
        Func<KeyInfo, string> line)
    {
        if (!CliConsole.WantsJson(parse))
        {
            keys.ToList().ForEach(k => console.Out.WriteLine(line(k)));
            return;
        }

        JsonOutput.Write(console.Out, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray(action);
            keys.ToList().ForEach(k => WriteKey(w, k));
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static void WriteExported(CliConsole console, ParseResult parse, string? file, string? armored)
    {
        if (CliConsole.WantsJson(parse))
        {
            JsonOutput.Write(console.Out, w =>
            {
                w.WriteStartObject();
                w.WriteString(file is null ? "armored" : "file", file ?? armored);
                w.WriteEndObject();
            });
        }
    }

    private static void WriteKey(Utf8JsonWriter w, KeyInfo k)
    {
        w.WriteStartObject();
        w.WriteString("fingerprint", k.Fingerprint);
        w.WriteString("key_id", k.KeyId);
        w.WriteStartArray("user_ids");
        k.UserIds.ToList().ForEach(w.WriteStringValue);
        w.WriteEndArray();
        w.WriteString("created", k.Created);
        if (k.Expires is { } expires)
        {
            w.WriteString("expires", expires);
        }
        else
        {
            w.WriteNull("expires");
        }

        w.WriteString("algorithm", k.Algorithm);
        w.WriteBoolean("secret", k.HasSecret);
        w.WriteString("source", k.Source);
        w.WriteEndObject();
    }

    internal static DateTimeOffset? ParseExpiry(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text is "0" or "never")
        {
            return null;
        }

        var now = DateTimeOffset.UtcNow;
        if (text.Length > 1 && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n > 0)
        {
            switch (char.ToLowerInvariant(text[^1]))
            {
                case 'd': return now.AddDays(n);
                case 'w': return now.AddDays(7 * n);
                case 'm': return now.AddMonths(n);
                case 'y': return now.AddYears(n);
            }
        }

        if (DateTimeOffset.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal, out var date))
        {
            return date;
        }

        throw new DepotException(ErrorKind.Usage,
            $"--expires: '{text}' is not a date (2028-12-31), a span (2y, 6m, 4w, 30d) or 'never'");
    }
}
