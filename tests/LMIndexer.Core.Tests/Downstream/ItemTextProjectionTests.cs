using System.Numerics.Tensors;
using LMIndexer.Core.Downstream;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class ItemTextProjectionTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"projection-{Guid.NewGuid():N}");

    public ItemTextProjectionTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Items whose learned vectors are a fixed linear map of their text vectors plus a bias and some noise.</summary>
    private static (List<float[]> Texts, List<float[]> Items, Func<float[], float[]> Truth) LinearCatalog(int count, double noise, int seed)
    {
        const int textWidth = 12, itemWidth = 5;
        var random = new Random(seed);
        double Draw() => random.NextDouble() - 0.5;
        var map = Enumerable.Range(0, textWidth * itemWidth).Select(_ => (float)Draw()).ToArray();
        var bias = Enumerable.Range(0, itemWidth).Select(_ => (float)Draw()).ToArray();
        float[] Truth(float[] text) => [.. Enumerable.Range(0, itemWidth).Select(j => bias[j] + Enumerable.Range(0, textWidth).Sum(i => text[i] * map[(i * itemWidth) + j]))];
        var texts = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, textWidth).Select(_ => (float)Draw()).ToArray()).ToList();
        var items = texts.Select(t => Truth(t).Select(v => v + (float)(noise * Draw())).ToArray()).ToList();
        return (texts, items, Truth);
    }

    [Fact]
    public void A_linear_relation_is_recovered_for_texts_it_never_saw()
    {
        var (texts, items, truth) = LinearCatalog(400, noise: 0.01, seed: 1);
        var projection = ItemTextProjection.Fit("minilm", texts, items);

        var unseen = LinearCatalog(50, noise: 0, seed: 1).Texts.Select(t => t.Select(v => -v).ToArray());   // other points of the same space
        foreach (var text in unseen)
        {
            var projected = projection.Project(text);
            var expected = truth(text);
            Assert.All(projected.Zip(expected), pair => Assert.Equal(pair.Second, pair.First, 0.02));
        }
        Assert.True(projection.HeldOutCosine > 0.99, $"held-out cosine {projection.HeldOutCosine}");
        Assert.Equal(ItemTextProjection.RidgeGrid[0], projection.Ridge);   // little noise: the weakest shrinkage wins
    }

    [Fact]
    public void Noisy_targets_choose_more_shrinkage_on_the_held_out_items()
    {
        // Pure noise as targets, nearly as many text dimensions as items: any fitted slope is overfitting.
        var random = new Random(2);
        var texts = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, 120).Select(_ => (float)random.NextDouble()).ToArray()).ToList();
        var items = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray()).ToList();

        var projection = ItemTextProjection.Fit("minilm", texts, items);

        Assert.True(projection.Ridge >= 1, $"ridge {projection.Ridge}");
    }

    [Fact]
    public void A_saved_projection_loads_with_the_same_map_and_a_bundle_without_one_has_none()
    {
        var (texts, items, _) = LinearCatalog(100, noise: 0.05, seed: 3);
        var projection = ItemTextProjection.Fit("arctic-xs", texts, items);
        projection.Save(directory);

        var loaded = ItemTextProjection.TryLoad(directory)!;

        Assert.Equal(("arctic-xs", 12, 5, projection.Ridge, projection.HeldOutCosine), (loaded.Encoder, loaded.TextDimension, loaded.ItemDimension, loaded.Ridge, loaded.HeldOutCosine));
        Assert.Equal(projection.Project(texts[7]), loaded.Project(texts[7]));
        Assert.Null(ItemTextProjection.TryLoad(Path.Combine(directory, "elsewhere")));
    }

    [Fact]
    public void Mismatched_or_too_few_vectors_are_refused()
    {
        var (texts, items, _) = LinearCatalog(30, noise: 0, seed: 4);
        Assert.Throws<ArgumentException>(() => ItemTextProjection.Fit("minilm", texts, items.Take(29).ToList()));
        Assert.Throws<ArgumentException>(() => ItemTextProjection.Fit("minilm", texts.Take(10).ToList(), items.Take(10).ToList()));
        var projection = ItemTextProjection.Fit("minilm", texts, items);
        Assert.Throws<ArgumentException>(() => projection.Project(new float[3]));
        Assert.True(TensorPrimitives.Norm(projection.Project(texts[0])) > 0);
    }
}
