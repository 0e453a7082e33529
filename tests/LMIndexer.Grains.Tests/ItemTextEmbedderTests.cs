using LMIndexer.Grains.Search;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Tests;

public sealed class ItemTextEmbedderTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("lmindexer-search-vectors-");

    private static readonly string[] Texts = ["OPI Nail Lacquer, Big Apple Red", "Cetaphil Gentle Skin Cleanser", "tweezers"];

    private IOptions<SearchOptions> Options(string encoder = "minilm") =>
        Microsoft.Extensions.Options.Options.Create(new SearchOptions { Encoder = encoder, VectorCacheDirectory = folder.FullName });

    [Fact]
    public void A_restarted_silo_reads_the_item_vectors_it_embedded_instead_of_embedding_again()
    {
        float[][] first;
        using (var embedder = new ItemTextEmbedder(Options()))
        {
            first = embedder.EmbedItems(Texts);
            Assert.True(embedder.EncoderLoaded);
            Assert.Equal(3, embedder.KeptVectors!.Count);
        }
        using (var restarted = new ItemTextEmbedder(Options()))
        {
            var again = restarted.EmbedItems(Texts);
            Assert.False(restarted.EncoderLoaded);   // every vector came from the file
            Assert.Equal(first, again);
            // A new text is embedded and kept beside the others; the kept ones are not embedded again.
            var mixed = restarted.EmbedItems(["Revlon One-Step Hair Dryer", Texts[1]]);
            Assert.True(restarted.EncoderLoaded);
            Assert.Equal(first[1], mixed[1]);
            Assert.Equal(4, restarted.KeptVectors!.Count);
        }
        // Another encoder keeps its own file, never this one's vectors.
        using var other = new ItemTextEmbedder(Options("arctic-xs"));
        Assert.Equal(0, other.KeptVectors!.Count);
        Assert.Equal(2, Directory.GetFiles(folder.FullName).Length);
    }

    [Fact]
    public void A_file_another_process_holds_leaves_the_silo_embedding_without_it()
    {
        using var holder = new ItemTextEmbedder(Options());
        Assert.NotNull(holder.KeptVectors);
        using var second = new ItemTextEmbedder(Options());
        Assert.Null(second.KeptVectors);
        Assert.Equal(3, second.EmbedItems(Texts).Length);
    }

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public void A_fine_tuned_model_is_served_in_place_of_the_packaged_weights_with_vectors_of_its_own()
    {
        var package = Core.Encoders.PretrainedEncoderPackage.MiniLm;
        using var bert = new Core.Model.Bert.BertModel(package.Config);
        Core.Model.Bert.BertWeights.Load(bert, Core.Model.Bert.BertWeights.FromOnnx(Core.Encoders.OnnxGraph.Parse(package.ReadModel())));
        using (TorchSharp.torch.no_grad())
            bert.named_parameters().Single(p => p.name == "encoder.layer.5.output.dense.bias").parameter.zero_();   // a change a fine-tuning could make
        var tuned = Path.Combine(folder.FullName, "tuned.onnx");
        File.WriteAllBytes(tuned, Core.Model.Bert.BertWeights.WriteIntoOnnx(package.ReadModel(), bert));

        var options = Microsoft.Extensions.Options.Options.Create(new SearchOptions { Encoder = "minilm", EncoderModel = tuned, VectorCacheDirectory = folder.FullName });
        Assert.True(new SearchOptionsValidator().Validate(null, options.Value).Succeeded);
        using var served = new ItemTextEmbedder(options);
        using var packaged = new ItemTextEmbedder(Options());
        var mine = served.EmbedItems(Texts);
        var theirs = packaged.EmbedItems(Texts);
        Assert.All(mine.Zip(theirs), pair => Assert.True(pair.First.Zip(pair.Second, (a, b) => (double)a * b).Sum() < 1 - 1e-4, "the tuned model's own vectors"));
        Assert.NotEqual(served.KeptVectors!.Path, packaged.KeptVectors!.Path);   // kept apart: neither reads the other's vectors

        var missing = new SearchOptions { Encoder = "minilm", EncoderModel = Path.Combine(folder.FullName, "missing.onnx") };
        Assert.Contains("Search:EncoderModel names no file", string.Join(" ", new SearchOptionsValidator().Validate(null, missing).Failures!));
    }
}
