using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LMIndexer.Core.Checkpoints;
using TorchSharp;

namespace LMIndexer.Core.Indexing;

/// <summary>Progress of an indexer run at a milestone boundary.</summary>
public sealed record IndexerProgressState(
    string Fingerprint,
    List<string> Completed,
    long[][] Codes,
    List<StageReport> Stages,
    List<double> KMeansInertia);

/// <summary>
/// Stage checkpoints of progressive training: after every milestone the whole indexer (backbone,
/// codebooks, reconstructor) and the progress are written atomically, so an interrupted run resumes
/// at the last finished milestone. A checkpoint is used only by a run with the same options and
/// items (its fingerprint).
/// </summary>
public sealed class IndexerCheckpoint(string directory)
{
    private const string WeightsFile = "indexer.safetensors";
    private const string StateFile = "progress.json";

    public string Directory { get; } = directory;

    public static string Fingerprint(SemanticIndexerOptions options, IReadOnlyList<int[]> itemTokens)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(options.ToString()));
        foreach (var tokens in itemTokens)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(string.Join(',', tokens)));
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public void Save(SemanticIndexerModel model, IndexerProgressState state)
    {
        System.IO.Directory.CreateDirectory(Directory);
        SafeTensors.Save(Path.Combine(Directory, WeightsFile), model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));
        var temp = Path.Combine(Directory, StateFile + ".tmp");
        File.WriteAllText(temp, JsonSerializer.Serialize(state, CheckpointJson.Default.IndexerProgressState));
        File.Move(temp, Path.Combine(Directory, StateFile), overwrite: true);
    }

    /// <summary>The saved progress when it belongs to this run (weights loaded into <paramref name="model"/>), else null.</summary>
    public IndexerProgressState? TryResume(SemanticIndexerModel model, string fingerprint)
    {
        var statePath = Path.Combine(Directory, StateFile);
        var weightsPath = Path.Combine(Directory, WeightsFile);
        if (!File.Exists(statePath) || !File.Exists(weightsPath))
            return null;
        IndexerProgressState? state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(statePath), CheckpointJson.Default.IndexerProgressState);
        }
        catch (JsonException)
        {
            return null;
        }
        if (state is null || state.Fingerprint != fingerprint)
            return null;
        var (tensors, _) = SafeTensors.Load(weightsPath);
        try
        {
            var target = model.state_dict();
            using var noGrad = torch.no_grad();
            foreach (var (name, tensor) in target)
            {
                if (!tensors.TryGetValue(name, out var saved) || !saved.shape.SequenceEqual(tensor.shape))
                    return null;
                tensor.copy_(saved);
            }
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
        return state;
    }

    /// <summary>Removes the checkpoint once its run has produced its outputs.</summary>
    public void Delete()
    {
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IndexerProgressState))]
internal sealed partial class CheckpointJson : JsonSerializerContext;
