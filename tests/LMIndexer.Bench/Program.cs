using System.CommandLine;
using LMIndexer.Bench.Commands;
using LMIndexer.Bench.Micro;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Research.Indexing;
using LMIndexer.Research.Recommendation;

// The lab's command line: the product's research commands with the baselines plugged in, and
// every benchmark. Results go to results/ and experiments.md beside this project.
var root = new RootCommand("lmindexer-bench — baselines, ablations and benchmarks of LMIndexer.Orleans.");

var index = IndexCommands.Create(new IndexingMethods(BaselineIndexers.Names, BaselineIndexers.Parse));
index.Subcommands.Add(IndexBenchCommand.Create());
foreach (var command in RecordedIdsCommands.Create())
    index.Subcommands.Add(command);
root.Subcommands.Add(index);

var rec = RecCommands.Create(researchOptions: true, new RankingBaseline("markov", MarkovBaseline.Evaluate));
rec.Subcommands.Add(RecBenchCommand.Create());
root.Subcommands.Add(rec);

var search = QueryCommands.Search();
search.Subcommands.Add(QueryBenchCommand.Create("search", QueryCommands.DataOption("search"), QueryBenchCommand.LoadSearchBench, "search-beauty"));
root.Subcommands.Add(search);
var retrieval = QueryCommands.Retrieval();
retrieval.Subcommands.Add(QueryBenchCommand.Create("retrieval", QueryCommands.DataOption("retrieval"), QueryBenchCommand.LoadRetrievalBench, "retrieval-cranfield"));
root.Subcommands.Add(retrieval);

root.Subcommands.Add(EncoderBenchCommand.Create());
root.Subcommands.Add(ServeBenchCommand.Create());
root.Subcommands.Add(BackfillBenchCommand.Create());
root.Subcommands.Add(ScaleBenchCommand.Create());
root.Subcommands.Add(AnnBenchCommand.Create());
root.Subcommands.Add(ColdStartBenchCommand.Create());
root.Subcommands.Add(StorageBenchCommand.Create());
root.Subcommands.Add(LoadCommand.Create());
root.Subcommands.Add(CombineCommand.Create());

var micro = new Command("micro", "BenchmarkDotNet micro-benchmarks and probes: beam, crowded-trie, popularity, training, dropout, latency BUNDLE DATA, indexer-breakdown BUNDLE [fp32|bf16], indexer-probe BUNDLE DATA, breakdown.")
{
    new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore },
};
micro.SetAction(result => MicroBenchmarks.Run(result.GetValue<string[]>("args") ?? []));
root.Subcommands.Add(micro);

return await CliErrors.InvokeAsync(root, args).ConfigureAwait(false);
