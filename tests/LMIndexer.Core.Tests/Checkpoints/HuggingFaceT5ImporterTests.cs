using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Checkpoints;

public sealed class HuggingFaceT5ImporterTests
{
    // A checkpoint laid out as transformers' save_pretrained writes it (t5-small style config).
    private const string ConfigJson = """
        {
          "architectures": ["T5ForConditionalGeneration"], "model_type": "t5",
          "d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 2, "num_decoder_layers": 1, "num_heads": 4,
          "relative_attention_num_buckets": 8, "relative_attention_max_distance": 20,
          "dropout_rate": 0.1, "layer_norm_epsilon": 1e-06, "feed_forward_proj": "relu",
          "vocab_size": 40, "pad_token_id": 0, "eos_token_id": 1, "decoder_start_token_id": 0,
          "tie_word_embeddings": true
        }
        """;

    [Fact]
    public void Imports_hf_tensor_names_including_tied_duplicates_and_half_precision()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("config.json"), ConfigJson);
        var config = HuggingFaceT5Importer.ReadConfig(temp.File("config.json"));
        Assert.Equal(1, config.NumDecoderLayers);
        Assert.Equal(8, config.RelativeAttentionNumBuckets);

        torch.manual_seed(5);
        using var source = new T5Model(config);
        var hf = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in source.state_dict())
            hf[name] = name.Contains("DenseReluDense.wo", StringComparison.Ordinal) ? tensor.to(ScalarType.BFloat16) : tensor;
        // transformers writes the tied embedding under three names.
        hf["encoder.embed_tokens.weight"] = source.Shared.weight!;
        hf["decoder.embed_tokens.weight"] = source.Shared.weight!;
        hf["lm_head.weight"] = source.Shared.weight!;
        SafeTensors.Save(temp.File("model.safetensors"), hf, new Dictionary<string, string> { ["format"] = "pt" });

        var (raw, _) = SafeTensors.Load(temp.File("model.safetensors"));
        Assert.Equal(ScalarType.BFloat16, raw["encoder.block.0.layer.1.DenseReluDense.wo.weight"].dtype);
        using var imported = HuggingFaceT5Importer.Import(temp.Path);
        imported.eval();
        source.eval();
        Assert.Equal(source.state_dict().Count, imported.state_dict().Count);
        foreach (var (name, tensor) in imported.state_dict())
        {
            var expected = hf[name].to(ScalarType.Float32);
            Assert.True(tensor.allclose(expected, rtol: 0, atol: 0), $"{name} differs after import");
        }

        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.randint(2, 40, [2, 6], dtype: ScalarType.Int64);
        var mask = torch.ones_like(ids);
        var target = torch.randint(2, 40, [2, 3], dtype: ScalarType.Int64);
        var a = imported.Forward(ids, mask, target);
        Assert.Equal(new long[] { 2, 3, 40 }, a.shape);
        Assert.False(a.isnan().any().item<bool>());
    }

    [Fact]
    public void Unsupported_feed_forward_is_rejected_with_its_name()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("config.json"), ConfigJson.Replace("\"relu\"", "\"swiglu\"", StringComparison.Ordinal));
        var error = Assert.Throws<NotSupportedException>(() => HuggingFaceT5Importer.ReadConfig(temp.File("config.json")));
        Assert.Contains("swiglu", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_weights_file_is_reported()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("config.json"), ConfigJson);
        Assert.Throws<FileNotFoundException>(() => HuggingFaceT5Importer.Import(temp.Path));
    }
}
