using System.CommandLine;
using Depot.Operations;
using Depot.Signing;

namespace Depot.Cli.Commands;

/// <summary><c>depot sign MIRROR</c>: sign the entries of an existing (unsigned or foreign-signed) mirror.</summary>
public static class SignCommand
{
    public static Command Create(CliConsole console)
    {
        var mirror = CommonArguments.Mirror("Mirror to sign");
        var key = new Option<string>("--key", "-k")
        {
            Description = "Signing key fingerprint (default: the only secret key)",
        };
        var force = new Option<bool>("--force") { Description = "Re-sign entries this key already signed" };
        var noPublish = new Option<bool>("--no-publish")
        {
            Description = "Do not publish the public key on the mirror",
        };
        var json = CommonArguments.Json();
        var command = new Command("sign", "Sign every entry of a build cache with a Depot key, and publish the key")
        {
            mirror, key, force, noPublish, json,
        };
        command.SetAction(console.Guard(async (parse, token) =>
        {
            // Read connection, as Depot has always signed through it; the key is the one named, else the only one.
            var target = console.Engine.Open(parse.GetValue(mirror)!, MirrorPurpose.Read);
            var store = target.Store;
            var signingKey = console.Engine.SigningKey(parse.GetValue(key)).Key!;
            var result = await ProgressDisplay.RunAsync(console, parse.GetValue(json),
                progress => SignOperation.RunAsync(target, signingKey, parse.GetValue(force), 8, progress, token))
                .ConfigureAwait(false);
            foreach (var p in parse.GetValue(json) ? [] : result.Problems)
            {
                console.Warn(p);
            }

            var fingerprint = SignatureVerifier.Fingerprint(signingKey.PublicKey);
            DepotException? publishing = null; // the last step: reported after what was signed
            if (!parse.GetValue(noPublish))
            {
                try
                {
                    await KeyOperations.PublishAsync(console.Home, target, [fingerprint], token).ConfigureAwait(false);
                }
                catch (Exception e) when (IncompleteRunException.Of(result, e) is { } failed)
                {
                    publishing = failed;
                }
            }

            if (parse.GetValue(json))
            {
                JsonOutput.Write(console.Out, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("mirror", store.Root);
                    w.WriteString("key", fingerprint);
                    w.WriteNumber("signed", result.Signed);
                    w.WriteNumber("already_signed", result.AlreadySigned);
                    w.WriteBoolean("key_published", !parse.GetValue(noPublish) && publishing is null);
                    JsonOutput.WriteProblems(w, "problems", result.Problems);
                    if (publishing is not null)
                    {
                        JsonOutput.WriteErrorField(w, publishing);
                    }

                    w.WriteEndObject();
                });
                return publishing is not null ? ExitCodes.For(publishing.Kind)
                    : result.Problems.Count > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
            }

            console.Out.WriteLine($"{store.Root}: signed {result.Signed} entries with {fingerprint} "
                + $"({result.AlreadySigned} already signed by it, {result.Problems.Count} skipped)");
            return publishing is not null ? throw publishing
                : result.Problems.Count > 0 ? ExitCodes.CompletedWithProblems : ExitCodes.Success;
        }));
        return command;
    }
}
