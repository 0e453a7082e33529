using LMIndexer.Core.Encoders;
using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// A T5-style encoder–decoder (Hugging Face T5ForConditionalGeneration semantics and parameter
/// names). Besides logits it exposes the decoder's final hidden states, which the semantic indexer
/// reads as h^t.
/// </summary>
public sealed class T5Model : NamedModule
{
    public const long IgnoreIndex = -100;

    private readonly Embedding shared;
    private readonly T5Stack encoder;
    private readonly T5Stack decoder;
    private readonly Linear? lmHead;
    private readonly Embedding? sourceItems;
    private readonly Linear? denseHead;

    public T5Model(T5Config config) : base(nameof(T5Model))
    {
        config.Validate();
        Config = config;
        shared = nn.Embedding(config.VocabSize, config.DModel);
        encoder = new T5Stack(config, isDecoder: false);
        decoder = new T5Stack(config, isDecoder: true);
        register_module("shared", shared);
        register_module("encoder", encoder);
        register_module("decoder", decoder);
        if (!config.TieWordEmbeddings)
        {
            lmHead = nn.Linear(config.DModel, config.VocabSize, hasBias: false);
            register_module("lm_head", lmHead);
        }
        if (config.SourceItemCount > 0)
        {
            sourceItems = nn.Embedding(config.SourceItemCount, config.DModel);
            register_module("source_items", sourceItems);
        }
        T5Initializer.Initialize(this);
        if (config.DenseItemHead)
        {
            // Built after every other weight is drawn (its constructor draws too), so at one seed
            // a network with the head differs from one without by the head alone: paired runs.
            denseHead = nn.Linear(config.DModel, config.DModel, hasBias: false);
            register_module("dense_head", denseHead);
            T5Initializer.InitializeDenseHead(this);
        }
    }

    public T5Config Config { get; }
    public Embedding Shared => shared;
    public T5Stack Encoder => encoder;
    public T5Stack Decoder => decoder;
    public Linear? LmHead => lmHead;
    public Embedding? SourceItems => sourceItems;
    public Linear? DenseHead => denseHead;

    /// <summary>Prefix of an attached source encoder's entries in <c>state_dict</c> (bundles keep them in their own file).</summary>
    public const string SourceEncoderPrefix = "source_encoder.";

    /// <summary>
    /// The pretrained encoder read in place of the T5 encoder (<see cref="AttachSourceEncoder"/>),
    /// or null. A model fine-tuned from an index bundle learned on a pretrained encoder reads
    /// its sources the way the indexer read the items.
    /// </summary>
    public PretrainedSourceEncoder? SourceEncoder { get; private set; }

    /// <summary>
    /// Reads sources with <paramref name="sourceEncoder"/> from now on. Its trainable parameters
    /// join the model's (an optimizer over <c>parameters()</c> trains them); the T5 encoder, no
    /// longer read, stops training.
    /// </summary>
    public void AttachSourceEncoder(PretrainedSourceEncoder sourceEncoder)
    {
        ArgumentNullException.ThrowIfNull(sourceEncoder);
        if (SourceEncoder is not null)
            throw new InvalidOperationException("The model already reads a pretrained source encoder.");
        if (sourceEncoder.Projected != Config.DModel)
            throw new ArgumentException($"The source encoder projects to {sourceEncoder.Projected}; the model is {Config.DModel} wide.", nameof(sourceEncoder));
        if (sourceItems is not null)
            throw new ArgumentException("A network with item vectors reads ID and item tokens, which a pretrained text encoder cannot read.", nameof(sourceEncoder));
        SourceEncoder = sourceEncoder;
        register_module(SourceEncoderPrefix.TrimEnd('.'), sourceEncoder);
        foreach (var p in encoder.parameters())
            p.requires_grad = false;
    }

    public Tensor Embed(Tensor tokenIds) => shared.forward(tokenIds); // [batch, len, d_model]

    /// <summary>Encodes token ids with a [batch, len] keep-mask, through the source encoder when one is attached. // [batch, len, d_model]</summary>
    public Tensor Encode(Tensor inputIds, Tensor attentionMask) =>
        SourceEncoder?.Encode(inputIds, attentionMask) ?? encoder.Forward(EmbedSource(inputIds), attentionMask);

