using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CsCheck;

namespace Depot.Tests;

/// <summary>
/// The mutation loop every parser's fuzz test shares. Each input is either a seed from the parser's corpus
/// (<c>tests/data/fuzz/&lt;parser&gt;/</c>) or a structured one from the test's generator, then mutated by CsCheck's
/// generators (bit flips, truncation, byte insert/delete, splicing two seeds, numbers replaced with huge or negative
/// ones, deep nesting, long strings, binary fields overwritten with extreme values). The invariant: the parser returns
/// or throws a <see cref="DepotException"/> with a one-line message; anything else escaping is a bug. Every corpus
/// file is replayed first.
/// <para>
/// In the default suite the run is short and reproducible: a fixed seed, at most <c>iterations</c> inputs and
/// <see cref="ShortRunSeconds"/> seconds. <c>bench/fuzz.sh</c> sets <c>DEPOT_FUZZ_SECONDS</c> (time per parser),
/// <c>DEPOT_FUZZ_SEED</c>, <c>DEPOT_FUZZ_LOG</c> (a tab-separated line per parser: name, iterations, seconds, seed,
/// failures) and <c>DEPOT_FUZZ_CRASHES</c> (where failing inputs are saved, to be added to the corpus).
/// </para>
/// </summary>
public static class FuzzLoop
{
    /// <summary>The most one parser's short run may take in the default suite.</summary>
    public const double ShortRunSeconds = 2.0;

    private const ulong DefaultSeed = 20261206;

    private static readonly string[] HugeNumbers =
    [
        "10737418240", "-1", "-9223372036854775809", "9223372036854775808", "4611686018427387904",
        "99999999999999999999999999999", "2147483648", "-2147483649", "0", "1e309", "-0", "4294967296",
        "18446744073709551616", "0.0000001", "NaN",
    ];

    private static readonly byte[] InterestingBytes =
        [.. "\"\\{}[]:,\n\r\t-#&*!|>'%@` "u8, 0, 0xFF, 0x7F, 0x80, 0xC0, 0xFE];

    private static readonly ulong[] InterestingWords =
    [
        0, ulong.MaxValue, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
        1UL << 62, 10737418240, 0x100, 0xFFFF, 0x8000,
    ];

    /// <summary>The trait value (<c>Category</c>) of every fuzz property: bench/fuzz.sh runs each in its own process,
    /// all at once, so that a one-hour run gives every parser an hour (tests of one class run one after another).
    /// </summary>
    public const string Trait = "Fuzz";

    /// <summary>True when bench/fuzz.sh asked for a long run (<c>DEPOT_FUZZ_SECONDS</c>).</summary>
    public static bool IsLongRun => LongRunSeconds > 0;

    private static double LongRunSeconds =>
        double.TryParse(Environment.GetEnvironmentVariable("DEPOT_FUZZ_SECONDS"), CultureInfo.InvariantCulture,
            out var s) ? s : 0;

    /// <summary>The corpus of <paramref name="parser"/>: every file under tests/data/fuzz/&lt;parser&gt;/.</summary>
    public static IReadOnlyList<byte[]> Corpus(string parser)
    {
        var folder = TestData.Path(Path.Combine("fuzz", parser));
        var files = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        Assert.True(files.Count > 0, $"the fuzz corpus {folder} is empty");
        return files.Select(File.ReadAllBytes).ToList();
    }

    /// <summary>
    /// Replays the corpus, then runs mutated and structured inputs through <paramref name="parse"/> and fails with
    /// every input that broke the invariant (saved under <c>DEPOT_FUZZ_CRASHES</c> or the temp folder).
    /// </summary>
    public static void Run(string parser, Action<byte[]> parse, int iterations, Gen<byte[]>? structured = null)
    {
        var corpus = Corpus(parser);
        var failures = new List<string>();
        foreach (var seed in corpus)
        {
            Check(parser, parse, seed, "corpus", failures);
        }

        var gen = Inputs(corpus, structured);
        var seedValue = ulong.TryParse(Environment.GetEnvironmentVariable("DEPOT_FUZZ_SEED"), out var s)
            ? s : DefaultSeed;
        var pcg = new PCG((uint)parser.Length, seedValue ^ (ulong)StableHash(parser));
        var budget = IsLongRun ? TimeSpan.FromSeconds(LongRunSeconds) : TimeSpan.FromSeconds(ShortRunSeconds);
        var limit = IsLongRun ? long.MaxValue : iterations;
        var clock = Stopwatch.StartNew();
        long done = 0;
        while (done < limit && clock.Elapsed < budget && failures.Count < 20)
        {
            var state = pcg.ToString();
            var input = gen.Generate(pcg, null, out _);
            Check(parser, parse, input, state, failures);
            done++;
        }

        Log(parser, done, clock.Elapsed.TotalSeconds, seedValue, failures.Count);
        Assert.True(failures.Count == 0,
            $"{parser}: {failures.Count} of {done} inputs broke the invariant:\n" + string.Join('\n', failures));
    }

    /// <summary>The inputs: a corpus seed or a structured input, then zero to six mutations.</summary>
    public static Gen<byte[]> Inputs(IReadOnlyList<byte[]> corpus, Gen<byte[]>? structured)
    {
        var seeds = Gen.Int[0, corpus.Count - 1].Select(i => corpus[i]);
        var start = structured is null ? seeds : Gen.Frequency((3, seeds), (1, structured));
        var op = Gen.Select(Gen.Int[0, 11], Gen.UInt, Gen.UInt, Gen.Int[0, corpus.Count - 1]);
        return Gen.Select(start, op.Array[0, 6], (input, ops) =>
        {
            var bytes = input;
            foreach (var (kind, a, b, other) in ops)
            {
                bytes = Mutate(bytes, kind, a, b, corpus[other]);
            }

            return bytes;
        });
    }

