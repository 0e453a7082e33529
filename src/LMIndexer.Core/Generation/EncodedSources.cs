using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>
/// Each model's encoding of a batch of sources and its first decoder state: what beam search
/// computes before its first token, and all a dense item head reads, so hybrid ranking takes them
/// from the search instead of encoding and decoding the first step a second time.
/// </summary>
internal sealed class EncodedSources
{
    private EncodedSources(Tensor[] memory, Tensor[] masks)
    {
        Memory = memory;
        Masks = masks;
        First = new Tensor[memory.Length];
    }

    /// <summary>Per model: the encoder's output. // [requests, src, d_model]</summary>
    public Tensor[] Memory { get; }

    /// <summary>Per model: the source mask. // [requests, src]</summary>
    public Tensor[] Masks { get; }

    /// <summary>Per model: the decoder's state after the start token, set by the first step. // [requests, d_model]</summary>
    public Tensor[] First { get; }

    /// <summary>
    /// Encodes the sources for every model. Each model reads the source tokens it has rows for: a
    /// plain `ids` recommender in an ensemble with an `ids+items` one reads the same histories
    /// without the item tokens, and items added after training have no token a network can read.
    /// </summary>
    public static EncodedSources Encode(IReadOnlyList<T5Model> models, IReadOnlyList<int[]> sources)
    {
        var padId = models[0].Config.PadTokenId;
        var device = models[0].Shared.weight!.device;
        var batches = models.Select(ReadableLimit).Distinct()
            .ToDictionary(limit => limit, limit => TokenBatch.Pad(Readable(sources, limit), padId, device));
        var views = models.Select(m => batches[ReadableLimit(m)]).ToArray();            // per model: [requests, src] ids and mask
        return new EncodedSources(
            [.. models.Select((m, i) => m.Encode(views[i].Ids, views[i].Mask))],
            [.. views.Select(view => view.Mask)]);
    }

    /// <summary>Decodes the start token for every model (what beam search's first step does), when no search ran.</summary>
    public EncodedSources DecodeFirst(IReadOnlyList<T5Model> models)
    {
        for (var m = 0; m < models.Count; m++)
        {
            var start = TensorArithmetic.Full(Memory[m].shape[0], 1, models[m].Config.DecoderStartTokenId, ScalarType.Int64, Memory[m].device); // [requests, 1]
            First[m] = models[m].Decode(start, Memory[m], Masks[m])[.., 0];                                                                     // [requests, d_model]
        }
        return this;
    }

    /// <summary>Keeps the tensors past the dispose scope they were made in (the caller's scope owns them).</summary>
    public void MoveToOuterDisposeScope()
    {
        // Models reading the same tokens share one mask: move each tensor once.
        foreach (var tensor in Memory.Concat(Masks).Concat(First).OfType<Tensor>().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
            tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Source tokens below this are ones the model has embeddings for (vocabulary, then its item vectors).</summary>
    private static int ReadableLimit(T5Model model) => model.Config.VocabSize + model.Config.SourceItemCount;

    private static IReadOnlyList<int[]> Readable(IReadOnlyList<int[]> sources, int limit) =>
        sources.All(source => source.All(token => token < limit)) ? sources : [.. sources.Select(source => source.Where(token => token < limit).ToArray())];
}
