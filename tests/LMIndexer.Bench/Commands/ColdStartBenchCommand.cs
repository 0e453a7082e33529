using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LMIndexer.Bench.ColdStart;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Recipes;
using LMIndexer.Core.Runtime;
using LMIndexer.Grains.Inference;
using LMIndexer.Research.Protocol;
using Spectre.Console;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench cold-start</c>: items added after training, from their text alone
/// (<see cref="ColdStartEvaluation"/>), for each training seed; figures are means ± sd over the
/// seeds, and the paired bootstrap runs over users on their seed-averaged scores.
/// </summary>
public static class ColdStartBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo>("--data", "-d") { Description = "Catalog (items.jsonl with texts, sequences.tsv), e.g. ../shared/data/amazon-beauty.", Required = true };
        var recipe = TrainCommand.RecipeOption();
        var set = TrainCommand.SetOption();
        var share = new Option<double>("--cold-share") { Description = "Share of the items left out of training and added afterwards.", DefaultValueFactory = _ => 0.05 };
        var coldSeed = new Option<int>("--cold-seed") { Description = "Seed that picks the cold items (the same for every training seed).", DefaultValueFactory = _ => 1 };
        var seeds = new Option<string>("--seeds") { Description = "Training seeds, comma-separated (each trains every stage once; reused when done).", DefaultValueFactory = _ => "1,2,3" };
        var boosts = new Option<string>("--boosts") { Description = "Nats added to new items' dense logits, comma-separated: the boosts among the candidates chosen on validation.", DefaultValueFactory = _ => string.Join(',', ColdStartCandidate.DefaultBoosts.Select(b => b.ToString(CultureInfo.InvariantCulture))) };
        var sources = new Option<string>("--sources") { Description = "Where new items' dense vectors come from, comma-separated: the vector sources among the candidates (" + OptionSpelling.NamesText<NewItemVectorSource>() + ").", DefaultValueFactory = _ => string.Join(',', Enum.GetValues<NewItemVectorSource>().Select(OptionSpelling.Name)) };
        var overall = new Option<int>("--overall-users") { Description = "Users drawn for the overall figure (all users' test items).", DefaultValueFactory = _ => 2000 };
        var work = new Option<DirectoryInfo>("--work") { Description = "Where each seed's training run is kept.", Required = true };
        var trainOnly = new Option<bool>("--train-only") { Description = "Train (or resume) every seed's run and stop before any test item is read." };
        var validationOnly = new Option<bool>("--validation-only") { Description = "Rank the validation users with every candidate, print the table and stop: no test item is read, nothing is recorded (any number of seeds)." };
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "cold-start" };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("cold-start", "New items from their text alone: a share of the items left out of training, added through the new-item path, their users ranked against popularity, random cold items and the same system without text vectors.")
        {
            data, recipe, set, share, coldSeed, seeds, boosts, sources, overall, work, trainOnly, validationOnly, name, docs,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            if (result.GetValue(share) is <= 0 or >= 0.5)
                throw new CliUsageException("--cold-share must be above 0 and below 0.5.");
            var seedList = ParseSeeds(result.GetValue(seeds)!);
            var grid = ColdStartCandidate.Grid(ParseBoosts(result.GetValue(boosts)!), ParseSources(result.GetValue(sources)!));
            if (seedList.Length < 3 && !result.GetValue(trainOnly) && !result.GetValue(validationOnly))
                throw new CliUsageException($"A recorded run needs at least 3 seeds (got {seedList.Length}); --validation-only ranks validation with fewer.");
            var baseRecipe = TrainCommand.ReadRecipe(result, recipe, set, common);
            var catalog = RecCommands.LoadCatalog(result.GetValue(data)!);
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            var cold = ColdStartEvaluation.ColdItems(catalog, result.GetValue(share), result.GetValue(coldSeed));
            var training = ColdStartEvaluation.WithoutCold(catalog, cold);
            var root = result.GetValue(work)!.FullName;
            // Every seed trains before any is evaluated, so a long training run can go ahead of the evaluation code.
            var trained = seedList.Select(seed => (Seed: seed, Run: TrainingPipeline.Run(training, baseRecipe with { Seed = seed }, Path.Combine(root, $"seed-{seed}"),
                new TrainCommand.ProgressStageRunner(), stopAfter: TrainingPipeline.RecommenderStage, cancellationToken: cancellation))).ToList();
            if (result.GetValue(trainOnly))
            {
                AnsiConsole.MarkupLine($"Trained {trained.Count} run(s) under {Markup.Escape(root)}; no test item was read.");
                return 0;
            }

            var sample = ColdStartEvaluation.Sample(catalog, result.GetValue(overall));
            var validation = (Cold: ColdStartEvaluation.Queries(catalog, 2, (_, target) => cold.Contains(target)),
                All: ColdStartEvaluation.Queries(catalog, 2, (user, _) => sample.Contains(user.UserId)));
            var test = (Cold: ColdStartEvaluation.Queries(catalog, 1, (_, target) => cold.Contains(target)),
                All: ColdStartEvaluation.Queries(catalog, 1, (user, _) => sample.Contains(user.UserId)));
            var prepared = trained.Select(t => ColdStartEvaluation.Prepare(catalog, cold, t.Run, t.Seed, root)).ToList();
            try
            {
                // Validation: every candidate and the bundle without text vectors, means over the seeds.
                var measured = new BenchmarkTable();
                var figures = new Dictionary<string, (double Cold, double All)>();
                var candidates = grid.Append<ColdStartCandidate?>(null).ToList();
                var perSeed = candidates.ToDictionary(c => c?.Name ?? ColdStartEvaluation.NoTextVectors, _ => (Cold: new List<double>(), All: new List<double>()));
                // Seed by seed, each candidate's engine used for both splits before the next is made.
                foreach (var seed in prepared)
                {
                    foreach (var candidate in candidates)
                    {
                        var scores = perSeed[candidate?.Name ?? ColdStartEvaluation.NoTextVectors];
                        scores.Cold.Add((await seed.ScoreAsync(candidate, validation.Cold, cancellation)).Ndcg.Average());
                        scores.All.Add((await seed.ScoreAsync(candidate, validation.All, cancellation)).Recall.Average());
                        // One line per candidate and seed: without it the validation pass runs silent for a long time.
                        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"seed {seed.Seed}, {candidate?.Name ?? ColdStartEvaluation.NoTextVectors}: validation cold NDCG@10 {scores.Cold[^1]:F4}, overall Recall@10 {scores.All[^1]:F4}"));
                    }
                    seed.Dispose();
                }
                foreach (var candidate in candidates)
                {
                    var label = candidate?.Name ?? ColdStartEvaluation.NoTextVectors;
                    figures[label] = (perSeed[label].Cold.Average(), perSeed[label].All.Average());
                    measured.Add($"validation:{label}", "ndcg@10", figures[label].Cold, $"validation, {label}: NDCG@10 on the users whose validation item is cold", "F4");
                    measured.Add($"validation:{label}", "overall-recall@10", figures[label].All, $"validation, {label}: Recall@10 on all users (the sample)", "F4");
                }
                if (result.GetValue(validationOnly))
                {
                    AnsiConsole.Write(new Markup(Markup.Escape(measured.Markdown)));
                    return 0;
                }

                // The cold path may not cost the other users anything on validation; among those that
                // qualify the best cold-user NDCG@10 wins (none qualifying leaves the first, the plainest).
                var protocol = new ValidationProtocol<ColdStartCandidate, (ColdStartQueries Cold, ColdStartQueries All)>(test, seedList,
                    "ndcg@10 of the users whose validation item is cold, among candidates whose overall validation recall@10 is not below no-text-vectors'", c => c.Name);
                var none = figures[ColdStartEvaluation.NoTextVectors].All;
                var choice = protocol.Choose(grid, c => figures[c.Name].All >= none ? figures[c.Name].Cold : -1);
                var runs = await protocol.DecodeTest((chosen, split) => TestAsync(prepared, chosen, split.Cold, split.All, ColdStartEvaluation.Popular(training), cancellation));

                foreach (var system in new[] { ColdStartEvaluation.WithTextVectors, ColdStartEvaluation.NoTextVectors, ColdStartEvaluation.Popularity, ColdStartEvaluation.RandomCold })
                {
                    AddMean(measured, system, "recall@10", runs.Select(r => r.Cold[system].Recall.Average()), "Recall@10 on the users whose test item is cold");
                    AddMean(measured, system, "ndcg@10", runs.Select(r => r.Cold[system].Ndcg.Average()), "NDCG@10 on those users");
                }
                foreach (var system in new[] { ColdStartEvaluation.WithTextVectors, ColdStartEvaluation.NoTextVectors })
                {
                    AddMean(measured, system, "overall-recall@10", runs.Select(r => r.All[system].Recall.Average()), "Recall@10 on all users (a sample)");
                    AddMean(measured, system, "overall-cold-share@10", runs.Select(r => r.All[system].ColdShare), "share of all users' top-10 slots that went to cold items");
                }
                AddPaired(measured, "lmindexer-minus-no-text-vectors", "recall@10", runs, r => r.Cold);
                AddPaired(measured, "lmindexer-minus-no-text-vectors", "overall-recall@10", runs, r => r.All);
                AddMean(measured, "projection", "held-out-cosine", prepared.Select(s => s.ProjectionCosine), "text projection: cosine of projected and learned vectors on held-out training items");
                AddMean(measured, "neighbours", "held-out-cosine", prepared.Select(s => s.NeighboursCosine), "text neighbours: cosine of composed and learned vectors on held-out training items");
                // A catalog too small to hold out an item with examples has no held-out figures to report.
                if (prepared.All(s => s.Ranking.HeldOutExamples > 0))
                {
                    AddMean(measured, "projection", "held-out-recall@10", prepared.Select(s => s.Ranking.RidgeRecall), "text projection: a held-out training item in the top 10, scored through the map among every other item's learned vector");
                    AddMean(measured, "ranking", "held-out-recall@10", prepared.Select(s => s.Ranking.Recall), "ranking map: the same, through the map trained on the dense head's loss");
                    AddMean(measured, "projection", "held-out-mrr", prepared.Select(s => s.Ranking.RidgeMrr), "text projection: mean reciprocal rank of the held-out items so scored");
                    AddMean(measured, "ranking", "held-out-mrr", prepared.Select(s => s.Ranking.Mrr), "ranking map: the same");
                    AddMean(measured, "ranking", "epochs", prepared.Select(s => (double)s.Ranking.Epochs), "ranking map: epochs the held-out items chose");
                }
                measured.Add("cold", "items", prepared[0].ColdItems, "cold: items left out of training", "F0");
                measured.Add("cold", "items-with-ids", prepared.Average(s => s.Entries.Count), "cold: of them given an ID by the trained indexer (mean over seeds)", "F0");
                measured.Add("cold", "users", test.Cold.Users.Count, "cold: users whose test item is cold", "F0");
                measured.Add("cold", "validation-users", validation.Cold.Users.Count, "cold: users whose validation item is cold", "F0");

                var commandLine = RecordedCommand.Of(result);
                BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, measured.Rows,
                    string.Create(CultureInfo.InvariantCulture,
                        $"{catalog.Items.Count:N0} items, {result.GetValue(share):P0} of them (cold seed {result.GetValue(coldSeed)}) left out of pretraining, semantic IDs and every training sequence; the recipe trained once per seed ({string.Join(", ", seedList)}); then the cold items join through the new-item path (IDs from the trained indexer with the first free collision counter; dense vectors from their text through the bundle's projection, neighbour pool or ranking map) and each user's last item is the test item, ranked by the inference engine (20 beams, top {ColdStartEvaluation.Cutoff} scored). How new items are scored ({string.Join(", ", grid.Select(c => c.Name))}) was chosen on the users whose validation item is cold: `{choice.Name}`. `{ColdStartEvaluation.NoTextVectors}` is the same bundle without its projection."),
                    measured.Markdown,
                    "Issue 34's targets: Recall@10 on the cold-item users ≥ 5× popularity's, and overall Recall@10 not lower than without the cold path (paired interval includes or exceeds 0).",
                    protocol.Record());
                AnsiConsole.Write(new Markup(Markup.Escape(measured.Markdown)));
                return 0;
            }
            finally
            {
                foreach (var seed in prepared)
                    seed.Dispose();
            }
        }));
        return command;
    }

    /// <summary>Test, once, for the chosen candidate: each seed's figures of every system on the cold users and the sample.</summary>
    private static async Task<List<(Dictionary<string, ColdStartScores> Cold, Dictionary<string, ColdStartScores> All)>> TestAsync(IReadOnlyList<ColdStartSeed> seeds,
        ColdStartCandidate chosen, ColdStartQueries cold, ColdStartQueries all, IReadOnlyList<string> popular, CancellationToken cancellation)
    {
        var runs = new List<(Dictionary<string, ColdStartScores>, Dictionary<string, ColdStartScores>)>();
        var coldSet = seeds[0].Entries.Select(e => e.ItemId).ToHashSet(StringComparer.Ordinal);
        foreach (var seed in seeds)
        {
            // Each engine scores both splits before the next is made (ColdStartSeed keeps one at a time).
            var coldWith = await seed.ScoreAsync(chosen, cold, cancellation);
            var allWith = await seed.ScoreAsync(chosen, all, cancellation);
            var coldWithout = await seed.ScoreAsync(null, cold, cancellation);
            var allWithout = await seed.ScoreAsync(null, all, cancellation);
            seed.Dispose();
            var coldScores = new Dictionary<string, ColdStartScores>
            {
                [ColdStartEvaluation.WithTextVectors] = coldWith,
                [ColdStartEvaluation.NoTextVectors] = coldWithout,
                [ColdStartEvaluation.Popularity] = ColdStartEvaluation.Score(cold, [.. cold.Users.Select(_ => popular)], coldSet),
                [ColdStartEvaluation.RandomCold] = ColdStartEvaluation.Score(cold, ColdStartEvaluation.RandomColdAnswers(cold, seed.Entries, seed.Seed), coldSet),
            };
            var allScores = new Dictionary<string, ColdStartScores>
            {
                [ColdStartEvaluation.WithTextVectors] = allWith,
                [ColdStartEvaluation.NoTextVectors] = allWithout,
            };
            runs.Add((coldScores, allScores));
        }
        return runs;
    }

    private static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : (int?)null).ToArray();
        return parts.Length == 0 || seeds.Any(s => s is null)
            ? throw new CliUsageException($"--seeds must be integers separated by commas, not '{text}'.")
            : [.. seeds.Select(s => s!.Value).Distinct()];
    }

    private static NewItemVectorSource[] ParseSources(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parsed = parts.Select(OptionSpelling.Parse<NewItemVectorSource>).ToArray();
        return parts.Length == 0 || parsed.Any(p => p is null)
            ? throw new CliUsageException($"--sources must be among {OptionSpelling.NamesText<NewItemVectorSource>()}, separated by commas, not '{text}'.")
            : [.. parsed.Select(p => p!.Value).Distinct()];
    }

    private static double[] ParseBoosts(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var boosts = parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var b) && double.IsFinite(b) ? b : (double?)null).ToArray();
        return parts.Length == 0 || boosts.Any(b => b is null)
            ? throw new CliUsageException($"--boosts must be finite numbers separated by commas, not '{text}'.")
            : [.. boosts.Select(b => b!.Value).Distinct()];
    }

    private static void AddMean(BenchmarkTable table, string system, string metric, IEnumerable<double> perSeed, string label)
    {
        var values = perSeed.ToList();
        var mean = values.Average();
        var sd = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        table.Add(system, metric, mean, string.Create(CultureInfo.InvariantCulture, $"{system}: {label} (mean of {values.Count} seeds, sd {sd:F4})"), "F4");
    }

    // Each user's score averaged over the seeds first, so the interval is over users, not seeds.
    private static void AddPaired(BenchmarkTable table, string system, string metric,
        IReadOnlyList<(Dictionary<string, ColdStartScores> Cold, Dictionary<string, ColdStartScores> All)> runs,
        Func<(Dictionary<string, ColdStartScores> Cold, Dictionary<string, ColdStartScores> All), Dictionary<string, ColdStartScores>> of)
    {
        double[] Averaged(string name) => [.. Enumerable.Range(0, of(runs[0])[name].Recall.Count).Select(u => runs.Average(r => of(r)[name].Recall[u]))];
        var interval = PairedBootstrap.Difference(Averaged(ColdStartEvaluation.WithTextVectors), Averaged(ColdStartEvaluation.NoTextVectors));
        table.Add(system, metric, interval.Difference,
            string.Create(CultureInfo.InvariantCulture, $"{system}: {metric} (95 % paired bootstrap over users: {interval.Low:F4} … {interval.High:F4})"), "F4");
    }
}
