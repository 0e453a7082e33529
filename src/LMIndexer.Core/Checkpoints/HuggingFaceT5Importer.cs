using System.Text.Json.Nodes;
using LMIndexer.Core.Model;
using static TorchSharp.torch;

namespace LMIndexer.Core.Checkpoints;

/// <summary>
/// Maps a Hugging Face <c>T5ForConditionalGeneration</c> checkpoint (<c>config.json</c> +
/// <c>model.safetensors</c>) onto <see cref="T5Model"/>. Our parameter names are HF's, so the map is
/// the identity apart from HF's duplicated tied embeddings (<c>encoder.embed_tokens</c>,
/// <c>decoder.embed_tokens</c>, and <c>lm_head</c> when tied), which are dropped.
/// </summary>
public static class HuggingFaceT5Importer
{
    /// <summary>Reads a HF config.json into our config.</summary>
    public static T5Config ReadConfig(string configPath)
    {
        var json = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject()
            ?? throw new InvalidDataException($"{configPath}: empty config.");
        int Int(string name, int fallback) => json[name]?.GetValue<int>() ?? fallback;
        var dModel = Int("d_model", 512);
        var layers = Int("num_layers", 6);
        var feedForward = (json["feed_forward_proj"]?.GetValue<string>() ?? "relu") switch
        {
            "relu" => FeedForwardKind.Relu,
            "gated-gelu" => FeedForwardKind.GatedGelu,
            var other => throw new NotSupportedException($"{configPath}: feed_forward_proj '{other}' is not supported (relu, gated-gelu)."),
        };
        return new T5Config
        {
            VocabSize = Int("vocab_size", 32128),
            DModel = dModel,
            DKv = Int("d_kv", 64),
            DFf = Int("d_ff", 2048),
            NumLayers = layers,
            NumDecoderLayers = json["num_decoder_layers"]?.GetValue<int?>() ?? layers,
            NumHeads = Int("num_heads", 8),
            RelativeAttentionNumBuckets = Int("relative_attention_num_buckets", 32),
            RelativeAttentionMaxDistance = Int("relative_attention_max_distance", 128),
            DropoutRate = json["dropout_rate"]?.GetValue<double>() ?? 0.1,
            LayerNormEpsilon = json["layer_norm_epsilon"]?.GetValue<double>() ?? 1e-6,
            FeedForward = feedForward,
            TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? true,
            PadTokenId = Int("pad_token_id", 0),
            EosTokenId = Int("eos_token_id", 1),
            DecoderStartTokenId = Int("decoder_start_token_id", 0),
        };
    }

    /// <summary>Imports a checkpoint directory holding config.json and model.safetensors.</summary>
    public static T5Model Import(string directory)
    {
        var config = ReadConfig(Path.Combine(directory, "config.json"));
        var weightsPath = Path.Combine(directory, "model.safetensors");
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"{directory}: model.safetensors is missing (convert pytorch_model.bin to safetensors first).", weightsPath);
        var (tensors, _) = SafeTensors.Load(weightsPath);
        var model = new T5Model(config);
        try
        {
            var mapped = Map(tensors, config);
            ModelBundle.LoadWeights(model, mapped, weightsPath);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
        return model;
    }

    /// <summary>HF tensor names → ours; float16/bfloat16 weights are widened to float32.</summary>
    public static Dictionary<string, Tensor> Map(IReadOnlyDictionary<string, Tensor> hf, T5Config config)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in hf)
        {
            if (name is "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight")
                continue;
            if (name == "lm_head.weight" && config.TieWordEmbeddings)
                continue;
            result[name] = tensor.dtype == ScalarType.Float32 ? tensor : tensor.to(ScalarType.Float32);
        }
        if (!result.ContainsKey("shared.weight") && hf.TryGetValue("encoder.embed_tokens.weight", out var embed))
            result["shared.weight"] = embed.to(ScalarType.Float32);
        return result;
    }
}
