using System.Globalization;
using LMIndexer.Abstractions;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Training;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>The demo's second half: fine-tune the recommender, start the embedded cluster, replay events, serve.</summary>
internal static class DemoServing
{
    /// <summary>A serving bundle for the demo catalog, reused when it was trained on the same sequences and index.</summary>
    public static string LoadOrFineTune(string directory, string indexDirectory, Catalog catalog, int steps, int seed, CancellationToken cancellation)
    {
        var dataHash = RecommenderTraining.DataHash(catalog);
        var indexVersion = ModelBundle.ReadManifest(indexDirectory).Created.ToString("O", CultureInfo.InvariantCulture);
        if (ModelBundle.IsTrainedOn(directory, dataHash) && ModelBundle.ReadManifest(directory).Properties.GetValueOrDefault("indexCreated") == indexVersion)
        {
            AnsiConsole.MarkupLineInterpolated($"reusing {directory}");
            return directory;
        }
        var plan = new GenerativePlan
        {
            Source = new HistorySourceOptions { Mode = SourceMode.Titles, MaxSourceTokens = 64, MaxItemTokens = 12 },
            Windows = TrainingWindows.AllPrefixes,
            Version = "demo-v1",
            FineTune = new FineTuneOptions
            {
                Steps = steps,
                BatchSize = 32,
                EvalEvery = Math.Max(1, steps / 3),
                ValidationLimit = 256,
                Evaluation = new EvaluationOptions { Beams = 10 },
                Optimizer = new OptimizerOptions { LearningRate = 3e-3, WarmupRatio = 0.05 },
                Seed = seed,
            },
        };
        using var outcome = TrainingProgressView.Run("recommender", steps, p => RecommenderTraining.Run(catalog, indexDirectory, plan, p, cancellation));
        outcome.Bundle.Manifest.Properties["indexCreated"] = indexVersion;
        outcome.Save(directory);
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"validation {plan.FineTune.SelectionMetric} {outcome.Report.BestMetric:F4} (popularity {GenerativeEvaluator.EvaluateRanking(outcome.Data.Validation.Take(plan.FineTune.ValidationLimit).ToList(), _ => outcome.Data.Popularity, plan.FineTune.Evaluation).Metrics[plan.FineTune.SelectionMetric]:F4}) after {steps} steps");
        return directory;
    }

    /// <summary>Starts the embedded cluster with the API and widget, replays the catalog's events, prints the URLs and serves until stopped.</summary>
    public static async Task<int> ServeAsync(string servingDirectory, string catalogDirectory, Catalog catalog, int port, bool exitAfterStart, CancellationToken cancellation)
    {
        // The cluster's state lives next to the demo's bundles, so a second run finds its users again.
        var store = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(servingDirectory))!, "cluster.db");
        var (app, address) = await EmbeddedHost.StartAsync(servingDirectory, catalogDirectory, port, cancellation,
            new Dictionary<string, string?> { ["Storage:Provider"] = "LiteDb", ["Storage:LiteDb:ConnectionString"] = $"Filename={store}" });
        await using var host = app;
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        // Every user's history except the last item, as if the shop had been running.
        var events = catalog.Users.SelectMany(u => u.ItemIds.Take(u.ItemIds.Count - 1).Select((item, i) =>
            new UserEvent($"{u.UserId}-{i}", u.UserId, item, EventType.View, DateTimeOffset.UtcNow))).ToList();
        var replayed = 0;
        ProgressBar.Run("replay events", events.Count, progress =>
        {
            Parallel.ForEachAsync(events.GroupBy(e => e.UserId), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellation }, async (user, _) =>
            {
                await grains.GetGrain<IUserGrain>(user.Key).RecordBatchAsync([.. user]);
                progress.Report(Interlocked.Add(ref replayed, user.Count()));
            }).GetAwaiter().GetResult();
            return replayed;
        });

        var sampleUser = catalog.Users[0];
        var sample = await grains.GetGrain<IUserGrain>(sampleUser.UserId).RecommendAsync(5);
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var table = new Table().Title(Markup.Escape($"recommendations for {sampleUser.UserId} (index {sample.Version ?? "none"})"))
            .AddColumn("item").AddColumn("title").AddColumn("source").AddColumn(new TableColumn("score").RightAligned());
        foreach (var item in sample.Items)
            table.AddRow(Markup.Escape(item.ItemId), Markup.Escape(item.Item?.Title ?? ""), item.Source.ToString().ToLowerInvariant(), item.Score.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        var recent = string.Join(" → ", sampleUser.ItemIds.TakeLast(4).SkipLast(1).Select(id => byId.TryGetValue(id, out var i) ? i.Title : id));
        AnsiConsole.MarkupLineInterpolated($"[grey]their latest items: {recent}[/]");

        var urls = new Table().AddColumn("what").AddColumn("url");
        urls.AddRow("widget", Markup.Escape($"{address}/widget?user={sampleUser.UserId}"));
        urls.AddRow("API reference", Markup.Escape($"{address}/docs"));
        urls.AddRow("OpenAPI document", Markup.Escape($"{address}/openapi/v1.json"));
        urls.AddRow("Orleans dashboard", Markup.Escape($"{address}/dashboard"));
        urls.AddRow("health", Markup.Escape($"{address}/health"));
        AnsiConsole.Write(urls);
        if (exitAfterStart)
        {
            await app.StopAsync(CancellationToken.None);
            return 0;
        }
        AnsiConsole.MarkupLine("Serving. Press [bold]Ctrl+C[/] to stop.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellation);
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("stopping…");
        }
        await app.StopAsync(CancellationToken.None);
        return 0;
    }
}
