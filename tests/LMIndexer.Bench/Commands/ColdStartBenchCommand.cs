using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LMIndexer.Bench.ColdStart;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Recipes;
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
        var overall = new Option<int>("--overall-users") { Description = "Users drawn for the overall figure (all users' test items).", DefaultValueFactory = _ => 2000 };
        var work = new Option<DirectoryInfo>("--work") { Description = "Where each seed's training run is kept.", Required = true };
        var trainOnly = new Option<bool>("--train-only") { Description = "Train (or resume) every seed's run and stop before any test item is read." };
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "cold-start" };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("cold-start", "New items from their text alone: a share of the items left out of training, added through the new-item path, their users ranked against popularity, random cold items and the same system without text vectors.")
        {
            data, recipe, set, share, coldSeed, seeds, overall, work, trainOnly, name, docs,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            if (result.GetValue(share) is <= 0 or >= 0.5)
                throw new CliUsageException("--cold-share must be above 0 and below 0.5.");
            var seedList = ParseSeeds(result.GetValue(seeds)!);
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
            var runs = new List<ColdStartSeedResult>();
            foreach (var (seed, run) in trained)
                runs.Add(await ColdStartEvaluation.EvaluateAsync(catalog, cold, training, run, seed, result.GetValue(overall), root, cancellation));

            var measured = new BenchmarkTable();
            foreach (var system in new[] { ColdStartEvaluation.WithTextVectors, ColdStartEvaluation.NoTextVectors, ColdStartEvaluation.Popularity, ColdStartEvaluation.RandomCold })
            {
                AddMean(measured, system, "recall@10", runs.Select(r => r.ColdUsers[system].Recall.Average()), "Recall@10 on the users whose test item is cold");
                AddMean(measured, system, "ndcg@10", runs.Select(r => r.ColdUsers[system].Ndcg.Average()), "NDCG@10 on those users");
            }
            foreach (var system in new[] { ColdStartEvaluation.WithTextVectors, ColdStartEvaluation.NoTextVectors })
                AddMean(measured, system, "overall-recall@10", runs.Select(r => r.AllUsers[system].Recall.Average()), "Recall@10 on all users (a sample)");
            AddPaired(measured, "lmindexer-minus-no-text-vectors", "recall@10", runs, r => r.ColdUsers);
            AddPaired(measured, "lmindexer-minus-no-text-vectors", "overall-recall@10", runs, r => r.AllUsers);
            AddMean(measured, "projection", "held-out-cosine", runs.Select(r => r.ProjectionCosine), "text projection: cosine of projected and learned vectors on held-out training items");
            measured.Add("cold", "items", runs[0].ColdItems, "cold: items left out of training", "F0");
            measured.Add("cold", "items-with-ids", runs.Average(r => r.ColdItemsWithIds), "cold: of them given an ID by the trained indexer (mean over seeds)", "F0");
            measured.Add("cold", "users", runs[0].ColdUsers[ColdStartEvaluation.WithTextVectors].Recall.Count, "cold: users whose test item is cold", "F0");

            var commandLine = "lmindexer-bench " + string.Join(" ", result.Tokens.Select(t => t.Value));
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, measured.Rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"{catalog.Items.Count:N0} items, {result.GetValue(share):P0} of them (cold seed {result.GetValue(coldSeed)}) left out of pretraining, semantic IDs and every training sequence; the recipe trained once per seed ({string.Join(", ", seedList)}); then the cold items join through the new-item path (IDs from the trained indexer with the first free collision counter; dense vectors from their text through the bundle's projection) and each user's last item is the test item, ranked by the inference engine (20 beams, top {ColdStartEvaluation.Cutoff} scored). `{ColdStartEvaluation.NoTextVectors}` is the same bundle without its projection. Nothing is chosen on these figures."),
                measured.Markdown,
                "Issue 34's targets: Recall@10 on the cold-item users ≥ 5× popularity's, and overall Recall@10 not lower than without the cold path (paired interval includes or exceeds 0).");
            AnsiConsole.Write(new Markup(Markup.Escape(measured.Markdown)));
            return 0;
        }));
        return command;
    }

    private static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var seeds = parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : (int?)null).ToArray();
        return parts.Length == 0 || seeds.Any(s => s is null)
            ? throw new CliUsageException($"--seeds must be integers separated by commas, not '{text}'.")
            : [.. seeds.Select(s => s!.Value).Distinct()];
    }

    private static void AddMean(BenchmarkTable table, string system, string metric, IEnumerable<double> perSeed, string label)
    {
        var values = perSeed.ToList();
        var mean = values.Average();
        var sd = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        table.Add(system, metric, mean, string.Create(CultureInfo.InvariantCulture, $"{system}: {label} (mean of {values.Count} seeds, sd {sd:F4})"), "F4");
    }

    // Each user's score averaged over the seeds first, so the interval is over users, not seeds.
    private static void AddPaired(BenchmarkTable table, string system, string metric, IReadOnlyList<ColdStartSeedResult> runs, Func<ColdStartSeedResult, IReadOnlyDictionary<string, ColdStartScores>> of)
    {
        double[] Averaged(string name) => [.. Enumerable.Range(0, of(runs[0])[name].Recall.Count).Select(u => runs.Average(r => of(r)[name].Recall[u]))];
        var interval = PairedBootstrap.Difference(Averaged(ColdStartEvaluation.WithTextVectors), Averaged(ColdStartEvaluation.NoTextVectors));
        table.Add(system, metric, interval.Difference,
            string.Create(CultureInfo.InvariantCulture, $"{system}: {metric} (95 % paired bootstrap over users: {interval.Low:F4} … {interval.High:F4})"), "F4");
    }
}
