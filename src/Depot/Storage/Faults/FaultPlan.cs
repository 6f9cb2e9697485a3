using System.Globalization;

namespace Depot.Storage.Faults;

/// <summary>The faults a <see cref="FaultInjectingStore"/> may inject.</summary>
[Flags]
public enum FaultKinds
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>A request refused with S3's 503 <c>SlowDown</c> or HTTP 429, with a <c>Retry-After</c>.</summary>
    Throttle = 1,

    /// <summary>A request failing with HTTP 500 <c>InternalError</c>.</summary>
    ServerError = 2,

    /// <summary>A request, or a body, that times out.</summary>
    Timeout = 4,

    /// <summary>The connection reset mid-stream: a body being read, or content being uploaded.</summary>
    Reset = 8,

    /// <summary>A body ending before its announced length, as .NET reports it (the response ended
    /// prematurely).</summary>
    Truncate = 16,

    /// <summary>A body ending early without any error (a proxy closing an unsized body): only the reader's own length
    /// and checksum checks can tell. Not in <see cref="Default"/>: such a read is refused, not retried.</summary>
    SilentTruncate = 32,

    /// <summary>A body arriving in small, delayed pieces.</summary>
    Slow = 64,

    /// <summary>A write that succeeds but whose answer is lost: the writer sees an error.</summary>
    LostResponse = 128,

    /// <summary>Every kind a store with retries must survive: all but <see cref="SilentTruncate"/>.</summary>
    Default = Throttle | ServerError | Timeout | Reset | Truncate | Slow | LostResponse,
}

/// <summary>
/// Which faults a <see cref="FaultInjectingStore"/> injects and how often, drawn from a seeded generator so a failing
/// run can be repeated (the order of draws follows the order of requests, which concurrency may change). Parsed
/// from <c>DEPOT_FAULTS=SEED:RATE[:KIND,KIND...]</c> (<see cref="Parse"/>).
/// </summary>
public sealed class FaultPlan
{
    /// <summary>The environment variable that turns fault injection on, for tests and benches only.</summary>
    public const string Variable = "DEPOT_FAULTS";

    private readonly Random random;
    private readonly Lock gate = new();

    /// <summary>Faults of <paramref name="kinds"/> on a <paramref name="rate"/> share of requests (0 to 1), drawn
    /// from <paramref name="seed"/>; waits (<c>Retry-After</c>, slow bodies) up to <paramref name="maxWait"/>
    /// (default 20 ms).</summary>
    public FaultPlan(int seed, double rate, FaultKinds kinds = FaultKinds.Default, TimeSpan? maxWait = null)
    {
        if (rate is < 0 or > 1 || double.IsNaN(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "a share between 0 and 1");
        }

        Seed = seed;
        Rate = rate;
        Kinds = kinds;
        MaxWait = maxWait ?? TimeSpan.FromMilliseconds(20);
        random = new Random(seed);
    }

    /// <summary>The generator's seed.</summary>
    public int Seed { get; }

    /// <summary>The share of requests (and bodies) that fail.</summary>
    public double Rate { get; }

    /// <summary>The kinds injected.</summary>
    public FaultKinds Kinds { get; }

    /// <summary>The longest wait injected.</summary>
    public TimeSpan MaxWait { get; }

    /// <summary>Faults injected so far, by kind (tests check that faults did happen).</summary>
    public IReadOnlyDictionary<FaultKinds, int> Injected
    {
        get
        {
            lock (gate)
            {
                return new Dictionary<FaultKinds, int>(injected);
            }
        }
    }

    private readonly Dictionary<FaultKinds, int> injected = [];

    /// <summary>
    /// Reads <c>SEED:RATE[:KIND,KIND...]</c>: <c>42:0.1</c> fails one request in ten with any default kind;
    /// <c>7:0.2:throttle,reset</c> only throttles and resets. Kinds are <see cref="FaultKinds"/> names, any case.
    /// </summary>
    /// <exception cref="DepotException">The value is not of that form (usage, naming the variable).</exception>
    public static FaultPlan Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split(':');
        var kinds = FaultKinds.None;
        if (parts.Length is < 2 or > 3
            || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate)
            || rate is < 0 or > 1
            || (parts.Length == 3 && !parts[2].Split(',').All(k => Enum.TryParse<FaultKinds>(k, true, out var kind)
                && (kinds |= kind) != FaultKinds.None)))
        {
            throw new DepotException(ErrorKind.Usage, $"{Variable}='{value}' is not SEED:RATE[:KIND,...] (a whole "
                + "number, a share between 0 and 1, and kinds among throttle, servererror, timeout, reset, truncate, "
                + "silenttruncate, slow, lostresponse)");
        }

        return new FaultPlan(seed, rate, parts.Length == 3 ? kinds : FaultKinds.Default);
    }

    /// <summary>One of <paramref name="allowed"/> (those of them this plan injects), or none, drawn; counted.</summary>
    internal FaultKinds Draw(FaultKinds allowed)
    {
        var candidates = Enum.GetValues<FaultKinds>()
            .Where(k => k != FaultKinds.None && k != FaultKinds.Default && (allowed & Kinds & k) != 0).ToArray();
        lock (gate)
        {
            if (candidates.Length == 0 || random.NextDouble() >= Rate)
            {
                return FaultKinds.None;
            }

            var kind = candidates[random.Next(candidates.Length)];
            injected[kind] = injected.GetValueOrDefault(kind) + 1;
            return kind;
        }
    }

    /// <summary>A number in [0, <paramref name="below"/>), drawn.</summary>
    internal int Next(int below)
    {
        lock (gate)
        {
            return random.Next(below);
        }
    }

    /// <summary>A wait up to <see cref="MaxWait"/>, drawn.</summary>
    internal TimeSpan NextWait()
    {
        lock (gate)
        {
            return MaxWait * random.NextDouble();
        }
    }
}
