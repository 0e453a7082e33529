using LMIndexer.Core.Encoders;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing.ResidualQuantization;

/// <summary>
/// Codes item texts with a saved rq-VAE: the sentence vectors the bundle's method read in training
/// (the packaged encoder's, or the backbone's pooled states for t5-scratch), then the model's codes.
/// </summary>
public sealed class RqVaeItemCoder : IDisposable
{
    private readonly ResidualQuantizerVae model;
    private readonly OnnxSentenceEncoder? sentences;
    private readonly ModelBundle bundle;

    public RqVaeItemCoder(string directory, ModelBundle bundle, int levels, int codebookSize)
    {
        this.bundle = bundle;
        var properties = bundle.Manifest.Properties;
        var package = TextEncoders.Package(properties.GetValueOrDefault(PretrainedSourceEncoder.EncoderProperty, TextEncoders.T5Scratch));
        sentences = package is null ? null : new OnnxSentenceEncoder(package, threads: torch.get_num_threads());
        var inputDim = sentences?.Dimension ?? bundle.Model.Config.DModel;
        try
        {
            model = RqVaeCodeAssigner.Load(directory, properties, inputDim, levels, codebookSize);
        }
        catch
        {
            sentences?.Dispose();
            throw;
        }
    }

    /// <summary>Codes of the texts. // [texts][levels]</summary>
    public long[][] Codes(IReadOnlyList<string> texts, int maxTokens)
    {
        using var scope = NewDisposeScope();
        var embeddings = sentences is null
            ? ItemEmbeddings.Encode(bundle.Model, [.. texts.Select(t => bundle.Tokenizer.EncodeWithEos(t, maxTokens))])
            : SemanticIndexing.SentenceEmbeddings(sentences, texts);
        return model.Codes(embeddings);
    }

    public void Dispose()
    {
        model.Dispose();
        sentences?.Dispose();
    }
}
