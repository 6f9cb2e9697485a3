namespace Depot.Cli;

/// <summary>How the CLI spells the engine's hints: as the command (or flag) that would fix the problem.</summary>
public static class HintText
{
    /// <summary>The advice as a phrase: "if you trust this key, run: depot keys trust M --fingerprint F".</summary>
    public static string Render(ErrorHint hint) => hint.Action switch
    {
        HintAction.TrustMirrorKey => $"if you trust this key, run: {Command(hint)}",
        HintAction.TrustMirrorKeys => $"trust the signer's key: {Command(hint)} (or depot keys import KEYFILE)",
        HintAction.AllowUnsigned =>
            "if this mirror is meant to be unsigned, pass --no-verify or set 'signed: false' for it in config.yaml",
        HintAction.ImportKeyFile => $"run '{Command(hint)}'",
        HintAction.TrustKeyFile => $"run '{Command(hint)}'",
        HintAction.ListKeys => $"see '{Command(hint)}'",
        HintAction.CreateSigningKey => $"create one with '{Command(hint)}' or import one with 'depot keys import FILE'",
        HintAction.ChooseSigningKey => "pick one with --key FPR",
        HintAction.ChooseInstallTree => "pass --install-tree PATH or set SPACK_ROOT",
        HintAction.ChooseMirror => "pass --from MIRROR",
        HintAction.Overwrite => "--force writes it again",
        HintAction.UseMirrorLayout => "drop --layout",
        HintAction.IncludeDependencies => "drop --only package",
        HintAction.ConfigureRegistryLogin =>
            "give the mirror --oci-username and --oci-password-variable, or add the registry to "
            + hint["docker_config"],
        HintAction.TrustCertificate => "give the mirror --ca-cert FILE, or set SSL_CERT_FILE",
        HintAction.RebuildIndex => $"if its index is missing or out of date, rebuild it: {Command(hint)}",
        HintAction.ForceRemoval => "--force removes it anyway",
        _ => hint.ActionName,
    };

    /// <summary>The one command that would fix the problem, when there is one; null for flags and settings.</summary>
    public static string? Command(ErrorHint hint) => hint.Action switch
    {
        HintAction.TrustMirrorKey => $"depot keys trust {hint["mirror"]} --fingerprint {hint["fingerprint"]}",
        HintAction.TrustMirrorKeys => $"depot keys trust {hint["mirror"]} --all",
        HintAction.ImportKeyFile => "depot keys import FILE",
        HintAction.TrustKeyFile => "depot keys trust FILE",
        HintAction.ListKeys => hint["secret"] == "true" ? "depot keys list --secret" : "depot keys list",
        HintAction.CreateSigningKey => "depot keys create NAME EMAIL",
        HintAction.RebuildIndex => $"depot index {hint["mirror"]}",
        _ => null,
    };

    /// <summary>A message with its hint appended ("message; advice"), or the message alone.</summary>
    public static string WithHint(string message, ErrorHint? hint) =>
        hint is null ? message : message + "; " + Render(hint);
}
