using System.Globalization;
using LMIndexer.Core.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>An indexer bundle loaded for assigning IDs to new or changed items.</summary>
public sealed class IndexerBundle : IDisposable
{
    private IndexerBundle(ModelBundle bundle, SemanticIndexerModel indexer, SemanticIdTable table)
    {
        Bundle = bundle;
        Indexer = indexer;
        Table = table;
    }

    public ModelBundle Bundle { get; }
    public SemanticIndexerModel Indexer { get; }
    public SemanticIdTable Table { get; }

    public static IndexerBundle Load(string directory, Device? device = null)
    {
        var bundle = ModelBundle.Load(directory, device);
        var properties = bundle.Manifest.Properties;
        if (bundle.Manifest.Kind != "indexer" || !properties.TryGetValue("positions", out var positionsText) || !properties.TryGetValue("codebookSize", out var sizeText))
        {
            bundle.Dispose();
            throw new InvalidDataException($"{directory} is a '{bundle.Manifest.Kind}' bundle, not an indexer bundle.");
        }
        var positions = int.Parse(positionsText, CultureInfo.InvariantCulture);
        var codebookSize = int.Parse(sizeText, CultureInfo.InvariantCulture);
        var layers = int.Parse(properties.GetValueOrDefault("reconstructorLayers", "1"), CultureInfo.InvariantCulture);
        var indexer = new SemanticIndexerModel(bundle.Model, bundle.Tokenizer, positions, codebookSize, layers);
        var (codebooks, _) = SafeTensors.Load(Path.Combine(directory, SemanticIndexing.CodebooksFile));
        try
        {
            for (var p = 1; p <= positions; p++)
            {
                if (!codebooks.TryGetValue($"codebook.{p}", out var codebook))
                    throw new InvalidDataException($"{directory}: codebook {p} is missing from {SemanticIndexing.CodebooksFile}.");
                indexer.Codebook(p).Load(codebook);
            }
        }
        finally
        {
            foreach (var t in codebooks.Values)
                t.Dispose();
        }
        if (device is not null)
            indexer.to(device);
        indexer.eval();
        return new IndexerBundle(bundle, indexer, SemanticIdTable.Load(Path.Combine(directory, SemanticIdTable.FileName)));
    }

    /// <summary>Learned codes for item texts, exactly as training assigned them to its items.</summary>
    public long[][] AssignCodes(IReadOnlyList<string> itemTexts, int maxTokens)
    {
        var tokens = itemTexts.Select(t => Bundle.Tokenizer.EncodeWithEos(t, maxTokens)).ToList();
        return SemanticIdAssigner.Assign(Indexer, tokens);
    }

    public void Dispose() => Indexer.Dispose();
}
