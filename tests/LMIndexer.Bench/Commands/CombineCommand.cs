using System.CommandLine;
using System.Globalization;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Console;
using LMIndexer.Research.Protocol;
using Spectre.Console;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench results combine</c>: runs of one benchmark at different seeds, recorded apart
/// (a fine-tuning seed takes most of an hour here, so they go one per run and can span sessions),
/// summarised into one result as mean ± sd.
/// </summary>
public static class CombineCommand
{
    public static Command Create()
    {
        var runs = new Argument<FileInfo[]>("runs") { Description = "Result JSON files of one benchmark, one seed each (or several files of one seed: their systems are merged and paired over the users when they saved them).", Arity = ArgumentArity.OneOrMore };
        var metrics = new Option<string>("--metrics") { Description = "Comma-separated metrics of the table (every shared row is in the JSON).", DefaultValueFactory = _ => "ndcg@10,recall@10" };
        var name = new Option<string>("--name") { Description = "Name of the combined result.", Required = true };
        var rename = new Option<string>("--rename") { Description = "Systems renamed in the combined result, OLD=NEW pairs separated by commas (e.g. no-ids=lmindexer-no-ids), differences included.", DefaultValueFactory = _ => "" };
        var ours = new Option<string>("--ours") { Description = "The system the paired differences are taken from (it minus each other system whose users' metrics were saved).", DefaultValueFactory = _ => "lmindexer" };
        var docs = BenchmarkReport.DirectoryOption();
        var combine = new Command("combine", "Mean ± sd over seeds of runs recorded one seed each; each run's paired intervals kept beside.") { runs, metrics, name, rename, ours, docs };
        combine.SetAction(result => CliErrors.Run(() =>
        {
            var files = result.GetValue(runs)!;
            if (files.FirstOrDefault(f => !f.Exists) is { } missing)
                throw new CliUsageException($"{missing.FullName} does not exist.");
            // Runs that saved their users' metrics pair their differences over the users as well,
            // and runs of one seed in several files (a baseline recorded later) merge into one.
            var perUser = files.Select(f => PerUserMetrics.PathFor(f.FullName))
                .Select(p => File.Exists(p) ? PerUserMetrics.Read(p) : null).ToList<IReadOnlyDictionary<string, Dictionary<string, double[]>>?>();
            var (recorded, mergedUsers) = SeedRuns.MergeBySeed([.. files.Select(f => RecordedRun.Read(f.FullName))], perUser, result.GetValue(ours)!);
            var (combined, skipped) = SeedRuns.Combine(recorded);
            var rows = SeedRuns.PooledDifferences(combined, mergedUsers);
            try
            {
                rows = SeedRuns.Rename(rows, ParseRenames(result.GetValue(rename)!));
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException("--rename: " + e.Message);
            }
            var shown = result.GetValue(metrics)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var seeds = recorded.Select(r => r.Seed).ToList();
            var selectedOn = recorded.Select(r => r.SelectedOn).Distinct().Count() == 1 ? recorded[0].SelectedOn : "mixed";
            var sources = string.Join("; ", recorded.Select(r => string.Create(CultureInfo.InvariantCulture, $"`{r.Benchmark}` (seed {r.Seed}, git {r.Git})")));
            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, recorded.Sum(r => r.WallSeconds), rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"Mean ± sd over {recorded.Count} seeds ({string.Join(", ", seeds)}) of runs recorded one seed each: {sources}. Each run made its choices on its own validation split and decoded test once; a seed draws the run's training (and, where the benchmark samples one, its split: the leave-one-out split of the rec bench is the same at every seed)."),
                SeedRuns.Table(rows, shown, recorded),
                skipped.Count == 0 ? "" : $"Rows not in every run, left out: {string.Join(", ", skipped)}.",
                new ProtocolRecord(selectedOn, 1, seeds, shown.FirstOrDefault() ?? "ndcg@10", null, []));
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{recorded.Count} runs combined into {result.GetValue(name)} ({rows.Count} rows, {skipped.Count} left out)");
            return 0;
        }));
        var results = new Command("results", "Recorded results: combine runs of several seeds.") { combine };
        return results;
    }

    private static Dictionary<string, string> ParseRenames(string text)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0 || !names.TryAdd(parts[0], parts[1]))
                throw new CliUsageException($"--rename takes distinct OLD=NEW pairs separated by commas, not '{pair}'.");
        }
        return names;
    }
}
