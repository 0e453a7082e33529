using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Text;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary><c>lmindexer data synth|stats</c>.</summary>
public static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Generate and inspect catalogs (items.jsonl + sequences.tsv).");
        data.Subcommands.Add(Synth());
        data.Subcommands.Add(Stats());
        return data;
    }

    private static Command Synth()
    {
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Directory to write items.jsonl and sequences.tsv into.", Required = true };
        var items = new Option<int>("--items") { Description = "Number of items.", DefaultValueFactory = _ => 2000 };
        var users = new Option<int>("--users") { Description = "Number of users.", DefaultValueFactory = _ => 3000 };
        var seed = new Option<int>("--seed") { Description = "Generator seed.", DefaultValueFactory = _ => 42 };
        var command = new Command("synth", "Generate a deterministic synthetic catalog with category-coherent user sessions.") { output, items, users, seed };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var options = new SyntheticCatalogOptions { Items = result.GetValue(items), Users = result.GetValue(users), Seed = result.GetValue(seed) };
            options.Validate();
            var directory = result.GetValue(output)!.FullName;
            // Streamed to disk: a million-item catalog is written without being held.
            using var writer = new CatalogWriter(directory);
            ProgressBar.Run("synth items and users", options.Items + options.Users, progress =>
            {
                var done = 0;
                SyntheticCatalogGenerator.Write(options,
                    item => { writer.Add(item); progress.Report(++done); },
                    user => { writer.Add(user); progress.Report(++done); });
                return done;
            });
            writer.Complete();
            AnsiConsole.MarkupLineInterpolated($"wrote [green]{writer.ItemCount}[/] items and [green]{writer.UserCount}[/] users ({writer.EventCount} events) to {directory}");
            return 0;
        }));
        return command;
    }

    private static Command Stats()
    {
        var directory = new Argument<DirectoryInfo>("catalog") { Description = "Catalog directory (items.jsonl, sequences.tsv)." };
        var command = new Command("stats", "Print item, user, category and text statistics of a catalog.") { directory };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var catalog = CatalogFiles.Load(result.GetValue(directory)!.FullName);
            AnsiConsole.Write(StatsTable(catalog));
            return 0;
        }));
        return command;
    }

    /// <summary>A table of catalog facts (used by <c>data stats</c> and the demo).</summary>
    public static Table StatsTable(Catalog catalog)
    {
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var tokenizer = CatalogTokenizer.Build(texts, [1]);
        var tokenCounts = texts.Select(t => tokenizer.Encode(t).Length).Order().ToArray();
        var lengths = catalog.Users.Select(u => u.ItemIds.Count).ToArray();
        var known = catalog.Items.Select(i => i.ItemId).ToHashSet();
        var unknownEvents = catalog.Users.Sum(u => u.ItemIds.Count(id => !known.Contains(id)));
        var table = new Table().AddColumn("statistic").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, object value) => table.AddRow(name, Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty);
        Row("items", catalog.Items.Count);
        Row("items with title", catalog.Items.Count(i => !string.IsNullOrWhiteSpace(i.Title)));
        Row("items with brand", catalog.Items.Count(i => !string.IsNullOrWhiteSpace(i.Brand)));
        Row("category labels (full first path)", catalog.Items.Select(i => i.CategoryLabel()).Distinct().Count());
        Row("category labels (first level)", catalog.Items.Select(i => i.CategoryLabel(1)).Distinct().Count());
        Row("brands", catalog.Items.Select(i => i.Brand).Where(b => b is not null).Distinct().Count());
        Row("users", catalog.Users.Count);
        Row("events", catalog.InteractionCount);
        Row("events on unknown items", unknownEvents);
        if (lengths.Length > 0)
            Row("events per user (mean / max)", string.Create(CultureInfo.InvariantCulture, $"{lengths.Average():F1} / {lengths.Max()}"));
        Row("text vocabulary (cl100k tokens used)", tokenizer.TextTokenCount);
        if (tokenCounts.Length > 0)
            Row("tokens per item text (median / p95 / max)", $"{tokenCounts[tokenCounts.Length / 2]} / {tokenCounts[(int)(tokenCounts.Length * 0.95)]} / {tokenCounts[^1]}");
        return table;
    }
}
