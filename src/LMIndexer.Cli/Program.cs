using System.CommandLine;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;

var root = new RootCommand("lmindexer — learn semantic item IDs from text (LMIndexer) and serve generative recommendations.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(ModelCommands.Create());
root.Subcommands.Add(IndexCommands.Create());
root.Subcommands.Add(RecCommands.Create());
root.Subcommands.Add(QueryCommands.Search());
root.Subcommands.Add(QueryCommands.Retrieval());
root.Subcommands.Add(BackfillCommands.Create());
root.Subcommands.Add(ApiKeyCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
// Ctrl+C and SIGTERM cancel the command; it has 10 s (docker stop's grace) to stop its host
// cleanly before the process is ended, not System.CommandLine's default 2 s.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(10) };
return await CliErrors.InvokeAsync(root, args, invocation).ConfigureAwait(false);
