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
}
