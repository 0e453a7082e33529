using Cloud.Unum.USearch;

namespace LMIndexer.Core.Retrieval;

/// <summary>
/// HNSW graph settings (USearch's names): links per node, and how many candidates an insertion and
/// a search keep while walking the graph. Higher means better recall for more time; insertion runs
/// on one thread, so <see cref="ExpansionAdd"/> sets how long a version takes to load (docs/capacity.md).
/// </summary>
public sealed record HnswSettings(int Connectivity = 16, int ExpansionAdd = 64, int ExpansionSearch = 256)
{
    public void Validate()
    {
        if (Connectivity is < 2 or > 256)
            throw new ArgumentOutOfRangeException(nameof(Connectivity), Connectivity, "Connectivity must be between 2 and 256.");
        if (ExpansionAdd < 1)
            throw new ArgumentOutOfRangeException(nameof(ExpansionAdd), ExpansionAdd, "ExpansionAdd must be at least 1.");
        if (ExpansionSearch < 1)
            throw new ArgumentOutOfRangeException(nameof(ExpansionSearch), ExpansionSearch, "ExpansionSearch must be at least 1.");
    }
}

/// <summary>
/// Approximate maximum-inner-product search over item vectors keyed by item number: an HNSW graph
/// (USearch) visits a few thousand vectors per query instead of the whole table, at the price of
/// sometimes missing one of the true best items (recall against <see cref="ExactVectorIndex"/> is
/// reported by the scale benchmark). Searches run concurrently; an insertion may grow the native
/// storage, so it waits for running searches and holds them off.
/// </summary>
public sealed class ApproximateVectorIndex : IDisposable
{
    private readonly USearchIndex index;
    private readonly ReaderWriterLockSlim gate = new();
    private bool disposed;

    public ApproximateVectorIndex(int dimension, HnswSettings? settings = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        settings ??= new HnswSettings();
        settings.Validate();
        Dimension = dimension;
        Settings = settings;
        index = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dimension,
            (ulong)settings.Connectivity, (ulong)settings.ExpansionAdd, (ulong)settings.ExpansionSearch);
    }

    /// <summary>An index of the rows of a row-major [count, dimension] table, each keyed by its row number.</summary>
    public static ApproximateVectorIndex FromRows(ReadOnlySpan<float> rows, int dimension, HnswSettings? settings = null)
    {
        if (dimension < 1 || rows.Length % dimension != 0)
            throw new ArgumentException($"A table of {rows.Length} values is not made of rows of {dimension}.", nameof(rows));
        var count = rows.Length / dimension;
        var built = new ApproximateVectorIndex(dimension, settings);
        try
        {
            // One batch call reserves the graph's storage once instead of growing it per row.
            var keys = new ulong[count];
            var vectors = new float[count][];
            for (var i = 0; i < count; i++)
            {
                keys[i] = (ulong)i;
                vectors[i] = rows.Slice(i * dimension, dimension).ToArray();
            }
            built.index.Add(keys, vectors);
            return built;
        }
        catch
        {
            built.Dispose();
            throw;
        }
    }

    public int Dimension { get; }

    public HnswSettings Settings { get; }

    public int Count
    {
        get
        {
            gate.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                return checked((int)index.Size());
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
    }

    /// <summary>Adds <paramref name="item"/>'s vector; an item already present is refused (its vector is fixed once indexed).</summary>
    public void Add(int item, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(item);
        var copy = Checked(vector, nameof(vector));
        gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (index.Contains((ulong)item))
                throw new ArgumentException($"Item {item} is already in the index.", nameof(item));
            index.Add((ulong)item, copy);
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>Removes <paramref name="item"/>'s vector; false when it was not in the index.</summary>
    public bool Remove(int item)
    {
        gate.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return index.Remove((ulong)item) > 0;
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }

    /// <summary>About the <paramref name="k"/> items of highest inner product with <paramref name="query"/>, best first, with those products.</summary>
    public (int Item, float Score)[] Search(ReadOnlySpan<float> query, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var copy = Checked(query, nameof(query));
        gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            var found = index.Search(copy, k, out var keys, out var distances);
            var hits = new (int Item, float Score)[found];
            for (var i = 0; i < found; i++)
                hits[i] = ((int)keys[i], 1f - distances[i]);   // USearch's inner-product distance is 1 − q·v
            return hits;
        }
        finally
        {
            gate.ExitReadLock();
        }
    }

    private float[] Checked(ReadOnlySpan<float> vector, string name) =>
        vector.Length == Dimension ? vector.ToArray() : throw new ArgumentException($"A vector of this index has {Dimension} values, got {vector.Length}.", name);

    public void Dispose()
    {
        gate.EnterWriteLock();
        try
        {
            if (disposed)
                return;
            disposed = true;
            index.Dispose();
        }
        finally
        {
            gate.ExitWriteLock();
        }
    }
}
