using System.CommandLine;
using LMIndexer.Cli.Commands;

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
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
