using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace LMIndexer.Core.Retrieval;

/// <summary>Where an <see cref="ApproximateVectorIndex"/> came from, and what went wrong on the way if anything did.</summary>
/// <param name="Path">The file it was read from or written to.</param>
/// <param name="Loaded">Read from that file rather than built.</param>
/// <param name="Problem">A saved file that could not be read (and was rebuilt), or a build that could not be saved.</param>
public sealed record VectorIndexOrigin(string Path, bool Loaded, string? Problem);

/// <summary>
/// A folder of saved HNSW graphs, each named by what it indexes (the table's values and width) and
/// how its graph was built, so an index is built once per table and read back on the next load:
/// building takes minutes at a million items on one thread, reading it back takes seconds
/// (docs/capacity.md). Any change to the table gives another name, so a stale graph is never read.
/// </summary>
public sealed class SavedVectorIndexes
{
    public const string Extension = ".usearch";

    public SavedVectorIndexes(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The file a table's index is saved under.</summary>
    public string PathFor(ReadOnlySpan<float> rows, int dimension, HnswSettings settings)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes(rows));
        // The search breadth is applied after loading, so it does not name the file.
        hash.AppendData(Encoding.UTF8.GetBytes($"ip/f32/d{dimension}/m{settings.Connectivity}/add{settings.ExpansionAdd}"));
        return Path.Combine(Directory, $"hnsw-{Convert.ToHexStringLower(hash.GetHashAndReset())[..24]}{Extension}");
    }

    /// <summary>
    /// The saved index of a row-major [count, dimension] table (rows keyed by their number), or a
    /// new one built and saved. An unreadable or mismatched file is rebuilt over; a folder that
    /// cannot be written to still gives a working index, with the problem in its origin.
    /// </summary>
    public (ApproximateVectorIndex Index, VectorIndexOrigin Origin) GetOrBuild(ReadOnlySpan<float> rows, int dimension, HnswSettings? settings = null)
    {
        settings ??= new HnswSettings();
        settings.Validate();
        if (dimension < 1 || rows.Length % dimension != 0)
            throw new ArgumentException($"A table of {rows.Length} values is not made of rows of {dimension}.", nameof(rows));
        var path = PathFor(rows, dimension, settings);
        string? problem = null;
        if (File.Exists(path))
        {
            ApproximateVectorIndex? loaded = null;
            try
            {
                loaded = ApproximateVectorIndex.Load(path, dimension, settings);
                if (loaded.Count == rows.Length / dimension)
                    return (loaded, new VectorIndexOrigin(path, Loaded: true, Problem: null));
                problem = $"{path} holds {loaded.Count} vectors, not {rows.Length / dimension}; rebuilt";
                loaded.Dispose();
            }
            catch (Exception e) when (e is InvalidDataException or InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                loaded?.Dispose();
                problem = $"{path} could not be read ({e.Message}); rebuilt";
            }
        }
        var built = ApproximateVectorIndex.FromRows(rows, dimension, settings);
        try
        {
            built.Save(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            problem = $"{(problem is null ? "" : problem + "; ")}could not be saved to {path} ({e.Message})";
        }
        return (built, new VectorIndexOrigin(path, Loaded: false, problem));
    }
}
