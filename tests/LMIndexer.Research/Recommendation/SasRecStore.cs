using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Runtime;
using TorchSharp;

namespace LMIndexer.Research.Recommendation;

/// <summary>
/// Trained SASRecs on disk, one folder per settings and seed, so a grid too large for one process
/// trains across several (or across days) and is chosen later on validation by a run that loads
/// every candidate: the choice still happens before any test decode, in one place.
/// </summary>
public static class SasRecStore
{
    public const string WeightsFile = "model.safetensors";
    public const string RecordFile = "sasrec.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// The folder under <paramref name="root"/> for these settings over these items: the main settings
    /// in its name for people, a hash of every setting and of the item list so no two runs share one.
    /// </summary>
    public static string Folder(string root, SasRecOptions options, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(options);
        var model = options.Model ?? throw new ArgumentException("The options need a model configuration.", nameof(options));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(options) + "\n" + ItemFingerprint(itemIds))))[..10];
        return Path.Combine(root, string.Create(CultureInfo.InvariantCulture,
            $"d{model.Hidden}-l{model.Layers}-h{model.Heads}-drop{model.Dropout:G3}-lr{options.LearningRate:G3}-len{model.MaxLength}-steps{options.Steps}{(options.Refit ? "-refit" : "")}-seed{options.Seed}-{hash}"));
    }

    /// <summary>Writes the kept weights and what training saw; the record is written last, so a folder without it is not a model.</summary>
    public static void Save(string folder, SasRecOptions options, SasRecOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(outcome);
        Directory.CreateDirectory(folder);
        var record = Path.Combine(folder, RecordFile);
        File.Delete(record);
        SafeTensors.Save(Path.Combine(folder, WeightsFile), outcome.Model.state_dict());
        var text = JsonSerializer.Serialize(new Record(options, ItemFingerprint(outcome.ItemIds), outcome.Validations, outcome.BestStep, outcome.Seconds), Json);
        File.WriteAllText(record + ".tmp", text);
        File.Move(record + ".tmp", record, overwrite: true);
    }

    /// <summary>
    /// The SASRec saved in <paramref name="folder"/> when it was trained with exactly these settings
    /// over exactly these items; null when there is none or it differs in anything.
    /// </summary>
    public static SasRecOutcome? TryLoad(string folder, SasRecOptions options, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = Path.Combine(folder, RecordFile);
        if (!File.Exists(path))
            return null;
        var record = JsonSerializer.Deserialize<Record>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path} is empty.");
        if (record.Options != options || record.Items != ItemFingerprint(itemIds))   // the options' equality compares their model too
            return null;
        var model = new SasRecModel(options.Model!);
        try
        {
            LoadWeights(model, Path.Combine(folder, WeightsFile));
            model.to(TorchRuntime.Device);
            model.eval();
            return new SasRecOutcome(model, itemIds, record.Validations, record.BestStep, record.Seconds);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads a safetensors file into <paramref name="model"/>, strictly: a missing or extra parameter throws.</summary>
    internal static void LoadWeights(torch.nn.Module model, string path)
    {
        var (tensors, _) = SafeTensors.Load(path);
        try
        {
            model.load_state_dict(tensors);
        }
        finally
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
        }
    }

    private static string ItemFingerprint(IReadOnlyList<string> itemIds) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', itemIds))));

    private sealed record Record(SasRecOptions Options, string Items, IReadOnlyList<ValidationPoint> Validations, int BestStep, double Seconds);
}
