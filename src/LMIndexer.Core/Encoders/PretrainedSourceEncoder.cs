using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Model;
using LMIndexer.Core.Model.Bert;
using LMIndexer.Core.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Encoders;

/// <summary>
/// A pretrained BERT in place of the T5 encoder under the semantic indexer: catalog token rows
/// (compact ids of a WordPiece-based <see cref="CatalogTokenizer"/>) are read by the pretrained
/// model as [CLS] text [SEP], and its states, projected to the decoder's width, are what the T5
/// decoder cross-attends to. Only the top <see cref="TrainableLayers"/> layers, the projection and
/// its norm train; the states below them never change, so in training each item's are computed
/// once and kept (<see cref="KeepsFrozenStates"/>: an epoch then costs the decoder and the top
/// layers only; docs/decisions/007-pretrained-encoder.md).
/// </summary>
public sealed class PretrainedSourceEncoder : NamedModule
{
    /// <summary>A bundle's file of the trained weights (<see cref="TrainedWeights"/>); the frozen ones come from the package.</summary>
    public const string FileName = "source-encoder.safetensors";

    /// <summary>Manifest properties naming the encoder a bundle reads and how many of its top layers trained.</summary>
    public const string EncoderProperty = "encoder";
    public const string TrainableLayersProperty = "encoderTrainableLayers";

    private const string WeightsPrefix = "source_encoder.";
    private readonly BertModel bert;
    private readonly Linear projection;
    private readonly RmsNorm norm;
    private readonly long[] toBert;                                   // compact text id → WordPiece id
    private readonly int frozenLayers;
    private readonly Dictionary<string, Tensor> frozenStates = new(StringComparer.Ordinal);

    /// <param name="trainableLayers">Top BERT layers that fine-tune (0: the whole pretrained model is frozen).</param>
    public PretrainedSourceEncoder(PretrainedEncoderPackage package, CatalogTokenizer tokenizer, int dModel, int trainableLayers)
        : base(nameof(PretrainedSourceEncoder))
    {
        if (tokenizer.Base.Name != BaseEncoding.WordPiece(package).Name)
            throw new ArgumentException($"The pretrained encoder '{package.Name}' reads {BaseEncoding.WordPiece(package).Name} tokens; this catalog tokenizer is built on {tokenizer.Base.Name}.", nameof(tokenizer));
        ArgumentOutOfRangeException.ThrowIfNegative(trainableLayers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(trainableLayers, package.Config.NumHiddenLayers);
        Package = package;
        TrainableLayers = trainableLayers;
        frozenLayers = package.Config.NumHiddenLayers - trainableLayers;
        // No dropout: the frozen states are cached, and the few trained layers start from a converged model.
        bert = new BertModel(package.Config with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 });
        BertWeights.Load(bert, BertWeights.FromOnnx(OnnxGraph.Parse(package.ReadModel())));
        projection = nn.Linear(package.Config.HiddenSize, dModel, hasBias: false);
        norm = new RmsNorm(dModel, 1e-6);
        register_module("bert", bert);
        register_module("projection", projection);
        register_module("norm", norm);

        var wordPiece = BertInputTokenizer.For(package);
        toBert = new long[tokenizer.FirstIdToken];
        toBert[CatalogTokenizer.PadId] = wordPiece.PadId;
        toBert[CatalogTokenizer.EosId] = wordPiece.SeparatorId;
        toBert[CatalogTokenizer.UnkId] = wordPiece.UnknownId;
        toBert[CatalogTokenizer.MaskId] = wordPiece.MaskId;
        for (var id = CatalogTokenizer.SpecialCount; id < tokenizer.FirstIdToken; id++)
            toBert[id] = tokenizer.BaseId(id);
        ClassificationId = wordPiece.ClassificationId;
        SetTrainable(false);
    }

    public PretrainedEncoderPackage Package { get; }

    public int TrainableLayers { get; }

    /// <summary>
    /// Whether the frozen layers' states are kept per token row. On for training, which reads every
    /// item once per epoch; off (the default) for assignment in a long-running host, where new
    /// texts would otherwise pile up.
    /// </summary>
    public bool KeepsFrozenStates { get; set; }

    /// <summary>The width states are projected to (the decoder's d_model).</summary>
    public long Projected => projection.weight!.shape[0];

    private long ClassificationId { get; }

    /// <summary>The parameters that train: the top BERT layers, the projection and its norm.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> TrainableNamedParameters() =>
        named_parameters().Where(p => !p.name.StartsWith("bert.", StringComparison.Ordinal) || IsTopLayer(p.name));

    /// <summary>Switches the trainable parameters on or off; the frozen layers stay off.</summary>
    public void SetTrainable(bool trainable)
    {
        foreach (var (_, p) in named_parameters())
            p.requires_grad = false;
        foreach (var (_, p) in TrainableNamedParameters())
            p.requires_grad = trainable;
    }

