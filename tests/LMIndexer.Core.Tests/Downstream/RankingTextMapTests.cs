using LMIndexer.Core.Downstream;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class RankingTextMapTests : IDisposable
{
    private const int TextWidth = 12, ItemWidth = 6;
    private readonly string directory = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"ranking-map-{Guid.NewGuid():N}");

    public RankingTextMapTests() => Directory.CreateDirectory(directory);

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>
    /// Learned item vectors that the texts say nothing about, and queries that read both an item's
    /// learned vector and a linear function of its text: ridge regression onto the vectors can only
    /// learn their mean, while what the queries read of the text can be learned from the ranking.
    /// </summary>
    private static (List<float[]> Texts, List<float[]> Items, DenseHeadExamples Examples) QueryReadsText(int items, int perItem, int seed)
    {
        var random = new Random(seed);
        float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var texts = Enumerable.Range(0, items).Select(_ => Enumerable.Range(0, TextWidth).Select(_ => Normal()).ToArray()).ToList();
        var vectors = Enumerable.Range(0, items).Select(_ => Enumerable.Range(0, ItemWidth).Select(_ => Normal()).ToArray()).ToList();
        var reads = Enumerable.Range(0, ItemWidth * TextWidth).Select(_ => Normal() / MathF.Sqrt(TextWidth)).ToArray();
        var targets = Enumerable.Range(0, items * perItem).Select(n => n % items).ToArray();
        var queries = targets.SelectMany(t => Enumerable.Range(0, ItemWidth).Select(j =>
            vectors[t][j] + (2 * Enumerable.Range(0, TextWidth).Sum(i => reads[(j * TextWidth) + i] * texts[t][i])) + (0.3f * Normal()))).ToArray();
        return (texts, vectors, new DenseHeadExamples(ItemWidth, queries, targets));
    }

    [Fact]
    public void Trained_on_the_ranking_the_map_ranks_held_out_items_above_where_the_ridge_map_puts_them()
    {
        var (texts, items, examples) = QueryReadsText(items: 300, perItem: 40, seed: 1);

        var projection = ItemTextProjection.Fit("minilm", texts, items, denseHead: examples);

        var report = projection.Ranking!;
        Assert.Equal(1200, report.HeldOutExamples);   // a tenth of the items, forty examples each
        Assert.InRange(report.Epochs, 1, RankingMapReport.MaxEpochs);
        Assert.True(report.Recall > report.RidgeRecall + 0.2, $"held-out recall@10: ranking map {report.Recall}, ridge {report.RidgeRecall}");
        Assert.True(report.Mrr > report.RidgeMrr, $"held-out MRR: ranking map {report.Mrr}, ridge {report.RidgeMrr}");
        Assert.NotEqual(projection.Project(texts[0]), projection.ProjectForRanking(texts[0])!);
    }

    [Fact]
    public void Without_the_dense_heads_examples_there_is_no_ranking_map()
    {
        var (texts, items, _) = QueryReadsText(items: 40, perItem: 1, seed: 2);

        var projection = ItemTextProjection.Fit("minilm", texts, items);

        Assert.Null(projection.Ranking);
        Assert.Null(projection.ProjectForRanking(texts[0]));
    }

    [Fact]
    public void The_ranking_map_is_saved_with_the_projection_and_a_file_from_before_it_loads_without_one()
    {
        var (texts, items, examples) = QueryReadsText(items: 100, perItem: 5, seed: 3);
        var projection = ItemTextProjection.Fit("minilm", texts, items, denseHead: examples);
        projection.Save(directory);

        var loaded = ItemTextProjection.TryLoad(directory)!;

        Assert.Equal(projection.Ranking, loaded.Ranking);
        Assert.Equal(projection.ProjectForRanking(texts[5]), loaded.ProjectForRanking(texts[5]));
        Assert.Equal(projection.Project(texts[5]), loaded.Project(texts[5]));
        Assert.NotNull(loaded.Neighbours);

        // Format 2 was format 3 without the trailing ranking flag and map.
        var plain = ItemTextProjection.Fit("minilm", texts, items);
        var path = Path.Combine(directory, ItemTextProjection.FileName);
        plain.Write(path);
        var bytes = File.ReadAllBytes(path)[..^1];
        BitConverter.GetBytes(2).CopyTo(bytes, 0);
        File.WriteAllBytes(path, bytes);
        var old = ItemTextProjection.TryLoad(directory)!;
        Assert.Null(old.Ranking);
        Assert.NotNull(old.Neighbours);
        Assert.Equal(plain.Project(texts[5]), old.Project(texts[5]));
    }

    [Fact]
    public void Queries_of_another_width_or_items_outside_the_catalog_are_refused()
    {
        var (texts, items, examples) = QueryReadsText(items: 40, perItem: 2, seed: 4);
        Assert.Throws<ArgumentException>(() => ItemTextProjection.Fit("minilm", texts, items, denseHead: examples with { Dimension = ItemWidth + 1 }));
        Assert.Throws<ArgumentException>(() => ItemTextProjection.Fit("minilm", texts, items, denseHead: examples with { Targets = [.. examples.Targets.Select(t => t + 1)] }));
    }
}
