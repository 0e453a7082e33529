using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Model;

public sealed class T5ModelTests
{
    private static T5Model TinyModel(long seed = 7)
    {
        torch.manual_seed(seed);
        var model = new T5Model(T5Config.Tiny(vocabSize: 50));
        model.eval();
        return model;
    }

    [Fact]
    public void Forward_shapes_follow_batch_target_and_vocab()
    {
        using var model = TinyModel();
        using var scope = NewDisposeScope();
        var input = torch.randint(3, 50, [2, 7], dtype: ScalarType.Int64);
        var mask = torch.ones(2, 7, dtype: ScalarType.Int64);
        var decoderInput = torch.randint(3, 50, [2, 4], dtype: ScalarType.Int64);
        var logits = model.Forward(input, mask, decoderInput);
        Assert.Equal(new long[] { 2, 4, 50 }, logits.shape);
        var hidden = model.Decode(decoderInput, model.Encode(input, mask), mask);
        Assert.Equal(new long[] { 2, 4, 64 }, hidden.shape);
    }

    [Fact]
    public void Kv_cache_decoding_matches_full_recompute()
    {
        using var model = TinyModel();
        using var scope = NewDisposeScope();
        var input = torch.randint(3, 50, [3, 9], dtype: ScalarType.Int64);
        var mask = torch.ones(3, 9, dtype: ScalarType.Int64);
        mask[2, 6..] = torch.tensor(0L); // padded source row
        var target = torch.randint(3, 50, [3, 5], dtype: ScalarType.Int64);
        using var noGrad = torch.no_grad();
        var encoded = model.Encode(input, mask);
        var full = model.LmLogits(model.Decode(target, encoded, mask)); // [3, 5, 50]

        using var cache = new DecoderCache(model.Decoder.LayerCount);
        for (var t = 0; t < 5; t++)
        {
            var step = model.LmLogits(model.Decode(target[.., t..(t + 1)], encoded, mask, cache)); // [3, 1, 50]
            Assert.Equal(t + 1, cache.Length);
            var expected = full[.., t..(t + 1)];
            var maxDiff = (step - expected).abs().max().item<float>();
            Assert.True(maxDiff < 1e-4f, $"step {t}: cached logits differ from recompute by {maxDiff}");
        }
    }

    [Fact]
    public void Decoder_is_causal_and_encoder_respects_padding()
    {
        using var model = TinyModel();
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var input = torch.randint(3, 50, [1, 6], dtype: ScalarType.Int64);
        var mask = torch.tensor(new long[] { 1, 1, 1, 1, 0, 0 }).unsqueeze(0);
        var changedPadding = input.clone();
        changedPadding[0, 4..] = torch.tensor(new long[] { 11, 12 });
        var a = model.Encode(input, mask);
        var b = model.Encode(changedPadding, mask);
        Assert.True((a[.., ..4] - b[.., ..4]).abs().max().item<float>() < 1e-5f, "padded tokens leaked into visible positions");

        var target = torch.tensor(new long[] { 0, 5, 6, 7 }).unsqueeze(0);
        var changedFuture = torch.tensor(new long[] { 0, 5, 9, 9 }).unsqueeze(0);
        var h1 = model.Decode(target, a, mask);
        var h2 = model.Decode(changedFuture, a, mask);
        Assert.True((h1[.., ..2] - h2[.., ..2]).abs().max().item<float>() < 1e-5f, "a decoder position saw a later token");
        Assert.True((h1[.., 2..] - h2[.., 2..]).abs().max().item<float>() > 1e-4f, "changing later tokens should change later positions");
    }

