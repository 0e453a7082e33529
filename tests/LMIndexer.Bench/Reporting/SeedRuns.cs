using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using LMIndexer.Cli.Commands;
using LMIndexer.Research.Protocol;

namespace LMIndexer.Bench.Reporting;

/// <summary>One recorded run read back from its result JSON.</summary>
public sealed record RecordedRun(string Benchmark, string Command, string Git, double WallSeconds, int Seed, string SelectedOn, IReadOnlyList<BenchmarkRow> Rows)
{
    /// <summary>
    /// Reads a result file of one seed. The seed comes from its <c>protocol</c>, or, for runs
    /// recorded before the query benchmarks wrote one, from the <c>--seed</c> of its command line
    /// (the default seed when it has none).
    /// </summary>
    public static RecordedRun Read(string path)
    {
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path} is not a result file ({e.Message}).", e);
        }
        var command = root["command"]?.GetValue<string>() ?? throw new InvalidDataException($"{path} has no command.");
        var seeds = root["protocol"]?["seeds"]?.AsArray().Select(s => s!.GetValue<int>()).ToList() ?? [SeedOf(command)];
        if (seeds.Count != 1)
            throw new InvalidDataException($"{path} is already over {seeds.Count} seeds; combine runs of one seed each.");
        var rows = root["rows"]?.AsArray().Select(r => new BenchmarkRow(r!["system"]!.GetValue<string>(), r["metric"]!.GetValue<string>(), r["value"]!.GetValue<double>())
        {
            Sd = r["sd"]?.GetValue<double>(),
            N = r["n"]?.GetValue<int>(),
            CiLow = r["ci_low"]?.GetValue<double>(),
            CiHigh = r["ci_high"]?.GetValue<double>(),
        }).ToList() ?? throw new InvalidDataException($"{path} has no rows.");
        if (rows.FirstOrDefault(r => r.N > 1) is { } averaged)
            throw new InvalidDataException($"{path}: {averaged.System} {averaged.Metric} is already a mean over {averaged.N} seeds.");
        return new RecordedRun(root["benchmark"]?.GetValue<string>() ?? Path.GetFileNameWithoutExtension(path), command,
            root["git"]?.GetValue<string>() ?? "unknown", root["wall_seconds"]?.GetValue<double>() ?? 0, seeds[0],
            root["protocol"]?["selected_on"]?.GetValue<string>() ?? "validation", rows);
    }

    private static int SeedOf(string command)
    {
        var tokens = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(tokens, "--seed");
        return at >= 0 && at + 1 < tokens.Length && int.TryParse(tokens[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
            ? seed
            : CommonOptions.DefaultSeed;
    }
}

/// <summary>
/// Runs of one benchmark at different seeds, each recorded apart (each chose on its validation and
/// decoded test once), summarised as the format asks: every figure the runs share as mean ± sd over
/// the seeds; a paired difference as its mean ± sd, and each run's own 95 % interval kept beside it
/// (<c>METRIC_seedN</c>), since the runs' test queries differ when the seed draws the split.
/// </summary>
public static class SeedRuns
{
    public static (List<BenchmarkRow> Rows, List<string> Skipped) Combine(IReadOnlyList<RecordedRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count < 2)
            throw new ArgumentException($"Combining needs runs of at least 2 seeds, got {runs.Count}.", nameof(runs));
        if (runs.GroupBy(r => r.Seed).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Seed {twice.Key} is in {twice.Count()} of the runs ({string.Join(", ", twice.Select(r => r.Benchmark))}); each run must have its own seed.", nameof(runs));
        var rows = new List<BenchmarkRow>();
        var skipped = new List<string>();
        var keys = runs.SelectMany(r => r.Rows).Select(r => (r.System, r.Metric)).Distinct().ToList();
        foreach (var (system, metric) in keys)
        {
            var found = runs.Select(r => r.Rows.FirstOrDefault(x => x.System == system && x.Metric == metric)).ToList();
            if (found.Any(r => r is null))
            {
                skipped.Add($"{system} {metric}");
                continue;
            }
            rows.Add(BenchmarkRow.OverSeeds(system, metric, SeedSummary.Of([.. found.Select(r => r!.Value)])));
            for (var i = 0; i < runs.Count; i++)
            {
                if (found[i]!.CiLow is not null)
                    rows.Add(found[i]! with { Metric = string.Create(CultureInfo.InvariantCulture, $"{metric}_seed{runs[i].Seed}") });
            }
        }
        return (rows, skipped);
    }

    /// <summary>
    /// Runs of one seed recorded in several files (a network in one run, a baseline trained later in
    /// another) merged into one run per seed, with their per-user metrics; then, for each seed whose
    /// per-user metrics hold <paramref name="ours"/> and a system it has no difference row against,
    /// that difference in <see cref="PairedMetrics"/> with its 95 % paired bootstrap over the users.
    /// A system recorded in two files of one seed must have the same figures in both (a deterministic
    /// baseline such as markov); anything else is refused.
    /// </summary>
    public static (List<RecordedRun> Runs, List<IReadOnlyDictionary<string, Dictionary<string, double[]>>?> PerUser) MergeBySeed(
        IReadOnlyList<RecordedRun> runs, IReadOnlyList<IReadOnlyDictionary<string, Dictionary<string, double[]>>?> perUser, string ours = "lmindexer")
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(perUser);
        if (runs.Count != perUser.Count)
            throw new ArgumentException("One per-user entry (or null) is needed per run.", nameof(perUser));
        var merged = new List<RecordedRun>();
        var mergedUsers = new List<IReadOnlyDictionary<string, Dictionary<string, double[]>>?>();
        foreach (var group in runs.Select((run, i) => (Run: run, Users: perUser[i])).GroupBy(r => r.Run.Seed))
        {
            var members = group.ToList();
            var rows = new List<BenchmarkRow>();
            foreach (var row in members.SelectMany(m => m.Run.Rows))
            {
                if (rows.FirstOrDefault(r => r.System == row.System && r.Metric == row.Metric) is not { } existing)
                    rows.Add(row);
                else if (existing.Value != row.Value)
                    throw new ArgumentException($"Seed {group.Key}: {row.System} {row.Metric} is {existing.Value} in one run and {row.Value} in another; each system must be recorded once per seed.", nameof(runs));
            }
            Dictionary<string, Dictionary<string, double[]>>? users = members.All(m => m.Users is null) ? null : new(StringComparer.Ordinal);
            foreach (var (system, metrics) in members.Where(m => m.Users is not null).SelectMany(m => m.Users!))
                users!.TryAdd(system, metrics);
            if (users is not null && users.TryGetValue(ours, out var ourUsers))
            {
                foreach (var (baseline, theirs) in users.Where(u => !u.Key.StartsWith(ours, StringComparison.Ordinal)))
                {
                    foreach (var metric in PairedMetrics.Where(m => ourUsers.ContainsKey(m) && theirs.ContainsKey(m) && ourUsers[m].Length == theirs[m].Length))
                    {
                        if (!rows.Any(r => r.System == $"{ours}-minus-{baseline}" && r.Metric == metric))
                            rows.Add(BenchmarkRow.Difference(ours, baseline, metric, PairedBootstrap.Difference(ourUsers[metric], theirs[metric])));
                    }
                }
            }
            var first = members[0].Run;
            merged.Add(members.Count == 1 ? first : first with
            {
                Benchmark = string.Join(" + ", members.Select(m => m.Run.Benchmark)),
                Git = string.Join(" + ", members.Select(m => m.Run.Git).Distinct()),
                WallSeconds = members.Sum(m => m.Run.WallSeconds),
                SelectedOn = members.Select(m => m.Run.SelectedOn).Distinct().Count() == 1 ? first.SelectedOn : "mixed",
                Rows = rows,
            });
            mergedUsers.Add(users);
        }
        return (merged, mergedUsers);
    }

    /// <summary>The metrics differences are paired in, by the rec bench and when runs are merged.</summary>
    public static readonly string[] PairedMetrics = ["recall@10", "ndcg@10"];

    /// <summary>
    /// Each combined <c>A-minus-B</c> row with a 95 % paired bootstrap interval over the users, when
    /// every run saved both systems' per-user metrics over the same users (the leave-one-out test
    /// split does not depend on the seed): each user's A and B are averaged over the seeds first, so
    /// the interval is that of the seeds' mean difference. Rows without them keep each seed's interval only.
    /// </summary>
    public static List<BenchmarkRow> PooledDifferences(IReadOnlyList<BenchmarkRow> rows, IReadOnlyList<IReadOnlyDictionary<string, Dictionary<string, double[]>>?> perUser)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(perUser);
        const string minus = "-minus-";
        return [.. rows.Select(row =>
        {
            var at = row.System.IndexOf(minus, StringComparison.Ordinal);
            if (row.N is null || at < 0 || perUser.Count == 0)
                return row;
            var (a, b) = (row.System[..at], row.System[(at + minus.Length)..]);
            var vectors = perUser.Select(users => users is not null && users.TryGetValue(a, out var ma) && ma.TryGetValue(row.Metric, out var va)
                && users.TryGetValue(b, out var mb) && mb.TryGetValue(row.Metric, out var vb) && va.Length == vb.Length ? (A: va, B: vb) : default).ToList();
            if (vectors.Any(v => v.A is null) || vectors.Select(v => v.A.Length).Distinct().Count() != 1)
                return row;
            double[] Mean(Func<(double[] A, double[] B), double[]> side) =>
                [.. Enumerable.Range(0, vectors[0].A.Length).Select(u => vectors.Average(v => side(v)[u]))];
            var interval = PairedBootstrap.Difference(Mean(v => v.A), Mean(v => v.B));
            return row with { CiLow = interval.Low, CiHigh = interval.High };
        })];
    }

    /// <summary>
    /// Rows with their systems renamed (<c>old=new</c> pairs), in differences on either side too: a
    /// run recorded a system under the bench's name (<c>no-ids</c>) that a table spells otherwise
    /// (<c>lmindexer-no-ids</c>). A name no row holds is refused, so a typo cannot pass unnoticed.
    /// </summary>
    public static List<BenchmarkRow> Rename(IReadOnlyList<BenchmarkRow> rows, IReadOnlyDictionary<string, string> names)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(names);
        const string minus = "-minus-";
        string Renamed(string system) => names.TryGetValue(system, out var renamed) ? renamed : system;
        string RenamedRow(string system)
        {
            var at = system.IndexOf(minus, StringComparison.Ordinal);
            return at < 0 ? Renamed(system) : Renamed(system[..at]) + minus + Renamed(system[(at + minus.Length)..]);
        }
        var held = rows.SelectMany(r => r.System.Split(minus)).ToHashSet(StringComparer.Ordinal);
        if (names.Keys.FirstOrDefault(n => !held.Contains(n)) is { } unknown)
            throw new ArgumentException($"No row is of system '{unknown}' (systems: {string.Join(", ", held.Order(StringComparer.Ordinal))}).");
        var renamed = rows.Select(r => r with { System = RenamedRow(r.System) }).ToList();
        if (renamed.GroupBy(r => (r.System, r.Metric)).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"Renaming gives two rows of {twice.Key.System} {twice.Key.Metric}.");
        return renamed;
    }

    /// <summary>Systems as rows, the asked metrics as "mean ± sd" columns; differences with each seed's interval.</summary>
    public static string Table(IReadOnlyList<BenchmarkRow> rows, IReadOnlyList<string> metrics, IReadOnlyList<RecordedRun> runs)
    {
        var text = new StringBuilder();
        text.Append("| system | ").AppendJoin(" | ", metrics).AppendLine(" |");
        text.Append("|---|").AppendJoin("", metrics.Select(_ => "---:|")).AppendLine();
        var systems = rows.Where(r => r.N is not null && metrics.Contains(r.Metric) && !r.System.Contains("-minus-", StringComparison.Ordinal)).Select(r => r.System).Distinct();
        foreach (var system in systems)
        {
            text.Append("| ").Append(system).Append(" | ");
            text.AppendJoin(" | ", metrics.Select(m => rows.FirstOrDefault(r => r.System == system && r.Metric == m && r.N is not null) is { } row
                ? string.Create(CultureInfo.InvariantCulture, $"{row.Value:F4} ± {row.Sd:F4}")
                : "")).AppendLine(" |");
        }
        foreach (var difference in rows.Where(r => r.N is not null && r.System.Contains("-minus-", StringComparison.Ordinal)))
        {
            var perSeed = runs.Select(run => rows.FirstOrDefault(r => r.System == difference.System && r.Metric == $"{difference.Metric}_seed{run.Seed}") is { } seedRow
                ? string.Create(CultureInfo.InvariantCulture, $"seed {run.Seed}: {seedRow.Value:+0.0000;-0.0000} ({seedRow.CiLow:+0.0000;-0.0000} … {seedRow.CiHigh:+0.0000;-0.0000})")
                : null).OfType<string>();
            var pooled = difference.CiLow is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (95 % paired bootstrap over the users, each user's metrics averaged over the seeds: {difference.CiLow:+0.0000;-0.0000} … {difference.CiHigh:+0.0000;-0.0000})");
            text.AppendLine(CultureInfo.InvariantCulture, $"\n- {difference.System}, {difference.Metric}: {difference.Value:+0.0000;-0.0000} ± {difference.Sd:F4} over {difference.N} seeds{pooled}; each seed's 95 % paired bootstrap: {string.Join("; ", perSeed)}.");
        }
        return text.ToString();
    }
}
