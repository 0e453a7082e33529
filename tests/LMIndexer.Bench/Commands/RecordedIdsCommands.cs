using System.CommandLine;
using System.Globalization;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Console;
using Spectre.Console;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench index keep-ids</c> and <c>index restore-ids</c>: the IDs of a recorded index run
/// kept beside its result, and written back as index bundles without a network for the rec bench
/// (<see cref="RecordedIds"/>).
/// </summary>
public static class RecordedIdsCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return Keep();
        yield return Restore();
    }

    private static Command Keep()
    {
        var indexDir = new Option<DirectoryInfo>("--index-dir") { Description = "The folder 'index bench --work' wrote the bundles into.", Required = true };
        var methods = new Option<string>("--methods")
        {
            Description = "Comma-separated bundles to keep, NAME=FOLDER (the bundle in <index-dir>/FOLDER kept as NAME, the folder name the rec bench reads: lmindexer, rqvae) or FOLDER alone.",
            Required = true,
        };
        var name = new Option<string>("--name") { Description = "The recorded index run the IDs come from (results/<name>.json).", Required = true };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("keep-ids", "Keep the manifest, tokenizer and ID table of index bundles (not their networks) under results/ids/<name>, for the rec bench on the recorded IDs.")
        {
            indexDir, methods, name, docs,
        };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var pairs = ParsePairs(result.GetValue(methods)!);
            var record = RecordedIds.DirectoryFor(result.GetValue(docs)!.FullName, result.GetValue(name)!);
            var root = result.GetValue(indexDir)!.FullName;
            foreach (var (keptAs, folder) in pairs)
            {
                RecordedIds.Keep(Path.Combine(root, folder), keptAs, record);
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{folder}: kept as {keptAs} in {record}");
            }
            return 0;
        }));
        return command;
    }

    private static Command Restore()
    {
        var indexDir = new Option<DirectoryInfo>("--index-dir") { Description = "Where the bundles of IDs are written (the rec bench's --index-dir).", Required = true };
        var name = new Option<string>("--name") { Description = "The recorded index run whose IDs were kept (results/ids/<name>).", Required = true };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("restore-ids", "Write the IDs kept under results/ids/<name> into --index-dir as index bundles without a network: the rec bench trains fresh networks (--fresh-model) on them.")
        {
            indexDir, name, docs,
        };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var record = RecordedIds.DirectoryFor(result.GetValue(docs)!.FullName, result.GetValue(name)!);
            if (!Directory.Exists(record))
                throw new CliUsageException($"No IDs were kept for '{result.GetValue(name)}' ({record} does not exist).");
            var methods = RecordedIds.Restore(record, result.GetValue(indexDir)!.FullName);
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"restored {string.Join(", ", methods)} into {result.GetValue(indexDir)!.FullName}");
            return 0;
        }));
        return command;
    }

    /// <summary>NAME=FOLDER pairs (FOLDER alone keeps its own name), in the order given.</summary>
    public static IReadOnlyList<(string Name, string Folder)> ParsePairs(string text)
    {
        var pairs = new List<(string, string)>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = entry.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length > 2 || parts.Any(p => p.Length == 0 || p.Contains('/', StringComparison.Ordinal) || p.Contains('\\', StringComparison.Ordinal) || p is "." or ".."))
                throw new CliUsageException($"--methods: '{entry}' is not NAME=FOLDER or FOLDER (plain folder names).");
            pairs.Add(parts.Length == 2 ? (parts[0], parts[1]) : (parts[0], parts[0]));
        }
        if (pairs.Count == 0)
            throw new CliUsageException("--methods names no bundle.");
        if (pairs.GroupBy(p => p.Item1, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new CliUsageException($"--methods keeps two bundles as '{twice.Key}'.");
        return pairs;
    }
}
