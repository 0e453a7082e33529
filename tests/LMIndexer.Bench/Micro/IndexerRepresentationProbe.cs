using LMIndexer.Cli.Commands;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Where a pretrained-encoder indexer loses category information before its first code: the same
/// k-means (K = the bundle's codebook size) over the packaged encoder's sentence vectors, over the
/// mean of the 384→d_model projection the decoder reads, and over the decoder state h¹ that the
/// first codebook quantises, each scored by AMI against the full category path; beside them the AMI
/// of the bundle's own first codes. A diagnostic, not a benchmark: nothing is chosen with it.
/// `lmindexer-bench micro indexer-probe BUNDLE DATA`
/// </summary>
internal static class IndexerRepresentationProbe
{
    public static void Run(string bundleDirectory, string dataDirectory)
    {
        BenchmarkRuntime.Initialize();
        var catalog = RecCommands.LoadCatalog(new DirectoryInfo(dataDirectory));
        var labels = SemanticIndexing.Labels(catalog)?["full"] ?? throw new InvalidOperationException("The catalog has no categories to score against.");
        using var bundle = IndexerBundle.Load(bundleDirectory);
        var model = bundle.Indexer;
        var source = model.SourceEncoder ?? throw new InvalidOperationException("The bundle's indexer reads the scratch T5, not a packaged encoder.");
        var byId = catalog.Items.Select((item, i) => (item.ItemId, i)).ToDictionary(p => p.ItemId, p => p.i, StringComparer.Ordinal);
        var order = bundle.Table.ItemIds.Select(id => byId[id]).ToArray();
        var texts = order.Select(i => ItemTextBuilder.Build(catalog.Items[i])).ToList();
        var truth = order.Select(i => labels[i]).ToArray();
        var k = model.Codebook(1).Embed.shape[0];
        var maxTokens = int.Parse(bundle.Bundle.Manifest.Properties.GetValueOrDefault("maxTokens", "64"), System.Globalization.CultureInfo.InvariantCulture);

        double Ami(Tensor points)
        {
            var fit = KMeans.Fit(points, (int)k, new KMeansOptions { Restarts = 3, Seed = 1 });
            using var _ = fit.Centroids;
            return ClusteringMetrics.AdjustedMutualInformation(truth, fit.Assignments);
        }

        Console.WriteLine($"{texts.Count:N0} items, K = {k}, encoder {source.Package.Name}, decoder d_model {model.T5.Config.DModel}");
        Console.WriteLine($"bundle's first codes:                      AMI {ClusteringMetrics.AdjustedMutualInformation(truth, bundle.Table.Ids.Select(c => c[0]).ToArray()):F4}");
        using (var sentences = SemanticIndexing.SentenceEmbeddings(source.Package, texts, CancellationToken.None))
            Console.WriteLine($"k-means on {source.Package.Name} sentence vectors ({sentences.shape[1]}): AMI {Ami(sentences):F4}");

        var tokens = texts.Select(t => model.Tokenizer.EncodeWithEos(t, maxTokens)).ToList();
        var projected = new List<Tensor>();
        var decoded = new List<Tensor>();
        model.eval();
        using (no_grad())
        {
            foreach (var chunk in tokens.Chunk(128))
            {
                using var scope = NewDisposeScope();
                var (ids, mask) = TokenBatch.Pad(chunk, CatalogTokenizer.PadId, CPU);
                var states = source.Encode(ids, mask);                                            // [batch, src, d_model]
                var weights = mask.to(states.dtype).unsqueeze(-1);                                // [batch, src, 1]
                projected.Add((states * weights).sum(1).div(weights.sum(1)).MoveToOuterDisposeScope());
                var (last, _) = model.DecoderStates(ids, mask, zeros(chunk.Length, 0, dtype: ScalarType.Int64));  // [batch, d_model]
                decoded.Add(last.MoveToOuterDisposeScope());
            }
        }
        using var projectedAll = cat(projected, 0);
        using var decodedAll = cat(decoded, 0);
        Console.WriteLine($"k-means on the mean projected states ({projectedAll.shape[1]}):    AMI {Ami(projectedAll):F4}");
        Console.WriteLine($"k-means on the decoder state h1 ({decodedAll.shape[1]}):        AMI {Ami(decodedAll):F4}");
    }
}
