using System.Numerics.Tensors;
using LMIndexer.Core.Runtime;
using static TorchSharp.torch;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// A linear map from a packaged encoder's sentence vector to a recommender's item-vector space,
/// fitted by ridge regression on the items the recommender was trained with: the dense vector an
/// item added after training gets from its text until the next retraining. The ridge strength is
/// the one with the least squared error on a held-out tenth of those items; the map is then
/// refitted on all of them. Fitted with the recommender's training examples, it also holds a second
/// map trained on the dense head's ranking loss (<see cref="ProjectForRanking"/>); serving picks one
/// (<c>Inference:NewItemVectorSource</c>).
/// </summary>
public sealed class ItemTextProjection
{
    public const string FileName = "item-text-projection.bin";

    /// <summary>Items needed to fit the map and hold a tenth of them out.</summary>
    public const int MinimumItems = 20;

    /// <summary>Ridge strengths tried (per item, relative to the mean squared text value).</summary>
    public static readonly double[] RidgeGrid = [1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

    // 2 added the neighbour pool, 3 the ranking map; older files still load, without them.
    private const int FormatVersion = 3;
    private readonly float[] weights;   // [(TextDimension + 1) × ItemDimension], row-major; the last row is the bias
    private readonly float[]? rankingWeights;   // the same layout

    private ItemTextProjection(string encoder, int textDimension, int itemDimension, float[] weights, double ridge, double heldOutCosine, TextNeighbourPool? neighbours,
        (float[] Weights, RankingMapReport Report)? ranking = null)
    {
        Neighbours = neighbours;
        rankingWeights = ranking?.Weights;
        Ranking = ranking?.Report;
        Encoder = encoder;
        TextDimension = textDimension;
        ItemDimension = itemDimension;
        this.weights = weights;
        Ridge = ridge;
        HeldOutCosine = heldOutCosine;
    }

    /// <summary>The packaged encoder whose sentence vectors this maps (its name).</summary>
    public string Encoder { get; }

    public int TextDimension { get; }

    public int ItemDimension { get; }

    /// <summary>The ridge strength the held-out items chose.</summary>
    public double Ridge { get; }

    /// <summary>Mean cosine between projected and learned vectors of the held-out items, at the chosen strength.</summary>
    public double HeldOutCosine { get; }

    /// <summary>
    /// The training items' text vectors for composing a new item's vector from its nearest
    /// neighbours' instead of the linear map; null in files written before it existed.
    /// </summary>
    public TextNeighbourPool? Neighbours { get; }

    /// <summary>
    /// How the second map, trained on the recommender's dense-head loss (<see cref="ProjectForRanking"/>),
    /// was chosen; null when it was fitted without the dense head's examples or written before it existed.
    /// </summary>
    public RankingMapReport? Ranking { get; }

    /// <summary>
    /// Fits the map (and the neighbour pool) from <paramref name="texts"/> to <paramref name="items"/> (row i of each is one item);
    /// with <paramref name="denseHead"/>'s examples (their targets are rows of both) also the ranking map.
    /// </summary>
    public static ItemTextProjection Fit(string encoder, IReadOnlyList<float[]> texts, IReadOnlyList<float[]> items, int seed = 0, DenseHeadExamples? denseHead = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(encoder);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(items);
        if (texts.Count != items.Count)
            throw new ArgumentException($"{texts.Count} text vectors for {items.Count} item vectors.", nameof(items));
        if (texts.Count < MinimumItems)
            throw new ArgumentException($"At least {MinimumItems} items are needed to fit and check the projection, got {texts.Count}.", nameof(texts));
        var textDimension = texts[0].Length;
        var itemDimension = items[0].Length;
        if (texts.Any(t => t.Length != textDimension) || items.Any(v => v.Length != itemDimension))
            throw new ArgumentException("Every text vector and every item vector must have the same width as the first.", nameof(texts));

        var order = Enumerable.Range(0, texts.Count).ToArray();
        new Random(seed).Shuffle(order);
        var heldOut = order[..(texts.Count / 10)];
        var fitted = order[(texts.Count / 10)..];
        var best = RidgeGrid.Select(ridge =>
        {
            var candidate = Solve(texts, items, fitted, ridge);
            return (Ridge: ridge,
                Error: HeldOut(candidate, (p, t) => Math.Pow(TensorPrimitives.Distance(p, t), 2)),
                Cosine: HeldOut(candidate, (p, t) => TensorPrimitives.CosineSimilarity(p, t)));
        }).MinBy(t => t.Error);
        var all = Solve(texts, items, order, best.Ridge);
        var ranking = denseHead is null ? ((float[], RankingMapReport)?)null
            : RankingTextMap.Fit(texts, items, denseHead, heldOut, Solve(texts, items, fitted, best.Ridge), all, seed);
        return new ItemTextProjection(encoder, textDimension, itemDimension, all, best.Ridge, best.Cosine, TextNeighbourPool.Fit(texts, items, seed), ranking);

        double HeldOut(float[] w, Func<float[], float[], double> measure) =>
            heldOut.Average(r => measure(Apply(w, textDimension, itemDimension, texts[r]), items[r]));
    }

    /// <summary>The item vector for a text vector. // [ItemDimension]</summary>
    public float[] Project(ReadOnlySpan<float> text)
    {
        if (text.Length != TextDimension)
            throw new ArgumentException($"The projection reads {TextDimension}-wide {Encoder} vectors, got {text.Length} values.", nameof(text));
        return Apply(weights, TextDimension, ItemDimension, text);
    }

    /// <summary>The item vector for a text vector through the ranking map; null when there is none. // [ItemDimension]</summary>
    public float[]? ProjectForRanking(ReadOnlySpan<float> text)
    {
        if (text.Length != TextDimension)
            throw new ArgumentException($"The projection reads {TextDimension}-wide {Encoder} vectors, got {text.Length} values.", nameof(text));
        return rankingWeights is null ? null : Apply(rankingWeights, TextDimension, ItemDimension, text);
    }

    /// <summary>Saves as <see cref="FileName"/> in <paramref name="directory"/>.</summary>
    public void Save(string directory) => Write(Path.Combine(directory, FileName));

    public void Write(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(FormatVersion);
        writer.Write(Encoder);
        writer.Write(TextDimension);
        writer.Write(ItemDimension);
        writer.Write(Ridge);
        writer.Write(HeldOutCosine);
        foreach (var w in weights)
            writer.Write(w);
        writer.Write(Neighbours is not null);
        Neighbours?.Write(writer);
        writer.Write(Ranking is not null);
        if (Ranking is { } report)
        {
            writer.Write(report.Epochs);
            writer.Write(report.HeldOutExamples);
            foreach (var figure in new[] { report.RidgeRecall, report.Recall, report.RidgeMrr, report.Mrr })
                writer.Write(figure);
            foreach (var w in rankingWeights!)
                writer.Write(w);
        }
    }

    /// <summary>The projection saved in <paramref name="directory"/>, or null if it has none.</summary>
    public static ItemTextProjection? TryLoad(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            return null;
        using var reader = new BinaryReader(File.OpenRead(path));
        var version = reader.ReadInt32();
        if (version is < 1 or > FormatVersion)
            throw new InvalidDataException($"{path} has format {version}; this build reads 1 to {FormatVersion}.");
        var encoder = reader.ReadString();
        var textDimension = reader.ReadInt32();
        var itemDimension = reader.ReadInt32();
        var ridge = reader.ReadDouble();
        var cosine = reader.ReadDouble();
        float[] Map()
        {
            var values = new float[(textDimension + 1) * itemDimension];
            for (var i = 0; i < values.Length; i++)
                values[i] = reader.ReadSingle();
            return values;
        }
        var weights = Map();
        var neighbours = version >= 2 && reader.ReadBoolean() ? TextNeighbourPool.Read(reader) : null;
        if (neighbours is not null && neighbours.TextDimension != textDimension)
            throw new InvalidDataException($"{path}: its neighbour pool holds {neighbours.TextDimension}-wide vectors, its map reads {textDimension}.");
        (float[], RankingMapReport)? ranking = null;
        if (version >= 3 && reader.ReadBoolean())
        {
            var report = new RankingMapReport(reader.ReadInt32(), reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
            ranking = (Map(), report);
        }
        return new ItemTextProjection(encoder, textDimension, itemDimension, weights, ridge, cosine, neighbours, ranking);
    }

    // Ridge regression with a bias, solved in float64 from the normal equations: (XᵀX + λ·n·s·I) W = XᵀY,
    // where s is the mean squared text value, so that the grid means the same at any width; the bias is not shrunk.
    private static float[] Solve(IReadOnlyList<float[]> texts, IReadOnlyList<float[]> items, int[] rows, double ridge)
    {
        var textDimension = texts[0].Length;
        var itemDimension = items[0].Length;
        using var scope = NewDisposeScope();
        var x = tensor(rows.SelectMany(r => texts[r].Select(v => (double)v).Append(1.0)).ToArray(), [rows.Length, textDimension + 1]);   // [n, t + 1]
        var y = tensor(rows.SelectMany(r => items[r].Select(v => (double)v)).ToArray(), [rows.Length, itemDimension]);                  // [n, d]
        var meanSquare = rows.Average(r => texts[r].Average(v => (double)v * v));
        var shrink = Enumerable.Repeat(ridge * rows.Length * meanSquare, textDimension).Append(0.0).ToArray();
        var gram = x.t().matmul(x).Plus(diag(tensor(shrink)));                                                // [t + 1, t + 1]
        var solved = linalg.solve(gram, x.t().matmul(y));                                                     // [t + 1, d]
        return [.. solved.to(ScalarType.Float32).data<float>()];
    }

    private static float[] Apply(float[] weights, int textDimension, int itemDimension, ReadOnlySpan<float> text)
    {
        var result = weights.AsSpan(textDimension * itemDimension, itemDimension).ToArray();   // the bias
        for (var i = 0; i < textDimension; i++)
        {
            var row = weights.AsSpan(i * itemDimension, itemDimension);
            TensorPrimitives.MultiplyAdd(row, text[i], result, result);
        }
        return result;
    }
}
