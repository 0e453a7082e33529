using LMIndexer.Core.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model.Bert;

/// <summary>Word + absolute position + token type embeddings, then LayerNorm (Hugging Face's BertEmbeddings).</summary>
public sealed class BertEmbeddings : NamedModule<Tensor, Tensor>
{
    private readonly BertConfig config;
    private readonly Embedding words;
    private readonly Embedding positions;
    private readonly Embedding tokenTypes;
    private readonly LayerNorm norm;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        this.config = config;
        words = nn.Embedding(config.VocabSize, config.HiddenSize);
        positions = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        tokenTypes = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        norm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        register_module("word_embeddings", words);
        register_module("position_embeddings", positions);
        register_module("token_type_embeddings", tokenTypes);
        register_module("LayerNorm", norm);
    }

    /// <summary>The word embedding table [vocab, hidden]: what a decoder can tie its input to.</summary>
    public Embedding Words => words;

    /// <param name="inputIds">[batch, tokens]; every text is one segment (token type 0).</param>
    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        var positionIds = TensorArithmetic.Range(inputIds.shape[1], inputIds.device).unsqueeze(0);                   // [1, tokens]
        var sum = words.forward(inputIds).Plus(positions.forward(positionIds)).Plus(tokenTypes.forward(zeros_like(inputIds)));   // [batch, tokens, hidden]
        return TrainOnlyDropout.Apply(norm.forward(sum), config.HiddenDropoutProb, training).MoveToOuterDisposeScope();
    }
}