    [Fact]
    public void Source_item_tokens_read_their_own_vectors_and_leave_the_vocabulary_and_lm_head_alone()
    {
        torch.manual_seed(7);
        using var model = new T5Model(T5Config.Tiny(vocabSize: 50) with { SourceItemCount = 3 });
        model.eval();
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { 3, 64 }, model.SourceItems!.weight!.shape);
        var tokens = torch.tensor(new long[] { 4, 50, 4, 52 }).reshape(2, 2);         // token 4, then item 0 or item 2
        var embedded = model.EmbedSource(tokens);                                      // [2, 2, 64]
        Assert.Equal(0f, (embedded[.., 0] - model.Shared.weight![4]).abs().max().item<float>());
        Assert.Equal(0f, (embedded[0, 1] - model.SourceItems.weight![0]).abs().max().item<float>());
        Assert.Equal(0f, (embedded[1, 1] - model.SourceItems.weight![2]).abs().max().item<float>());

        // Only the items read get gradient; the LM head still scores the 50 vocabulary tokens.
        var mask = torch.ones(2, 2, dtype: ScalarType.Int64);
        var logits = model.Forward(tokens, mask, torch.zeros(2, 1, dtype: ScalarType.Int64));
        Assert.Equal(new long[] { 2, 1, 50 }, logits.shape);
        logits.sum().backward();
        var grad = model.SourceItems.weight!.grad!;
        Assert.True(grad[0].abs().sum().item<float>() > 0);
        Assert.Equal(0f, grad[1].abs().sum().item<float>());
        Assert.True(grad[2].abs().sum().item<float>() > 0);
        Assert.Throws<ArgumentException>(() => new T5Model(T5Config.Tiny(vocabSize: 50) with { SourceItemCount = -1 }));
    }

    [Fact]
    public void Dense_item_head_scores_every_item_vector_and_leaves_every_other_weight_as_drawn_without_it()
    {
        torch.manual_seed(9);
        using var plain = new T5Model(T5Config.Tiny(vocabSize: 50) with { SourceItemCount = 5 });
        torch.manual_seed(9);
        using var headed = new T5Model(T5Config.Tiny(vocabSize: 50) with { SourceItemCount = 5, DenseItemHead = true });
        headed.eval();
        using var scope = NewDisposeScope();

        // The head is drawn last: at one seed the two networks differ by the head alone (paired runs).
        var plainWeights = plain.state_dict();
        var headedWeights = headed.state_dict();
        Assert.Equal(["dense_head.weight"], headedWeights.Keys.Except(plainWeights.Keys));
        foreach (var (name, weight) in plainWeights)
            Assert.Equal(weight.data<float>().ToArray(), headedWeights[name].data<float>().ToArray());

        // Scores are (W·h)·e_item / √d for every item vector.
        var hidden = torch.randn(2, 64);                                               // [batch, d_model]
        var scores = headed.DenseItemLogits(hidden);                                   // [batch, items]
        Assert.Equal(new long[] { 2, 5 }, scores.shape);
        var expected = headed.DenseHead!.forward(hidden).matmul(headed.SourceItems!.weight!.t()).Times(1 / 8.0);
        Assert.True((scores - expected).abs().max().item<float>() < 1e-5f);

        Assert.Throws<InvalidOperationException>(() => plain.DenseItemLogits(hidden));
        Assert.Throws<ArgumentException>(() => new T5Model(T5Config.Tiny(vocabSize: 50) with { DenseItemHead = true }));
    }

    [Fact]
    public void Relative_position_buckets_match_hugging_face_formula()
    {
        // Values from HF's _relative_position_bucket (num_buckets 32, max_distance 128).
        long[] relative = [-200, -128, -64, -20, -9, -8, -7, -1, 0, 1, 2, 7, 8, 9, 20, 64, 128, 200];
        long[] bidirectional = [15, 15, 14, 10, 8, 8, 7, 1, 0, 17, 18, 23, 24, 24, 26, 30, 31, 31];
        long[] causal = [31, 31, 26, 17, 9, 8, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        using var positions = torch.tensor(relative);
        using var bi = RelativePositionBias.Bucket(positions, bidirectional: true, 32, 128);
        using var ca = RelativePositionBias.Bucket(positions, bidirectional: false, 32, 128);
        Assert.Equal(bidirectional, bi.data<long>().ToArray());
        Assert.Equal(causal, ca.data<long>().ToArray());
    }

    [Fact]
    public void Tied_lm_head_rescales_by_inverse_sqrt_d_model()
    {
        using var model = TinyModel();
        using var scope = NewDisposeScope();
        var hidden = torch.randn(1, 1, 64);
        var logits = model.LmLogits(hidden);
        var manual = hidden.matmul(model.Shared.weight!.t()).Over(Math.Sqrt(64));
        Assert.True((logits - manual).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Training_step_reduces_loss_on_a_copy_task()
    {
        torch.manual_seed(3);
        using var model = new T5Model(T5Config.Tiny(vocabSize: 20) with { DropoutRate = 0 });
        model.train();
        using var optimizer = torch.optim.AdamW(model.parameters(), lr: 3e-3);
        var source = torch.randint(3, 20, [16, 5], dtype: ScalarType.Int64);
        var mask = torch.ones(16, 5, dtype: ScalarType.Int64);
        var labels = source.clone();
        float first = 0, last = 0;
        for (var step = 0; step < 60; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = T5Model.SequenceLoss(model.Forward(source, mask, model.ShiftRight(labels)), labels);
            loss.backward();
            optimizer.step();
            if (step == 0)
                first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first * 0.5f, $"loss went from {first} to {last}");
    }

    [Fact]
    public void Label_smoothing_mixes_the_one_hot_target_with_a_uniform_one()
    {
        torch.manual_seed(5);
        var logits = torch.randn(2, 3, 7);                                   // [batch, tgt, vocab]
        var labels = torch.tensor(new long[] { 1, 4, T5Model.IgnoreIndex, 6, 0, 2 }).reshape(2, 3);
        const double epsilon = 0.2;
        var smoothed = T5Model.SequenceLoss(logits, labels, epsilon).item<float>();

        // By hand over the five labelled positions: (1 − ε)·(−log p_label) + ε·mean over the vocabulary of −log p.
        var logProbs = logits.log_softmax(-1).reshape(-1, 7);
        var flat = labels.reshape(-1);
        double total = 0;
        var count = 0;
        for (var i = 0; i < flat.shape[0]; i++)
        {
            var label = flat[i].item<long>();
            if (label == T5Model.IgnoreIndex)
                continue;
            var nll = -logProbs[i, label].item<float>();
            var uniform = -logProbs[i].mean().item<float>();
            total += ((1 - epsilon) * nll) + (epsilon * uniform);
            count++;
        }
        Assert.Equal(total / count, smoothed, 4);
        Assert.NotEqual(T5Model.SequenceLoss(logits, labels).item<float>(), smoothed, 3);
    }

    [Fact]
    public void Gated_gelu_variant_has_hugging_face_parameter_names()
    {
        using var model = new T5Model(T5Config.Tiny(30) with { FeedForward = FeedForwardKind.GatedGelu, TieWordEmbeddings = false });
        var names = model.state_dict().Keys.ToHashSet();
        Assert.Contains("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", names);
        Assert.Contains("decoder.block.1.layer.2.DenseReluDense.wi_1.weight", names);
        Assert.Contains("decoder.block.0.layer.1.EncDecAttention.q.weight", names);
        Assert.Contains("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", names);
        Assert.DoesNotContain("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.Contains("decoder.final_layer_norm.weight", names);
        // Only the Hugging Face names: no second alias per weight from reflection-registered fields.
        Assert.All(names, n => Assert.Matches(@"^(shared|lm_head|(encoder|decoder)\.(final_layer_norm|block\.\d+\.layer\.\d+\.(SelfAttention|EncDecAttention|DenseReluDense|layer_norm)))\.", n));
        Assert.Equal(model.parameters().Count(), names.Count);
    }
}
