using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Checkpoints;

public sealed class ModelBundleTests
{
    [Fact]
    public void Saved_bundle_reloads_with_bit_identical_outputs()
    {
        using var temp = new TempDirectory();
        var tokenizer = CatalogTokenizer.Build(["title: red lipstick, category: Makeup", "title: blue shampoo, category: Hair"], [4, 4]);
        torch.manual_seed(11);
        using var model = new T5Model(T5Config.Tiny(tokenizer.VocabSize));
        model.eval();
        var manifest = new BundleManifest { Version = "v1", Config = model.Config, TrainingDataHash = ModelBundle.HashOf(["a", "b"]) };
        var dir = Path.Combine(temp.Path, "bundle");
        new ModelBundle(model, tokenizer, manifest).Save(dir, new Dictionary<string, Action<string>> { ["ids.tsv"] = p => File.WriteAllText(p, "x\t1 2\n") });

        using var loaded = ModelBundle.Load(dir);
        Assert.Equal("v1", loaded.Manifest.Version);
        Assert.Equal(model.Config, loaded.Manifest.Config);
        Assert.Equal(manifest.TrainingDataHash, loaded.Manifest.TrainingDataHash);
        Assert.True(File.Exists(Path.Combine(dir, "ids.tsv")));
        Assert.Empty(Directory.GetDirectories(temp.Path, ".*"));

        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = torch.tensor(tokenizer.EncodeWithEos("title: red shampoo", 16).Select(i => (long)i).ToArray()).unsqueeze(0);
        var mask = torch.ones_like(ids);
        var target = torch.tensor(new long[] { 0, tokenizer.IdToken(0, 1), tokenizer.IdToken(1, 2) }).unsqueeze(0);
        var expected = model.Forward(ids, mask, target);
        var actual = loaded.Model.Forward(ids, mask, target);
        Assert.Equal(expected.bytes.ToArray(), actual.bytes.ToArray());
    }

    [Fact]
    public void Loading_a_directory_without_manifest_fails_clearly()
    {
        using var temp = new TempDirectory();
        var error = Assert.Throws<FileNotFoundException>(() => ModelBundle.Load(temp.Path));
        Assert.Contains("not a model bundle", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mismatched_weights_are_reported_by_name()
    {
        using var model = new T5Model(T5Config.Tiny(10));
        using var other = new T5Model(T5Config.Tiny(12));
        var tensors = other.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        var error = Assert.Throws<InvalidDataException>(() => ModelBundle.LoadWeights(model, tensors, "test"));
        Assert.Contains("shared.weight", error.Message, StringComparison.Ordinal);
    }
}
