using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Depot.Serving;

namespace Depot.Cli.Commands;

/// <summary>
/// <c>depot serve token create|list|revoke</c>: the tokens of a server's configuration, kept hashed in its tokens
/// file (serve.yaml's <c>tokens_file</c>). A running server sees every change within a second.
/// </summary>
public static class ServeTokenCommand
{
    public static Command Create(CliConsole console) => new("token", "Create, list and revoke the server's tokens")
    {
        CreateToken(console), ListTokens(console), Revoke(console),
    };

    private static Option<string> Config() => new("--config")
    {
        Description = "The server's serve.yaml (default: $DEPOT_HOME/serve.yaml)",
    };

    private static Command CreateToken(CliConsole console)
    {
        var cache = new Option<string>("--cache") { Description = "The cache the token opens", Required = true };
        var scope = new Option<string>("--scope")
        {
            Description = "read, push (read and push) or admin (push, keys, delete)",
            Required = true,
        };
        scope.AcceptOnlyFromAmong("read", "push", "admin");
        var expires = new Option<string>("--expires")
        {
            Description = "Lifetime: 90m, 12h, 30d, 8w or never (default)",
        };
        var name = new Option<string>("--name") { Description = "A label to recognise it by in token list" };
        var config = Config();
        var json = CommonArguments.Json("Print the token and its record as JSON (errors too)");
        var command = new Command("create", "Create a token; it is printed once, only its hash is kept")
        {
            cache, scope, expires, name, config, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var (served, store) = Open(console, parse.GetValue(config));
            var cacheName = parse.GetValue(cache)!;
            if (served.Find(cacheName) is null)
            {
                throw new DepotException(ErrorKind.NotFound, $"{served.Source}: no cache named {cacheName} (its"
                    + $" caches: {string.Join(", ", served.Caches.Select(c => c.Name))})");
            }

            var lifetime = parse.GetValue(expires) is { } e ? TokenLifetime.Parse(e) : null;
            var (record, text) = await store.CreateAsync(cacheName, TokenScopes.Parse(parse.GetValue(scope)!)!.Value,
                lifetime, parse.GetValue(name), token).ConfigureAwait(false);
            if (CliConsole.WantsJson(parse))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("token", text);
                    w.WritePropertyName("record");
                    WriteRecord(w, record, DateTimeOffset.UtcNow);
                    w.WriteEndObject();
                });
                return ExitCodes.Success;
            }

            // The token alone on stdout (TOKEN=$(depot serve token create …)); what it is, on stderr.
            await console.Out.WriteLineAsync(text).ConfigureAwait(false);
            await console.Error.WriteLineAsync($"created token {record.Display}: {record.Scope.Name()} on cache "
                + $"{record.Cache}, {Expiry(record)}; it is shown only this once").ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command ListTokens(CliConsole console)
    {
        var cache = new Option<string>("--cache") { Description = "Only the tokens of this cache" };
        var config = Config();
        var json = CommonArguments.Json();
        var command = new Command("list", "List tokens (ids, names, caches, scopes; never the tokens themselves)")
        {
            cache, config, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var (_, store) = Open(console, parse.GetValue(config));
            var only = parse.GetValue(cache);
            var tokens = (await store.ListAsync(token).ConfigureAwait(false))
                .Where(t => only is null || t.Cache == only).ToList();
            var now = DateTimeOffset.UtcNow;
            if (CliConsole.WantsJson(parse))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("tokens");
                    tokens.ForEach(t => WriteRecord(w, t, now));
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return ExitCodes.Success;
            }

            foreach (var t in tokens)
            {
                await console.Out.WriteLineAsync($"{t.Id}  {t.Cache}  {t.Scope.Name(),-5}  created "
                    + $"{Day(t.Created)}  {(t.IsExpired(now) ? "EXPIRED " + Day(t.Expires!.Value) : Expiry(t))}"
                    + (t.Name is null ? "" : "  " + t.Name)).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Revoke(CliConsole console)
    {
        var id = new Argument<string>("ID-OR-NAME") { Description = "The token's id (token list) or its name" };
        var config = Config();
        var json = CommonArguments.Json();
        var command = new Command("revoke", "Revoke a token: running servers refuse it within a second")
        {
            id, config, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            var (_, store) = Open(console, parse.GetValue(config));
            var revoked = await store.RevokeAsync(parse.GetValue(id)!, token).ConfigureAwait(false);
            if (CliConsole.WantsJson(parse))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WritePropertyName("revoked");
                    WriteRecord(w, revoked, DateTimeOffset.UtcNow);
                    w.WriteEndObject();
                });
                return ExitCodes.Success;
            }

            await console.Out.WriteLineAsync($"revoked token {revoked.Display} ({revoked.Scope.Name()} on cache "
                + $"{revoked.Cache})").ConfigureAwait(false);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The configuration (the same default as <c>depot serve</c>) and the tokens file it names.</summary>
    private static (ServeConfig Config, TokenStore Store) Open(CliConsole console, string? config)
    {
        var file = config ?? Path.Combine(console.Home.Path, "serve.yaml");
        if (config is null && !File.Exists(file))
        {
            throw new DepotException(ErrorKind.Usage, $"no {file}: tokens open the caches of a configuration file"
                + " (write it, or name one with --config FILE)");
        }

        var served = ServeConfig.Load(file);
        return (served, new TokenStore(served.TokensFile));
    }

    private static void WriteRecord(Utf8JsonWriter w, TokenRecord t, DateTimeOffset now)
    {
        w.WriteStartObject();
        w.WriteString("id", t.Id);
        if (t.Name is not null)
        {
            w.WriteString("name", t.Name);
        }

        w.WriteString("cache", t.Cache);
        w.WriteString("scope", t.Scope.Name());
        w.WriteString("created", t.Created);
        if (t.Expires is { } expires)
        {
            w.WriteString("expires", expires);
        }
        else
        {
            w.WriteNull("expires");
        }

        w.WriteBoolean("expired", t.IsExpired(now));
        w.WriteEndObject();
    }

    private static string Expiry(TokenRecord t) =>
        t.Expires is { } e ? "expires " + e.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)
            : "never expires";

    private static string Day(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
