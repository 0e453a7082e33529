using System.Globalization;
using LMIndexer.Core.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>How an assignment batch changed the ID table.</summary>
public sealed record AssignmentReport(int Unchanged, int Changed, int Added);

/// <summary>An indexer bundle loaded for assigning IDs to new or changed items.</summary>
public sealed class IndexerBundle : IDisposable
{
    private readonly SemanticIndexerModel? indexer;
    private readonly ResidualQuantization.RqVaeItemCoder? rqVae;

    private IndexerBundle(ModelBundle bundle, SemanticIndexerModel? indexer, ResidualQuantization.RqVaeItemCoder? rqVae, SemanticIdTable table)
    {
        Bundle = bundle;
        this.indexer = indexer;
        this.rqVae = rqVae;
        Table = table;
    }

    public ModelBundle Bundle { get; }

    /// <summary>The LMIndexer network that codes items (not in an rq-VAE bundle).</summary>
    public SemanticIndexerModel Indexer => indexer ?? throw new InvalidOperationException($"This bundle's IDs come from {Method}, which has no LMIndexer network.");

    /// <summary>How the bundle's codes were learned (<see cref="IdMethods"/>).</summary>
    public string Method => Bundle.Manifest.Properties.GetValueOrDefault("method", IdMethods.LMIndexer);

    public SemanticIdTable Table { get; }

    public static IndexerBundle Load(string directory, Device? device = null)
    {
        var bundle = ModelBundle.Load(directory, device);
        var properties = bundle.Manifest.Properties;
        if (bundle.Manifest.Kind != "indexer" || !properties.TryGetValue("positions", out var positionsText) || !properties.TryGetValue("codebookSize", out var sizeText))
        {
            bundle.Dispose();
            throw new InvalidDataException(bundle.Manifest.Kind == "indexer-baseline"
                ? $"{directory} holds {properties.GetValueOrDefault("method", "baseline")} IDs, which keep no model to code new items; index with {string.Join(" or ", IdMethods.Names)}."
                : $"{directory} is a '{bundle.Manifest.Kind}' bundle, not an indexer bundle.");
        }
        var positions = int.Parse(positionsText, CultureInfo.InvariantCulture);
        var codebookSize = int.Parse(sizeText, CultureInfo.InvariantCulture);
        var table = SemanticIdTable.Load(Path.Combine(directory, SemanticIdTable.FileName));
        if (properties.GetValueOrDefault("method") == IdMethods.RqVae)
        {
            try
            {
                return new IndexerBundle(bundle, null, new ResidualQuantization.RqVaeItemCoder(directory, bundle, positions, codebookSize), table);
            }
            catch
            {
                bundle.Dispose();
                throw;
            }
        }
        var layers = int.Parse(properties.GetValueOrDefault("reconstructorLayers", "1"), CultureInfo.InvariantCulture);
        // The pretrained encoder the IDs were learned on (with its trained layers) came with the network.
        var indexer = new SemanticIndexerModel(bundle.Model, bundle.Tokenizer, positions, codebookSize, layers, bundle.Model.SourceEncoder);
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
        return new IndexerBundle(bundle, indexer, null, table);
    }

    /// <summary>Learned codes for item texts, exactly as training assigned them to its items.</summary>
    public long[][] AssignCodes(IReadOnlyList<string> itemTexts, int maxTokens)
    {
        if (rqVae is not null)
            return rqVae.Codes(itemTexts, maxTokens);
        var tokens = itemTexts.Select(t => Bundle.Tokenizer.EncodeWithEos(t, maxTokens)).ToList();
        return SemanticIdAssigner.Assign(Indexer, tokens);
    }

    /// <summary>Items whose codes are computed together: large enough to batch the encoder, small enough that a million-item file is never held whole.</summary>
    public const int AssignChunk = 4096;

    /// <summary>
    /// IDs for (new or changed) items against the bundle's table: an item whose learned codes are
    /// unchanged keeps its full ID; any other gets the next free counter of its group. Items of the
    /// table not among them keep their IDs. The items are read once, <paramref name="chunkSize"/> at a
    /// time, so memory beyond the ID table does not grow with their number.
    /// </summary>
    /// <param name="progress">Receives the number of items read so far, after each chunk.</param>
    public (SemanticIdTable Table, AssignmentReport Report) AssignItems(IEnumerable<Data.CatalogItem> items, IProgress<int>? progress = null, int chunkSize = AssignChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        var maxTokens = int.Parse(Bundle.Manifest.Properties.GetValueOrDefault("maxTokens", "64"), CultureInfo.InvariantCulture);
        var counterSize = Bundle.Tokenizer.IdPositionSizes[^1];
        var ids = Table.ItemIds.Zip(Table.Ids).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
        var order = Table.ItemIds.ToList();
        var used = new Dictionary<string, HashSet<long>>(StringComparer.Ordinal);
        foreach (var id in Table.Ids)
            Used(used, id[..^1]).Add(id[^1]);
        int unchanged = 0, changed = 0, added = 0, read = 0;
        foreach (var chunk in items.Chunk(chunkSize))
        {
            var codes = AssignCodes([.. chunk.Select(Text.ItemTextBuilder.Build)], maxTokens);
            for (var i = 0; i < chunk.Length; i++)
            {
                var itemId = chunk[i].ItemId;
                if (ids.TryGetValue(itemId, out var existing))
                {
                    if (existing.AsSpan(0, existing.Length - 1).SequenceEqual(codes[i]))
                    {
                        unchanged++;
                        continue;
                    }
                    Used(used, existing[..^1]).Remove(existing[^1]);
                    changed++;
                }
                else
                {
                    order.Add(itemId);
                    added++;
                }
                var taken = Used(used, codes[i]);
                long counter = 0;
                while (taken.Contains(counter))
                    counter++;
                if (counter >= counterSize)
                    throw new InvalidOperationException($"The collision counter range ({counterSize}) is exhausted for ID prefix {string.Join('-', codes[i])}; retrain the index with a larger counter.");
                taken.Add(counter);
                ids[itemId] = [.. codes[i], counter];
            }
            read += chunk.Length;
            progress?.Report(read);
        }
        return (new SemanticIdTable(order, [.. order.Select(id => ids[id])]), new AssignmentReport(unchanged, changed, added));
    }

    private static HashSet<long> Used(Dictionary<string, HashSet<long>> used, IEnumerable<long> codes)
    {
        var key = string.Join(',', codes);
        if (!used.TryGetValue(key, out var set))
            used[key] = set = [];
        return set;
    }

    public void Dispose()
    {
        if (indexer is not null)
            indexer.Dispose();
        else
            Bundle.Dispose();
        rqVae?.Dispose();
    }
}
