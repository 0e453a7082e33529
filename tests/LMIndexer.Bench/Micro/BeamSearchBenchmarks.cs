using BenchmarkDotNet.Attributes;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;
using TorchSharp;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// One batch of 64 requests × 20 beams through the <c>small</c> model over a Beauty-sized trie
/// (12,101 items; 128 × 128 codes + counter): trie-constrained with the KV cache (what serving
/// runs), the same without constraint (the baseline the constraint's cost is measured against),
/// and constrained while recomputing every step (the baseline for the cache).
/// </summary>
public class BeamSearchBenchmarks
{
    public const int Requests = 64;
    public const int Beams = 20;
    public const int SourceLength = 96;
    public const int Items = 12_101;
    public const int VocabSize = 8000;
    private static readonly int[] CodeSizes = [128, 128, 32];

    private T5Model? model;
    private TrieTables? trie;
    private List<int[]> sources = [];

    [Params("constrained", "unconstrained", "recompute")]
    public string Mode { get; set; } = "constrained";

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkRuntime.Initialize();
        torch.manual_seed(3);
        model = new T5Model(T5Config.Small(VocabSize));
        model.eval();
        var random = new Random(3);
        var offsets = new[] { VocabSize - 288, VocabSize - 160, VocabSize - 32 };
        var seen = new HashSet<string>();
        var ids = new List<int[]>();
        while (ids.Count < Items)
        {
            var id = CodeSizes.Select((size, p) => offsets[p] + random.Next(size)).ToArray();
            if (seen.Add(string.Join(',', id)))
                ids.Add(id);
        }
        trie = new TrieTables(IdTrie.Build(ids));
        sources = [.. Enumerable.Range(0, Requests).Select(_ => Enumerable.Range(0, SourceLength).Select(_ => 4 + random.Next(VocabSize - 400)).ToArray())];
    }

    [Benchmark(Description = "beam-search")]
    public int Search() => Mode switch
    {
        "constrained" => ConstrainedBeamSearch.Search(model!, sources, trie!, Beams).Sum(r => r.Length),
        "unconstrained" => ConstrainedBeamSearch.Unconstrained(model!, sources, trie!, Beams).Sum(r => r.Length),
        _ => ConstrainedBeamSearch.Search(model!, sources, trie!, Beams, useKvCache: false).Sum(r => r.Length),
    };

    [GlobalCleanup]
    public void Cleanup()
    {
        model?.Dispose();
        trie?.Dispose();
    }
}
