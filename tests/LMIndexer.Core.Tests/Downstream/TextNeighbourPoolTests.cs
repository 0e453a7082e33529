using System.Numerics.Tensors;
using LMIndexer.Core.Downstream;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class TextNeighbourPoolTests : IDisposable
{
    private readonly TempDirectory scratch = new();

    public void Dispose() => scratch.Dispose();

    /// <summary>
    /// Product families: each family's texts lie near its own direction and its items' learned
    /// vectors near its own (random) vector, a relation no single linear map of the texts can
    /// follow once there are more families than text dimensions.
    /// </summary>
    private static (List<float[]> Texts, List<float[]> Items, List<int> Family) Families(int families, int perFamily, int seed)
    {
        const int textWidth = 8, itemWidth = 6;
        var random = new Random(seed);
        float[] Draw(int width, double scale) => [.. Enumerable.Range(0, width).Select(_ => (float)((random.NextDouble() - 0.5) * scale))];
        var textCentres = Enumerable.Range(0, families).Select(_ => Draw(textWidth, 2)).ToList();
        var itemCentres = Enumerable.Range(0, families).Select(_ => Draw(itemWidth, 2)).ToList();
        var texts = new List<float[]>();
        var items = new List<float[]>();
        var family = new List<int>();
        for (var f = 0; f < families; f++)
            for (var i = 0; i < perFamily; i++)
            {
                texts.Add([.. textCentres[f].Zip(Draw(textWidth, 0.05), (c, n) => c + n)]);
                items.Add([.. itemCentres[f].Zip(Draw(itemWidth, 0.05), (c, n) => c + n)]);
                family.Add(f);
            }
        return (texts, items, family);
    }

    [Fact]
    public void A_new_item_takes_its_text_family_s_vector_where_a_linear_map_cannot()
    {
        var (texts, items, family) = Families(families: 40, perFamily: 10, seed: 1);

        var pool = TextNeighbourPool.Fit(texts, items);
        var linear = ItemTextProjection.Fit("minilm", texts, items);

        Assert.True(pool.HeldOutCosine > 0.95, $"neighbours' held-out cosine {pool.HeldOutCosine}");
        Assert.True(pool.HeldOutCosine > linear.HeldOutCosine + 0.1, $"neighbours {pool.HeldOutCosine} vs linear {linear.HeldOutCosine}");
        // A text close to family 7's (not a training text): its vector is near family 7's items'.
        var fresh = texts[70].Select(v => v * 1.01f).ToArray();
        var composed = pool.Compose(fresh, items);
        Assert.True(TensorPrimitives.CosineSimilarity(composed, items[71]) > 0.95);
        Assert.All(pool.Nearest(fresh), n => Assert.Equal(7, family[n.Row]));
        Assert.Equal(1, pool.Nearest(fresh).Sum(n => n.Weight), 4);
    }

    [Fact]
    public void A_training_text_finds_its_own_item_first_and_nearer_items_weigh_more()
    {
        var (texts, items, _) = Families(families: 30, perFamily: 2, seed: 2);
        var pool = TextNeighbourPool.Fit(texts, items);

        var nearest = pool.Nearest(texts[12]);

        Assert.Equal(12, nearest[0].Row);
        Assert.Equal(Math.Min(pool.Neighbours, pool.Count), nearest.Count);
        Assert.All(nearest.Zip(nearest.Skip(1)), pair => Assert.True(pair.First.Weight >= pair.Second.Weight));
        var expected = new float[items[0].Length];
        foreach (var (row, weight) in nearest)
            TensorPrimitives.MultiplyAdd(items[row], weight, expected, expected);
        Assert.Equal(expected, pool.Compose(texts[12], items));
    }

    [Fact]
    public void The_pool_is_saved_with_the_projection_and_reads_back_the_same()
    {
        var (texts, items, _) = Families(families: 10, perFamily: 5, seed: 3);
        var projection = ItemTextProjection.Fit("arctic-xs", texts, items);
        projection.Save(scratch.Path);

        var loaded = ItemTextProjection.TryLoad(scratch.Path)!.Neighbours!;

        var pool = projection.Neighbours!;
        Assert.Equal((pool.Count, pool.TextDimension, pool.Neighbours, pool.Temperature, pool.HeldOutCosine),
            (loaded.Count, loaded.TextDimension, loaded.Neighbours, loaded.Temperature, loaded.HeldOutCosine));
        Assert.Equal(50, loaded.Count);
        Assert.Equal(pool.Nearest(texts[4]), loaded.Nearest(texts[4]));
    }

    [Fact]
    public void A_file_written_before_the_pool_existed_loads_without_one()
    {
        var (texts, items, _) = Families(families: 10, perFamily: 5, seed: 4);
        var projection = ItemTextProjection.Fit("minilm", texts, items);
        var path = scratch.File(ItemTextProjection.FileName);
        projection.Write(path);
        // Version 1 was version 2 without the trailing pool: the same header and map.
        var bytes = File.ReadAllBytes(path);
        var mapEnd = sizeof(int) + 1 + "minilm".Length + (2 * sizeof(int)) + (2 * sizeof(double)) + ((8 + 1) * 6 * sizeof(float));
        var old = bytes[..mapEnd];
        BitConverter.GetBytes(1).CopyTo(old, 0);
        File.WriteAllBytes(path, old);

        var loaded = ItemTextProjection.TryLoad(scratch.Path)!;

        Assert.Null(loaded.Neighbours);
        Assert.Equal(projection.Project(texts[3]), loaded.Project(texts[3]));
    }

    [Fact]
    public void Mismatched_or_too_few_vectors_are_refused()
    {
        var (texts, items, _) = Families(families: 5, perFamily: 6, seed: 5);
        Assert.Throws<ArgumentException>(() => TextNeighbourPool.Fit(texts, items.Take(29).ToList()));
        Assert.Throws<ArgumentException>(() => TextNeighbourPool.Fit(texts.Take(10).ToList(), items.Take(10).ToList()));
        var pool = TextNeighbourPool.Fit(texts, items);
        Assert.Throws<ArgumentException>(() => pool.Nearest(new float[3]));
    }
}
