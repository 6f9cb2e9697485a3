using System.Collections.Concurrent;
using Depot.Operations;

namespace Depot.Tests.Operations;

/// <summary>
/// The engine's own way to reach mirrors, counting each step: configuration loads, store opens (by purpose and the
/// name or URL given) and layout detections (by store root). Everything is still done for real.
/// </summary>
internal sealed class CountingMirrorAccess
{
    private int registryLoads;

    public CountingMirrorAccess()
    {
        var real = MirrorAccess.Default;
        Access = new MirrorAccess
        {
            LoadRegistry = (home, providers) =>
            {
                Interlocked.Increment(ref registryLoads);
                return real.LoadRegistry(home, providers);
            },
            OpenStore = request =>
            {
                StoreOpens.AddOrUpdate(Key(request.Purpose, request.NameOrUrl), 1, (_, n) => n + 1);
                return real.OpenStore(request);
            },
            DetectLayouts = (store, token) =>
            {
                Detections.AddOrUpdate(store.Root, 1, (_, n) => n + 1);
                return real.DetectLayouts(store, token);
            },
        };
    }

    /// <summary>What to hand to <see cref="EngineContext"/> or <c>Program.Run</c>.</summary>
    public MirrorAccess Access { get; }

    public int RegistryLoads => registryLoads;

    /// <summary>Opens per "read NAME" / "write NAME".</summary>
    public ConcurrentDictionary<string, int> StoreOpens { get; } = new(StringComparer.Ordinal);

    /// <summary>Layout detections per store root.</summary>
    public ConcurrentDictionary<string, int> Detections { get; } = new(StringComparer.Ordinal);

    public static string Key(MirrorPurpose purpose, string nameOrUrl) =>
        (purpose == MirrorPurpose.Write ? "write " : "read ") + nameOrUrl;

    /// <summary>The counts as sorted "key=n" lines, so an assertion shows everything at once.</summary>
    public static string[] Lines(ConcurrentDictionary<string, int> counts) =>
        counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}").ToArray();
}
