using BenchmarkDotNet.Attributes;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Popularity;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// What the popularity singleton does at the first top request after a merge from a silo's
/// counter: rank the scores again and answer a top-20 request. <c>heap</c> is <see cref="PopularityRanking"/> (a bounded
/// heap of the 1,000 candidates); <c>sort</c> is the baseline, the full sort of every score the
/// grain ran before (git 13c979c), over the same state.
/// </summary>
public class PopularityRankingBenchmarks
{
    private PopularityState state = new();
    private PopularityRanking? ranking;
    private HashSet<string> known = [];
    private int merges;

    [Params(100_000, 1_000_000)]
    public int Items { get; set; }

    [Params("heap", "sort")]
    public string Mode { get; set; } = "heap";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(5);
        state = new PopularityState();
        ranking = new PopularityRanking(() => state);
        var ids = Enumerable.Range(0, Items).Select(i => $"item-{i:D7}").ToList();
        // Long-tailed counts, as item popularity is: many ties among the rare items.
        ranking.Merge([.. ids.Select(id => new ItemEventCount(id, Math.Floor(1 / (random.NextDouble() + 1e-4)), 1))]);
        ranking.Resolve(ids, [.. ids.Select(_ => true)]);
        known = [.. ids];
    }

    [Benchmark(Description = "merge-then-top-20")]
    public int MergeThenTop()
    {
        var item = $"item-{merges++ % Items:D7}";
        ranking!.Merge([new ItemEventCount(item, 1, 1)]);
        return Mode == "heap" ? ranking.Top(20).Count : SortedTop(20).Count;
    }

    private List<PopularItem> SortedTop(int count) =>
        [.. state.Scores.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(PopularityRanking.Candidates)
            .Where(kv => known.Contains(kv.Key)).Select(kv => new PopularItem(kv.Key, kv.Value)).Take(count)];
}
