using System.Reflection;
using System.Runtime.InteropServices;
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
public sealed partial class ApproximateVectorIndex : IDisposable
{
    private readonly USearchIndex index;
    private readonly ReaderWriterLockSlim gate = new();
    private bool disposed;

    public ApproximateVectorIndex(int dimension, HnswSettings? settings = null)
        : this(NewIndex(dimension, settings ??= new HnswSettings()), dimension, settings)
    {
    }

    private ApproximateVectorIndex(USearchIndex index, int dimension, HnswSettings settings)
    {
        this.index = index;
        Dimension = dimension;
        Settings = settings;
    }

    private static USearchIndex NewIndex(int dimension, HnswSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        settings.Validate();
        return new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dimension,
            (ulong)settings.Connectivity, (ulong)settings.ExpansionAdd, (ulong)settings.ExpansionSearch);
    }

    /// <summary>
    /// An index written by <see cref="Save"/>. The graph and its vectors come from the file; the
    /// insertion and search breadths are not in it (USearch restores its own defaults), so
    /// <paramref name="settings"/>' are applied again. A file that is not an index of
    /// <paramref name="dimension"/>-wide vectors is refused.
    /// </summary>
    public static ApproximateVectorIndex Load(string path, int dimension, HnswSettings? settings = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        settings ??= new HnswSettings();
        settings.Validate();
        if (!File.Exists(path))
            throw new FileNotFoundException($"No saved vector index at {path}.", path);
        USearchIndex loaded;
        try
        {
            loaded = new USearchIndex(path, view: false);
        }
        catch (USearchException e)
        {
            throw new InvalidDataException($"{path} is not a readable vector index: {e.Message}", e);
        }
        try
        {
            if (loaded.Dimensions() != (ulong)dimension)
                throw new InvalidDataException($"{path} holds {loaded.Dimensions()}-wide vectors, not {dimension}-wide ones.");
            var handle = NativeHandle(loaded);
            UsearchNative.ChangeExpansionAdd(handle, (nuint)settings.ExpansionAdd, out var error);
            UsearchNative.Check(error);
            UsearchNative.ChangeExpansionSearch(handle, (nuint)settings.ExpansionSearch, out error);
            UsearchNative.Check(error);
            return new ApproximateVectorIndex(loaded, dimension, settings);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the graph and its vectors to <paramref name="path"/>: to a file beside it first, then
    /// renamed over it, so a reader (another silo on the same disk) sees the old file or the whole new one.
    /// </summary>
    public void Save(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var staging = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        gate.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            index.Save(staging);
            File.Move(staging, path, overwrite: true);
        }
        catch (USearchException e)
        {
            throw new IOException($"The vector index could not be written to {path}: {e.Message}", e);
        }
        finally
        {
            gate.ExitReadLock();
            if (File.Exists(staging))
                File.Delete(staging);
        }
    }

    /// <summary>The search breadth the native index runs with (what <see cref="Load"/> must restore).</summary>
    public int SearchBreadth
    {
        get
        {
            gate.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(disposed, this);
                var breadth = UsearchNative.ExpansionSearch(NativeHandle(index), out var error);
                UsearchNative.Check(error);
                return checked((int)breadth);
            }
            finally
            {
                gate.ExitReadLock();
            }
        }
    }

    // The wrapper does not expose the breadth setters; its handle is the native index they take.
    private static readonly FieldInfo HandleField = typeof(USearchIndex).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance)
        ?? throw new MissingFieldException("USearchIndex no longer keeps its native handle in '_index'; check the pinned package version.");

    private static nint NativeHandle(USearchIndex index) => (nint)HandleField.GetValue(index)!;

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

/// <summary>The native calls the USearch wrapper leaves out: changing a loaded index's insertion and search breadths.</summary>
internal static partial class UsearchNative
{
    private const string Library = "libusearch_c";

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_add")]
    internal static partial void ChangeExpansionAdd(nint index, nuint expansion, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_search")]
    internal static partial void ChangeExpansionSearch(nint index, nuint expansion, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_expansion_search")]
    internal static partial nuint ExpansionSearch(nint index, out nint error);

    /// <summary>USearch reports failures as a C string in its error out-parameter, not as a return code.</summary>
    internal static void Check(nint error)
    {
        if (error != 0)
            throw new InvalidOperationException($"USearch: {Marshal.PtrToStringUTF8(error)}");
    }
}