    /// <summary>One mutation of <paramref name="input"/>; <paramref name="a"/> and <paramref name="b"/> pick where and
    /// what.</summary>
    public static byte[] Mutate(byte[] input, int kind, uint a, uint b, byte[] partner)
    {
        var list = new List<byte>(input);
        var at = list.Count == 0 ? 0 : (int)(a % (uint)list.Count);
        switch (kind)
        {
            case 0 when list.Count > 0:
                list[at] ^= (byte)(1 << (int)(b % 8));
                break;
            case 1:
                list.RemoveRange((int)(a % (uint)(list.Count + 1)), list.Count - (int)(a % (uint)(list.Count + 1)));
                break;
            case 2:
                list.Insert(at, InterestingBytes[b % (uint)InterestingBytes.Length]);
                break;
            case 3 when list.Count > 0:
                list.RemoveRange(at, Math.Min(list.Count - at, 1 + (int)(b % 32)));
                break;
            case 4 when partner.Length > 0:
                list.RemoveRange(at, list.Count - at);
                var from = (int)(b % (uint)partner.Length);
                list.AddRange(partner.AsSpan(from).ToArray());
                break;
            case 5:
                ReplaceNumber(list, at, HugeNumbers[b % (uint)HugeNumbers.Length]);
                break;
            case 6:
                var depth = 1 + (int)(b % 3000);
                var opener = ((b >> 16) % 4) switch { 0 => "[", 1 => "{\"a\":", 2 => "- ", _ => "[{" };
                list.InsertRange(at, Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(opener, depth))));
                break;
            case 7:
                var filler = (byte)"A\"\\é0 \n"[(int)(b % 7)];
                list.InsertRange(at, Enumerable.Repeat(filler, 1 + (int)(b % 70_000)));
                break;
            case 8 when list.Count > 0:
                var length = Math.Min(list.Count - at, 1 + (int)(b % 512));
                list.InsertRange((int)(b % (uint)list.Count), list.GetRange(at, length));
                break;
            case 9 when list.Count > 0:
                list[at] = InterestingBytes[b % (uint)InterestingBytes.Length];
                break;
            case 10 when list.Count > 0:
                var word = InterestingWords[b % (uint)InterestingWords.Length];
                var size = ((b >> 8) % 4) switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 };
                for (var i = 0; i < size && at + i < list.Count; i++)
                {
                    var shift = (b >> 12) % 2 == 0 ? 8 * i : 8 * (size - 1 - i);
                    list[at + i] = (byte)(word >> shift);
                }

                break;
            case 11 when list.Count > 0:
                list[at] = (byte)b;
                break;
        }

        return list.ToArray();
    }

    /// <summary>Runs one input; a failure is described with the exception and the input saved to a file.</summary>
    private static void Check(string parser, Action<byte[]> parse, byte[] input, string seed, List<string> failures)
    {
        try
        {
            parse(input);
        }
        catch (DepotException e) when (!e.Message.Contains('\n'))
        {
        }
        catch (Exception e)
        {
            var saved = Save(parser, input);
            var what = e is DepotException ? "a message of several lines" : e.GetType().Name;
            var frames = e.StackTrace?.Split('\n').Select(f => f.Trim()).ToList() ?? [];
            var inDepot = frames.FirstOrDefault(f => f.Contains(" Depot.", StringComparison.Ordinal)
                && !f.Contains(" Depot.Tests.", StringComparison.Ordinal));
            failures.Add($"  {what}: {e.Message.Split('\n')[0]} (seed {seed}, input {saved})\n"
                + $"    {frames.FirstOrDefault()}\n    {inDepot}");
        }
    }

    private static string Save(string parser, byte[] input)
    {
        var folder = Environment.GetEnvironmentVariable("DEPOT_FUZZ_CRASHES") is { Length: > 0 } dir
            ? Path.Combine(dir, parser) : Path.Combine(Path.GetTempPath(), "depot-fuzz-crashes", parser);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "crash-" + Convert.ToHexStringLower(SHA256.HashData(input))[..16]);
        File.WriteAllBytes(path, input);
        return path;
    }

    private static void Log(string parser, long iterations, double seconds, ulong seed, int failures)
    {
        if (Environment.GetEnvironmentVariable("DEPOT_FUZZ_LOG") is { Length: > 0 } log)
        {
            lock (HugeNumbers)
            {
                File.AppendAllText(log, string.Create(CultureInfo.InvariantCulture,
                    $"{parser}\t{iterations}\t{seconds:F0}\t{seed}\t{failures}\n"));
            }
        }
    }

    private static void ReplaceNumber(List<byte> list, int at, string number)
    {
        var start = list.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
        if (start < 0)
        {
            list.InsertRange(at, Encoding.ASCII.GetBytes(number));
            return;
        }

        var end = start;
        while (end < list.Count && list[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'-')
        {
            end++;
        }

        list.RemoveRange(start, end - start);
        list.InsertRange(start, Encoding.ASCII.GetBytes(number));
    }

    private static int StableHash(string text) => text.Aggregate(17, (h, c) => unchecked(h * 31 + c));
}
