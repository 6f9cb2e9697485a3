using Depot.Configuration;
using Depot.Layout;
using Depot.Operations;
using Depot.Signing;

namespace Depot.Serving;

/// <summary>
/// One upstream of a pull-through cache: its store (opened once, through its read connection), read as Spack 1.x's
/// v3 layout, and the trust its entries are checked under, built on first use. A failure to build the trust (the
/// upstream down while a pinned key is looked up) is not kept: the next miss tries again.
/// </summary>
internal sealed class PullThroughUpstream
{
    private readonly DepotHome home;
    private readonly IReadOnlyList<string> pins;
    private readonly Lock gate = new();
    private Task<(TrustPolicy Policy, IReadOnlyList<string> Fingerprints)>? trust;

    public PullThroughUpstream(UpstreamConfig config, Mirror mirror, DepotHome home, IReadOnlyList<string> cachePins)
    {
        Config = config;
        Mirror = mirror;
        this.home = home;
        pins = config.TrustedFingerprints.Count > 0 ? config.TrustedFingerprints : cachePins;

        // Layout detection is not used: a detection that failed while the upstream was down would be kept.
        Layout = new BuildCacheV3(mirror.Store);
    }

    public UpstreamConfig Config { get; }

    public Mirror Mirror { get; }

    /// <summary>The upstream as serve.yaml names it, for messages.</summary>
    public string Name => Config.Mirror;

    public BuildCacheV3 Layout { get; }

    /// <summary>The policy entries are verified under, and the fingerprints of the keys it trusts.</summary>
    public async Task<(TrustPolicy Policy, IReadOnlyList<string> Fingerprints)> TrustAsync(
        CancellationToken cancellationToken)
    {
        Task<(TrustPolicy, IReadOnlyList<string>)> task;
        lock (gate)
        {
            task = trust ??= BuildTrustAsync(cancellationToken);
        }

        try
        {
            return await task.ConfigureAwait(false);
        }
        catch
        {
            lock (gate)
            {
                if (ReferenceEquals(trust, task))
                {
                    trust = null;
                }
            }

            throw;
        }
    }

    private async Task<(TrustPolicy, IReadOnlyList<string>)> BuildTrustAsync(CancellationToken cancellationToken)
    {
        var rings = await MirrorTrust.TrustedRingsAsync(home, Mirror, pins, cancellationToken).ConfigureAwait(false);
        var fingerprints = rings.Select(r => SignatureVerifier.Fingerprint(r.GetPublicKey())).ToList();
        var policy = new TrustPolicy(Name, new SignatureVerifier(rings), requireSignature: !Config.AllowUnsigned);
        return (policy, fingerprints);
    }
}
