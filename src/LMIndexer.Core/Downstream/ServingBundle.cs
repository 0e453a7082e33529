using System.Globalization;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// What serving needs, in one directory: the fine-tuned model and tokenizer (a model bundle of kind
/// <c>serving</c>), the ID table and the trie of its IDs, and how sources are built.
/// </summary>
public sealed class ServingBundle : IDisposable
{
    public const string Kind = "serving";
    public const string TrieFile = "trie.bin";

    private ServingBundle(string directory, ModelBundle bundle, SemanticIdTable table, IdTrie trie, Device? device, ItemTextProjection? projection)
    {
        Directory = directory;
        Bundle = bundle;
        Projection = projection;
        Table = table;
        Trie = trie;
        Tables = new TrieTables(trie, device);
        var properties = bundle.Manifest.Properties;
        Task = properties.GetValueOrDefault("task", "recommendation");
        Source = new HistorySourceOptions
        {
            Mode = SourceModeOf(bundle.Manifest),
            MaxSourceTokens = int.Parse(properties.GetValueOrDefault("maxSourceTokens", "128"), CultureInfo.InvariantCulture),
            MaxItemTokens = int.Parse(properties.GetValueOrDefault("maxItemTokens", "32"), CultureInfo.InvariantCulture),
            ItemTokenCount = bundle.Model.Config.SourceItemCount,
        };
        Ranking = RankingChoice.Of(bundle);
    }

    /// <summary>What a serving bundle's model reads of a history; bundles from before the property read titles.</summary>
    public static SourceMode SourceModeOf(BundleManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return HistorySourceOptions.ParseMode(manifest.Properties.GetValueOrDefault("source", "titles"));
    }

    /// <summary>The folder it was loaded from.</summary>
    public string Directory { get; }

    public ModelBundle Bundle { get; }
    public SemanticIdTable Table { get; }
    public IdTrie Trie { get; }
    public TrieTables Tables { get; }
    public string Task { get; }
    public HistorySourceOptions Source { get; }
    public string Version => Bundle.Manifest.Version;

    /// <summary>How the model ranks: the choice its training made on validation, or the default for its heads (hybrid with a dense item head, weight 1).</summary>
    public RankingChoice Ranking { get; }

    /// <summary>How an item added after training gets a dense vector from its text; null for bundles without a dense item head (or trained before it existed).</summary>
    public ItemTextProjection? Projection { get; }

    /// <summary>Writes a serving bundle: model + tokenizer + manifest, ids.tsv and trie.bin, and the new items' text projection when there is one.</summary>
    public static void Save(string directory, ModelBundle bundle, SemanticIdTable table, IdTrie trie, ItemTextProjection? projection = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        if (bundle.Manifest.Kind != Kind)
            throw new ArgumentException($"A serving bundle's manifest must have kind '{Kind}', not '{bundle.Manifest.Kind}'.");
        var files = new Dictionary<string, Action<string>>
        {
            [SemanticIdTable.FileName] = table.Save,
            [TrieFile] = trie.Save,
        };
        if (projection is not null)
        {
            if (projection.ItemDimension != bundle.Model.Config.DModel || !bundle.Model.Config.DenseItemHead)
                throw new ArgumentException($"The projection makes {projection.ItemDimension}-wide vectors; the network's dense head reads {bundle.Model.Config.DModel}-wide ones, if it has one.", nameof(projection));
            files[ItemTextProjection.FileName] = projection.Write;
        }
        bundle.Save(directory, files);
    }

    /// <summary>
    /// Copies a serving bundle under another version name, optionally with other IDs (the trie is
    /// rebuilt from them): a re-keyed index for backfill drills and benchmarks. Written to a staging
    /// directory first, so <paramref name="to"/> appears complete or not at all.
    /// </summary>
    public static void CopyAsVersion(string from, string to, string version, Func<SemanticIdTable, SemanticIdTable>? rekey = null)
    {
        var manifest = ModelBundle.ReadManifest(from);
        if (manifest.Kind != Kind)
            throw new InvalidDataException($"{from} is a '{manifest.Kind}' bundle, not a serving bundle.");
        var staging = to + ".staging";
        if (System.IO.Directory.Exists(staging))
            System.IO.Directory.Delete(staging, recursive: true);
        System.IO.Directory.CreateDirectory(staging);
        foreach (var file in System.IO.Directory.GetFiles(from))
            File.Copy(file, Path.Combine(staging, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(staging, ModelBundle.ManifestFile),
            System.Text.Json.JsonSerializer.Serialize(manifest with { Version = version, Created = DateTimeOffset.UtcNow }, BundleJson.Default.BundleManifest));
        if (rekey is not null)
        {
            var table = rekey(SemanticIdTable.Load(Path.Combine(from, SemanticIdTable.FileName)));
            table.Save(Path.Combine(staging, SemanticIdTable.FileName));
            var tokenizer = Text.CatalogTokenizer.Load(Path.Combine(from, ModelBundle.TokenizerFile));
            IdTrie.FromTable(table, tokenizer).Save(Path.Combine(staging, TrieFile));
        }
        System.IO.Directory.Move(staging, to);
    }

    public static ServingBundle Load(string directory, Device? device = null)
    {
        var manifest = ModelBundle.ReadManifest(directory);
        if (manifest.Kind != Kind)
            throw new InvalidDataException($"{directory} is a '{manifest.Kind}' bundle, not a serving bundle (train one with 'lmindexer rec train').");
        var table = SemanticIdTable.Load(Path.Combine(directory, SemanticIdTable.FileName));
        var trie = IdTrie.Load(Path.Combine(directory, TrieFile));
        if (trie.ItemCount != table.Count)
            throw new InvalidDataException($"{directory}: the trie holds {trie.ItemCount} items but ids.tsv {table.Count}.");
        var bundle = ModelBundle.Load(directory, device);
        // Serving follows the process's precision: bf16 halves the matmul time on AVX-512 BF16 CPUs
        // (beam scores stay fp32: log-softmax runs on fp32 logits).
        if (Runtime.TorchRuntime.IsInitialized && Runtime.TorchRuntime.Dtype == ScalarType.BFloat16)
            bundle.Model.to(ScalarType.BFloat16);
        bundle.Model.eval();
        return new ServingBundle(directory, bundle, table, trie, device, ItemTextProjection.TryLoad(directory));
    }

    public void Dispose()
    {
        Tables.Dispose();
        Bundle.Dispose();
    }
}
