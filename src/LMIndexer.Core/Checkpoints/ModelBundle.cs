using System.Security.Cryptography;
using System.Text.Json;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Checkpoints;

/// <summary>
/// A self-contained model directory: <c>model.safetensors</c> + <c>tokenizer.json</c> +
/// <c>manifest.json</c> (+ any extra files the task adds, e.g. an ID table; + the trained part of a
/// pretrained source encoder the model reads, whose frozen weights come from its package). Saved
/// into a temporary sibling and renamed, so a crash never leaves a half-written bundle.
/// </summary>
public sealed class ModelBundle : IDisposable
{
    public const string WeightsFile = "model.safetensors";
    public const string TokenizerFile = "tokenizer.json";
    public const string ManifestFile = "manifest.json";

    public ModelBundle(T5Model model, CatalogTokenizer tokenizer, BundleManifest manifest)
    {
        Model = model;
        Tokenizer = tokenizer;
        Manifest = manifest;
    }

    public T5Model Model { get; }
    public CatalogTokenizer Tokenizer { get; }
    public BundleManifest Manifest { get; }

    /// <summary>Writes the bundle; <paramref name="extraFiles"/> (name → writer) are written inside it too.</summary>
    public void Save(string directory, IReadOnlyDictionary<string, Action<string>>? extraFiles = null)
    {
        if (Model.SourceEncoder is { } sourceEncoder && Manifest.Properties.GetValueOrDefault(PretrainedSourceEncoder.EncoderProperty) != sourceEncoder.Package.Name)
            throw new InvalidOperationException($"The model reads the {sourceEncoder.Package.Name} encoder; the manifest must name it ('{PretrainedSourceEncoder.EncoderProperty}') for the bundle to load.");
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"Invalid bundle directory '{directory}'.", nameof(directory));
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            var tensors = OwnWeights(Model);
            SafeTensors.Save(Path.Combine(staging, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            if (Model.SourceEncoder is not null)
                SafeTensors.Save(Path.Combine(staging, PretrainedSourceEncoder.FileName), Model.SourceEncoder.TrainedWeights());
            Tokenizer.Save(Path.Combine(staging, TokenizerFile));
            File.WriteAllText(Path.Combine(staging, ManifestFile), JsonSerializer.Serialize(Manifest, BundleJson.Default.BundleManifest));
            if (extraFiles is not null)
            {
                foreach (var (name, write) in extraFiles)
                    write(Path.Combine(staging, name));
            }
            if (Directory.Exists(full))
            {
                var old = full + $".{Guid.NewGuid():N}.old";
                Directory.Move(full, old);
                Directory.Move(staging, full);
                Directory.Delete(old, recursive: true);
            }
            else
            {
                Directory.Move(staging, full);
            }
        }
        catch
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    /// <summary>Reads only the manifest (cheap; for <c>model info</c>).</summary>
    public static BundleManifest ReadManifest(string directory)
    {
        var path = Path.Combine(directory, ManifestFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{directory}' is not a model bundle: {ManifestFile} is missing.", path);
        BundleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllText(path), BundleJson.Default.BundleManifest);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid manifest ({e.Message}).", e);
        }
        if (manifest is null || manifest.Format != BundleManifest.CurrentFormat)
            throw new InvalidDataException($"{path}: unsupported bundle format '{manifest?.Format}', expected '{BundleManifest.CurrentFormat}'.");
        return manifest;
    }

    /// <summary>Whether <paramref name="directory"/> holds a bundle trained on data with this <see cref="HashOf"/> (reuse checks).</summary>
    public static bool IsTrainedOn(string directory, string trainingDataHash) =>
        File.Exists(Path.Combine(directory, ManifestFile)) && ReadManifest(directory).TrainingDataHash == trainingDataHash;

    /// <summary>
    /// Loads weights, vocabulary and manifest, and the pretrained source encoder the manifest names
    /// (attached to the model, unless <paramref name="withSourceEncoder"/> is false: then the model
    /// reads with its T5 encoder); the model comes back in eval mode on <paramref name="device"/>.
    /// </summary>
    public static ModelBundle Load(string directory, Device? device = null, bool withSourceEncoder = true)
    {
        var manifest = ReadManifest(directory);
        var tokenizer = CatalogTokenizer.Load(Path.Combine(directory, TokenizerFile));
        if (tokenizer.VocabSize != manifest.Config.VocabSize)
            throw new InvalidDataException($"{directory}: the tokenizer has {tokenizer.VocabSize} tokens but the model expects {manifest.Config.VocabSize}.");
        var model = new T5Model(manifest.Config);
        var (tensors, _) = SafeTensors.Load(Path.Combine(directory, WeightsFile));
        try
        {
            LoadWeights(model, tensors, directory);
            if (withSourceEncoder && PretrainedSourceEncoder.ForBundle(directory, manifest, tokenizer) is { } sourceEncoder)
                model.AttachSourceEncoder(sourceEncoder);
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
        if (device is not null)
            model.to(device);
        model.eval();
        return new ModelBundle(model, tokenizer, manifest);
    }

    /// <summary>Copies named tensors into the model, requiring an exact set of names and shapes (an attached source encoder loads from its own file).</summary>
    public static void LoadWeights(T5Model model, IReadOnlyDictionary<string, Tensor> tensors, string source)
    {
        var state = OwnWeights(model);
        var missing = state.Keys.Where(k => !tensors.ContainsKey(k)).ToArray();
        var unexpected = tensors.Keys.Where(k => !state.ContainsKey(k)).ToArray();
        if (missing.Length > 0 || unexpected.Length > 0)
            throw new InvalidDataException($"{source}: weights do not match the model (missing: {string.Join(", ", missing.Take(5))}; unexpected: {string.Join(", ", unexpected.Take(5))}).");
        using var noGrad = TorchSharp.torch.no_grad();
        foreach (var (name, target) in state)
        {
            var value = tensors[name];
            if (!value.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: '{name}' has shape [{string.Join(", ", value.shape)}], the model expects [{string.Join(", ", target.shape)}].");
            target.copy_(value.to(target.dtype));
        }
    }

    /// <summary>The weights a bundle's <see cref="WeightsFile"/> holds: all but an attached source encoder's, which has its own file.</summary>
    private static Dictionary<string, Tensor> OwnWeights(T5Model model) =>
        model.state_dict().Where(kv => !kv.Key.StartsWith(T5Model.SourceEncoderPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>SHA-256 (hex) of a sequence of strings, for <see cref="BundleManifest.TrainingDataHash"/>.</summary>
    public static string HashOf(IEnumerable<string> lines)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var line in lines)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(line));
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public void Dispose() => Model.Dispose();
}