    /// <summary>
    /// Source embeddings: tokens below the vocabulary size read the shared table, tokens above it
    /// the item table (<see cref="T5Config.SourceItemCount"/>). // [batch, len, d_model]
    /// </summary>
    public Tensor EmbedSource(Tensor tokenIds)
    {
        if (sourceItems is null)
            return Embed(tokenIds);
        // Each table is read on its own and the rows picked by token kind: stacking the two tables
        // would copy the whole item table on every call. Gradients reach both.
        var vocab = Config.VocabSize;
        using var isItem = tokenIds.Above(vocab - 1);                                  // [batch, len]
        using var pick = isItem.unsqueeze(-1);                                        // [batch, len, 1]
        using var textIds = tokenIds.AtMost(vocab - 1);
        using var shifted = tokenIds.Minus(vocab);
        using var itemIds = shifted.AtLeast(0L);
        using var text = shared.forward(textIds);                                     // [batch, len, d_model]
        using var items = sourceItems.forward(itemIds);                               // [batch, len, d_model]
        return torch.where(pick, items, text);                                         // [batch, len, d_model]
    }

    /// <summary>Encodes precomputed input embeddings (e.g. with ID vectors spliced in).</summary>
    public Tensor EncodeEmbeddings(Tensor inputsEmbeds, Tensor attentionMask) => encoder.Forward(inputsEmbeds, attentionMask);

    /// <summary>
    /// Decoder final hidden states (after the last RMSNorm and dropout, before the LM-head scale).
    /// With a cache, pass only the new tokens. // [batch, tgt, d_model]
    /// </summary>
    public Tensor Decode(Tensor decoderInputIds, Tensor encoderHidden, Tensor encoderMask, DecoderCache? cache = null, Tensor? decoderMask = null) =>
        decoder.Forward(Embed(decoderInputIds), decoderMask, encoderHidden, encoderMask, cache);

    /// <summary>Decoder over precomputed embeddings (the indexer feeds codebook vectors).</summary>
    public Tensor DecodeEmbeddings(Tensor decoderEmbeds, Tensor encoderHidden, Tensor encoderMask, DecoderCache? cache = null, Tensor? decoderMask = null) =>
        decoder.Forward(decoderEmbeds, decoderMask, encoderHidden, encoderMask, cache);

    /// <summary>Vocabulary logits; a tied head rescales by d_model^-0.5 as T5 does. // [batch, tgt, vocab]</summary>
    public Tensor LmLogits(Tensor decoderHidden)
    {
        if (lmHead is not null)
            return lmHead.forward(decoderHidden);
        var scaled = decoderHidden.Times(Math.Pow(Config.DModel, -0.5));
        return scaled.matmul(shared.weight!.t());
    }

    /// <summary>
    /// Dense item scores (<see cref="T5Config.DenseItemHead"/>): the decoder's first-step state,
    /// projected, dotted with every item vector and rescaled by d_model^-0.5 as the tied LM head
    /// is, so that scores start at unit scale. // [batch, items]
    /// </summary>
    public Tensor DenseItemLogits(Tensor firstStepHidden)
    {
        if (denseHead is null || sourceItems is null)
            throw new InvalidOperationException("The network has no dense item head (T5Config.DenseItemHead).");
        using var query = denseHead.forward(firstStepHidden);                           // [batch, d_model]
        using var scores = query.matmul(sourceItems.weight!.t());                      // [batch, items]
        return scores.Times(Math.Pow(Config.DModel, -0.5));
    }

    /// <summary>Full teacher-forced forward. // [batch, tgt, vocab]</summary>
    public Tensor Forward(Tensor inputIds, Tensor attentionMask, Tensor decoderInputIds)
    {
        var encoded = Encode(inputIds, attentionMask);
        return LmLogits(Decode(decoderInputIds, encoded, attentionMask));
    }

    /// <summary>Labels → decoder inputs: shift right and start with the decoder start token; −100 becomes pad.</summary>
    public Tensor ShiftRight(Tensor labels)
    {
        var start = TensorArithmetic.Full(labels.shape[0], 1, Config.DecoderStartTokenId, labels.dtype, labels.device);
        var shifted = torch.cat([start, labels[.., ..^1]], 1);
        return shifted.FilledWhere(shifted.EqualTo(IgnoreIndex), Config.PadTokenId);
    }

    /// <summary>
    /// Token-level cross-entropy averaged over labelled positions (−100 ignored); with
    /// <paramref name="labelSmoothing"/> ε the target is (1 − ε)·one-hot + ε·uniform over the vocabulary.
    /// </summary>
    public static Tensor SequenceLoss(Tensor logits, Tensor labels, double labelSmoothing = 0) =>
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]).to(ScalarType.Float32), labels.reshape(-1), ignore_index: IgnoreIndex, label_smoothing: labelSmoothing);

    /// <summary>Trainable parameter count.</summary>
    public long ParameterCount() => parameters().Sum(p => p.numel());
}
