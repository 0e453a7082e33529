using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Downstream;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Research.Recommendation;

/// <summary>
/// A SASRec training run at its last validation: weights, the best weights so far, Adam's moments,
/// the dropout generator and the validation curve, so that a run stopped part-way (a session's end,
/// a crash) resumes there and ends with the weights an uninterrupted run would have. Each save goes
/// to a folder of its own; <c>state.json</c>, written last, names the complete one.
/// </summary>
internal sealed class SasRecCheckpoint(string directory)
{
    private const string StateFile = "state.json", WeightsFile = "weights.safetensors", BestFile = "best.safetensors", OptimizerFile = "optimizer.bin", GeneratorFile = "generator.safetensors";
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Where training stood: steps done, the curve so far, the best step and figure, and seconds spent.</summary>
    public sealed record Progress(int Step, IReadOnlyList<ValidationPoint> Validations, int BestStep, double BestMetric, double Seconds);

    public void Save(nn.Module model, IReadOnlyDictionary<string, Tensor>? best, TorchSharp.Modules.OptimizerHelper optimizer, Generator generator, Progress progress)
    {
        var folder = Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"step-{progress.Step}"));
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        SafeTensors.Save(Path.Combine(folder, WeightsFile), model.state_dict());
        if (best is not null)
            SafeTensors.Save(Path.Combine(folder, BestFile), best.ToDictionary());
        optimizer.save_state_dict(Path.Combine(folder, OptimizerFile));
        using (var state = generator.get_state())
            SafeTensors.Save(Path.Combine(folder, GeneratorFile), new Dictionary<string, Tensor> { ["state"] = state });
        var statePath = Path.Combine(directory, StateFile);
        File.WriteAllText(statePath + ".tmp", JsonSerializer.Serialize(new Saved(Path.GetFileName(folder), progress), Json));
        File.Move(statePath + ".tmp", statePath, overwrite: true);   // the commit
        foreach (var older in Directory.GetDirectories(directory, "step-*").Where(d => Path.GetFileName(d) != Path.GetFileName(folder)))
            Directory.Delete(older, recursive: true);
    }

    /// <summary>
    /// Loads the last complete save into <paramref name="model"/>, <paramref name="optimizer"/> and
    /// <paramref name="generator"/>; null (and nothing loaded) when there is none.
    /// </summary>
    public Progress? TryResume(nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, Generator generator, out Dictionary<string, Tensor>? best)
    {
        best = null;
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath))
            return null;
        var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(statePath), Json) ?? throw new InvalidDataException($"{statePath} is empty.");
        var folder = Path.Combine(directory, saved.Folder);
        var device = model.parameters().First().device;
        SasRecStore.LoadWeights(model, Path.Combine(folder, WeightsFile));
        optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
        var (state, _) = SafeTensors.Load(Path.Combine(folder, GeneratorFile));
        generator.set_state(state["state"]);
        state["state"].Dispose();
        if (File.Exists(Path.Combine(folder, BestFile)))
            best = SafeTensors.Load(Path.Combine(folder, BestFile)).Item1.ToDictionary(kv => kv.Key, kv => kv.Value.to(device).DetachFromDisposeScope());
        return saved.Progress;
    }

    /// <summary>Removes the checkpoint once the run's outcome is saved.</summary>
    public void Delete()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    private sealed record Saved(string Folder, Progress Progress);
}
