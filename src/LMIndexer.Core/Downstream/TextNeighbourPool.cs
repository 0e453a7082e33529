using System.Numerics.Tensors;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// The training items' text vectors, kept so that an item added after training can take the
/// similarity-weighted mean of the learned vectors of the items whose texts are nearest its own:
/// a local alternative to <see cref="ItemTextProjection"/>'s single linear map, for catalogs where
/// what a title says about an item's vector differs from one product family to the next. How many
/// neighbours and how sharply they are weighted is chosen, like the projection's ridge strength,
/// by the least squared error on a held-out tenth of the training items.
/// </summary>
public sealed class TextNeighbourPool
{
    /// <summary>Neighbours tried.</summary>
    public static readonly int[] NeighbourGrid = [1, 3, 10, 30, 100];

    /// <summary>Softmax temperatures over the neighbours' cosines tried.</summary>
    public static readonly double[] TemperatureGrid = [0.01, 0.03, 0.1, 0.3];

    /// <summary>
    /// Items kept at most (a fixed-seed sample above it), so that a million-item catalog's pool
    /// stays at about 150 MB of 384-wide vectors and a new item's search at a few milliseconds.
    /// </summary>
    public const int MaximumPool = 100_000;

    private readonly float[] texts;   // [Count × TextDimension], row-major, each row of unit length
    private readonly int[] rows;      // the item-vector row of each pool entry

    internal TextNeighbourPool(int textDimension, float[] texts, int[] rows, int neighbours, double temperature, double heldOutCosine)
    {
        TextDimension = textDimension;
        this.texts = texts;
        this.rows = rows;
        Neighbours = neighbours;
        Temperature = temperature;
        HeldOutCosine = heldOutCosine;
    }

    public int TextDimension { get; }

    /// <summary>Training items in the pool.</summary>
    public int Count => rows.Length;

    /// <summary>Neighbours whose vectors are averaged (the held-out choice).</summary>
    public int Neighbours { get; }

    /// <summary>Softmax temperature over their cosines (the held-out choice).</summary>
    public double Temperature { get; }

    /// <summary>Mean cosine between composed and learned vectors of the held-out items, at the chosen setting.</summary>
    public double HeldOutCosine { get; }

    /// <summary>
    /// Fits the pool on <paramref name="texts"/> and the learned <paramref name="items"/> vectors
    /// (row i of each is item i, which is also its row in the recommender's item vectors).
    /// </summary>
    public static TextNeighbourPool Fit(IReadOnlyList<float[]> texts, IReadOnlyList<float[]> items, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(items);
        if (texts.Count != items.Count)
            throw new ArgumentException($"{texts.Count} text vectors for {items.Count} item vectors.", nameof(items));
        if (texts.Count < ItemTextProjection.MinimumItems)
            throw new ArgumentException($"At least {ItemTextProjection.MinimumItems} items are needed to fit and check the neighbour pool, got {texts.Count}.", nameof(texts));
        var width = texts[0].Length;
        if (texts.Any(t => t.Length != width) || items.Any(v => v.Length != items[0].Length))
            throw new ArgumentException("Every text vector and every item vector must have the same width as the first.", nameof(texts));

        var order = Enumerable.Range(0, texts.Count).ToArray();
        new Random(seed).Shuffle(order);
        var heldOut = order[..(texts.Count / 10)];
        var fitted = Pool(texts, order[(texts.Count / 10)..], width, seed);
        var nearest = heldOut.Select(r => fitted.Nearest(texts[r], NeighbourGrid[^1])).ToList();   // best first, enough for every k
        var best = (from k in NeighbourGrid
                    from temperature in TemperatureGrid
                    let composed = nearest.Select(n => Compose(Weigh(n.Take(k).ToList(), temperature), fitted.rows, items)).ToList()
                    select (K: k, Temperature: temperature,
                        Error: heldOut.Select((r, i) => Math.Pow(TensorPrimitives.Distance(composed[i], items[r]), 2)).Average(),
                        Cosine: heldOut.Select((r, i) => (double)TensorPrimitives.CosineSimilarity(composed[i], items[r])).Average()))
            .MinBy(c => c.Error);
        var all = Pool(texts, order, width, seed);
        return new TextNeighbourPool(width, all.texts, all.rows, best.K, best.Temperature, best.Cosine);
    }

    /// <summary>The item-vector rows to average for a text vector and their weights (summing to 1), nearest first.</summary>
    public IReadOnlyList<(int Row, float Weight)> Nearest(ReadOnlySpan<float> text) =>
        [.. Weighted(text).Select(n => (rows[n.Entry], n.Weight))];

