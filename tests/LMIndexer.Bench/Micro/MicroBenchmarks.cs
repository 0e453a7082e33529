using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace LMIndexer.Bench.Micro;

/// <summary><c>lmindexer-bench micro [beam|crowded-trie|popularity|training|dropout|latency|indexer-breakdown|breakdown|sasrec-breakdown] …</c>: BenchmarkDotNet and probes.</summary>
public static class MicroBenchmarks
{
    public static void Run(string[] args)
    {
        // In-process: the benchmark uses the same patched libtorch as the rest of the build.
        var config = ManualConfig.CreateMinimumViable()
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(8))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);

        var filter = args.FirstOrDefault() ?? "all";
        if (filter == "dropout")
        {
            DropoutProbe.Run();
            return;
        }
        if (filter == "latency")
        {
            LatencyProbe.Run(args[1], args[2]);
            return;
        }
        if (filter == "indexer-breakdown")
        {
            IndexerStepBreakdown.Run(args[1], args.ElementAtOrDefault(2) ?? "fp32");
            return;
        }
        if (filter == "indexer-probe")
        {
            IndexerRepresentationProbe.Run(args[1], args[2]);
            return;
        }
        if (filter == "sasrec-breakdown")
        {
            SasRecStepBreakdown.Run(args[1], int.Parse(args.ElementAtOrDefault(2) ?? "128", System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(args.ElementAtOrDefault(3) ?? "1", System.Globalization.CultureInfo.InvariantCulture));
            return;
        }
        if (filter == "breakdown")
        {
            StepBreakdown.Run();
            return;
        }
        if (filter is "all" or "beam")
        {
            var summary = BenchmarkRunner.Run<BeamSearchBenchmarks>(config);
            BeamSearchReport.Write(summary);
        }
        if (filter is "all" or "crowded-trie")
        {
            var summary = BenchmarkRunner.Run<CrowdedTrieBenchmarks>(config);
            CrowdedTrieBenchmarks.Write(summary);
        }
        if (filter is "all" or "popularity")
        {
            var summary = BenchmarkRunner.Run<PopularityRankingBenchmarks>(config);
            PopularityRankingReport.Write(summary);
        }
        if (filter is "all" or "training")
        {
            var summary = BenchmarkRunner.Run<TrainingStepBenchmarks>(config);
            FoundationReport.Write(summary);
        }
    }
}