    /// <param name="ids">[batch, n] compact ids, each row text tokens then &lt;/s&gt;, then padding.</param>
    /// <param name="mask">[batch, n]</param>
    /// <returns>[batch, n, d_model], aligned with <paramref name="ids"/> (the [CLS] state is read but not returned).</returns>
    public Tensor Encode(Tensor ids, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (ids.shape[0], ids.shape[1]);
        var device = ids.device;
        using var map = tensor(toBert, device: device);
        var wordPieces = cat([TensorFull(batch, ClassificationId, device), map.index_select(0, ids.flatten()).view(batch, length)], 1);   // [batch, n + 1]
        var bertMask = cat([ones(batch, 1, dtype: mask.dtype, device: device), mask], 1);                                            // [batch, n + 1]
        var lower = FrozenStates(ids, mask, wordPieces, bertMask);                                                                     // [batch, n + 1, 384]
        var states = TrainableLayers == 0 ? lower : bert.ForwardFrom(lower, bertMask, frozenLayers);
        return norm.forward(projection.forward(states[.., 1..])).MoveToOuterDisposeScope();                                         // [batch, n, d_model]
    }

    /// <summary>Drops the kept states (after the frozen layers change, which they do not in training).</summary>
    public void ClearCache()
    {
        foreach (var t in frozenStates.Values)
            t.Dispose();
        frozenStates.Clear();
    }

    /// <summary>The trained tensors, under names for the indexer bundle's file.</summary>
    public Dictionary<string, Tensor> TrainedWeights() =>
        TrainableNamedParameters().ToDictionary(p => WeightsPrefix + p.Name, p => (Tensor)p.Parameter);

    /// <summary>
    /// The pretrained encoder a bundle reads, with its trained weights from <see cref="FileName"/>;
    /// null for bundles on the T5 encoder (t5-scratch, every bundle from before the property, and codes from sentence vectors).
    /// </summary>
    public static PretrainedSourceEncoder? ForBundle(string directory, BundleManifest manifest, CatalogTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var name = manifest.Properties.GetValueOrDefault(EncoderProperty, TextEncoders.T5Scratch);
        // Codes quantised from sentence vectors (rq-VAE, the baselines) leave the backbone reading its own tokens.
        if (name == TextEncoders.T5Scratch || manifest.Properties.GetValueOrDefault("method", Indexing.IdMethods.LMIndexer) != Indexing.IdMethods.LMIndexer)
            return null;
        if (TextEncoders.Package(name) is not { } package)
            throw new InvalidDataException($"{directory}: the bundle reads an unknown encoder '{name}'.");
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new InvalidDataException($"{directory}: the bundle reads the {name} encoder but its {FileName} is missing.");
        var trainable = int.Parse(manifest.Properties.GetValueOrDefault(TrainableLayersProperty, "0"), System.Globalization.CultureInfo.InvariantCulture);
        var encoder = new PretrainedSourceEncoder(package, tokenizer, manifest.Config.DModel, trainable);
        var (weights, _) = SafeTensors.Load(path);
        try
        {
            encoder.LoadTrainedWeights(weights);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in weights.Values)
                t.Dispose();
        }
        return encoder;
    }

    /// <summary>Loads what <see cref="TrainedWeights"/> wrote.</summary>
    public void LoadTrainedWeights(IReadOnlyDictionary<string, Tensor> weights)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in TrainableNamedParameters())
        {
            if (!weights.TryGetValue(WeightsPrefix + name, out var weight) || !weight.shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"The trained source encoder weight '{name}' is missing or has another shape.");
            parameter.copy_(weight);
        }
    }

    private Tensor FrozenStates(Tensor ids, Tensor mask, Tensor wordPieces, Tensor bertMask)
    {
        if (!KeepsFrozenStates)
        {
            using var noGrad = no_grad();
            return bert.ForwardTo(wordPieces, bertMask, frozenLayers);                                                                 // [batch, n + 1, 384]
        }
        var lengths = mask.sum(1).data<long>().ToArray();
        var rows = ids.data<long>().ToArray();
        var width = (int)ids.shape[1];
        var keys = new string[lengths.Length];
        var missing = new List<int>();
        for (var r = 0; r < keys.Length; r++)
        {
            keys[r] = string.Join(',', rows.AsSpan(r * width, (int)lengths[r]).ToArray());
            if (!frozenStates.ContainsKey(keys[r]))
                missing.Add(r);
        }
        if (missing.Count > 0)
        {
            using var noGrad = no_grad();
            using var index = tensor(missing.Select(r => (long)r).ToArray(), device: ids.device);
            using var computed = bert.ForwardTo(wordPieces.index_select(0, index), bertMask.index_select(0, index), frozenLayers);   // [missing, n + 1, 384]
            for (var m = 0; m < missing.Count; m++)
            {
                var r = missing[m];
                if (!frozenStates.ContainsKey(keys[r]))
                    frozenStates[keys[r]] = computed[m, ..(int)(lengths[r] + 1)].clone().DetachFromDisposeScope();
            }
        }
        var kept = keys.Select(k => frozenStates[k]).ToList();
        var padded = nn.utils.rnn.pad_sequence(kept, batch_first: true);                                                               // [batch, ≤ n + 1, 384]
        var pad = width + 1 - padded.shape[1];
        return pad == 0 ? padded : nn.functional.pad(padded, [0, 0, 0, pad]);
    }

    private bool IsTopLayer(string name)
    {
        const string prefix = "bert.encoder.layer.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        var layer = int.Parse(name.AsSpan(prefix.Length, name.IndexOf('.', prefix.Length) - prefix.Length), System.Globalization.CultureInfo.InvariantCulture);
        return layer >= frozenLayers;
    }

    private static Tensor TensorFull(long rows, long value, Device device) => Runtime.TensorArithmetic.Full(rows, 1, value, ScalarType.Int64, device);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            ClearCache();
        base.Dispose(disposing);
    }
}