    /// <summary>The composed vector of a text vector over <paramref name="items"/> (the learned vectors, by row). // [item width]</summary>
    public float[] Compose(ReadOnlySpan<float> text, IReadOnlyList<float[]> items) => Compose(Weighted(text), rows, items);

    // The chosen neighbours of a text vector and their weights, nearest first.
    private List<(int Entry, float Weight)> Weighted(ReadOnlySpan<float> text)
    {
        if (text.Length != TextDimension)
            throw new ArgumentException($"The neighbour pool holds {TextDimension}-wide vectors, got {text.Length} values.", nameof(text));
        return Weigh(Nearest(text, Neighbours), Temperature);
    }

    internal void Write(BinaryWriter writer)
    {
        writer.Write(TextDimension);
        writer.Write(Neighbours);
        writer.Write(Temperature);
        writer.Write(HeldOutCosine);
        writer.Write(rows.Length);
        foreach (var row in rows)
            writer.Write(row);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(texts.AsSpan()));   // little-endian, as BinaryWriter writes
    }

    internal static TextNeighbourPool Read(BinaryReader reader)
    {
        var width = reader.ReadInt32();
        var neighbours = reader.ReadInt32();
        var temperature = reader.ReadDouble();
        var cosine = reader.ReadDouble();
        var count = reader.ReadInt32();
        if (width < 1 || count < 1 || neighbours < 1 || (long)count * width > Array.MaxLength)
            throw new InvalidDataException($"A neighbour pool of {count} × {width} vectors and {neighbours} neighbours cannot be read.");
        var rows = new int[count];
        for (var i = 0; i < count; i++)
            rows[i] = reader.ReadInt32();
        var texts = new float[count * width];
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(texts.AsSpan()));
        return new TextNeighbourPool(width, texts, rows, neighbours, temperature, cosine);
    }

    // The pool of these rows (a fixed-seed sample of MaximumPool when there are more), each text at unit length.
    private static TextNeighbourPool Pool(IReadOnlyList<float[]> texts, int[] rows, int width, int seed)
    {
        var kept = rows;
        if (rows.Length > MaximumPool)
        {
            kept = (int[])rows.Clone();
            new Random(seed + 1).Shuffle(kept);
            kept = kept[..MaximumPool];
        }
        var flat = new float[kept.Length * width];
        for (var i = 0; i < kept.Length; i++)
        {
            var target = flat.AsSpan(i * width, width);
            texts[kept[i]].CopyTo(target);
            var norm = TensorPrimitives.Norm(target);
            if (norm > 0)
                TensorPrimitives.Divide(target, norm, target);
        }
        return new TextNeighbourPool(width, flat, kept, neighbours: 1, temperature: 1, heldOutCosine: 0);
    }

    // The k pool entries with the highest cosine to the text, best first (ties: the earlier entry).
    private List<(int Entry, float Cosine)> Nearest(ReadOnlySpan<float> text, int k)
    {
        var norm = TensorPrimitives.Norm(text);
        var best = new PriorityQueue<int, (float Cosine, int Entry)>(Comparer<(float Cosine, int Entry)>.Create((a, b) =>
            a.Cosine != b.Cosine ? a.Cosine.CompareTo(b.Cosine) : b.Entry.CompareTo(a.Entry)));
        for (var e = 0; e < rows.Length; e++)
        {
            var cosine = norm == 0 ? 0 : TensorPrimitives.Dot(text, texts.AsSpan(e * TextDimension, TextDimension)) / norm;
            if (best.Count < k)
                best.Enqueue(e, (cosine, e));
            else if (best.TryPeek(out _, out var worst) && (cosine > worst.Cosine))
                best.EnqueueDequeue(e, (cosine, e));
        }
        var result = new List<(int, float)>(best.Count);
        while (best.TryDequeue(out var entry, out var key))
            result.Add((entry, key.Cosine));
        result.Reverse();
        return result;
    }

    // Softmax of the cosines at the temperature; the nearest is the largest, so the exponents stay at or below 0.
    private static List<(int Entry, float Weight)> Weigh(IReadOnlyList<(int Entry, float Cosine)> nearest, double temperature)
    {
        var top = nearest[0].Cosine;
        var raw = nearest.Select(n => Math.Exp((n.Cosine - top) / temperature)).ToList();
        var sum = raw.Sum();
        return [.. nearest.Select((n, i) => (n.Entry, (float)(raw[i] / sum)))];
    }

    private static float[] Compose(List<(int Entry, float Weight)> weighted, int[] rows, IReadOnlyList<float[]> items)
    {
        var result = new float[items[0].Length];
        foreach (var (entry, weight) in weighted)
            TensorPrimitives.MultiplyAdd(items[rows[entry]], weight, result, result);
        return result;
    }
}
