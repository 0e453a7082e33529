using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace LMIndexer.Core.Encoders;

/// <summary>
/// Sentence vectors kept on disk by a hash of their text, so that a restarted process reads the
/// vectors it embedded before instead of embedding every text again (an hour of CPU per million
/// item titles on two cores, docs/capacity.md). One file per encoder model; records are appended
/// and never rewritten. A record cut short by a crash is dropped when the file opens again.
/// Only the file's offsets stay in memory (24 bytes per text); vectors are read on demand.
/// </summary>
public sealed class SentenceVectorFile : IDisposable
{
    private static readonly byte[] Magic = "LMIVEC1\0"u8.ToArray();
    private const int HeaderBytes = 16;     // magic, dimension, reserved
    private const int KeyBytes = 16;

    private readonly FileStream file;
    private readonly Dictionary<UInt128, long> offsets = [];
    private readonly Lock gate = new();
    private readonly int recordBytes;
    private long end;       // where the next record goes (kept here: FileStream caches the length of a file it holds alone)
    private bool disposed;

    private SentenceVectorFile(FileStream file, int dimension)
    {
        this.file = file;
        Dimension = dimension;
        recordBytes = KeyBytes + (dimension * sizeof(float));
    }

    public string Path => file.Name;

    public int Dimension { get; }

    /// <summary>Texts with a vector in the file.</summary>
    public int Count
    {
        get
        {
            lock (gate)
                return offsets.Count;
        }
    }

    /// <summary>
    /// Opens (or creates) the file of <paramref name="dimension"/>-wide vectors. It is held
    /// exclusively: a second process gets an <see cref="IOException"/> and should embed without it.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a vector file of this width.</exception>
    public static SentenceVectorFile Open(string path, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        try
        {
            var opened = new SentenceVectorFile(stream, dimension);
            opened.ReadIndex();
            return opened;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private void ReadIndex()
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (file.Length < HeaderBytes)
        {
            // New (or cut before its header was whole): start it.
            Magic.CopyTo(header);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], Dimension);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], 0);
            file.SetLength(0);
            file.Write(header);
            file.Flush();
            end = HeaderBytes;
            return;
        }
        file.Position = 0;
        file.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{file.Name} is not a sentence vector file.");
        var width = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (width != Dimension)
            throw new InvalidDataException($"{file.Name} holds {width}-wide vectors, not {Dimension}-wide ones.");
        var whole = (file.Length - HeaderBytes) / recordBytes;
        end = HeaderBytes + (whole * recordBytes);
        if (end != file.Length)
            file.SetLength(end);   // a record cut short by a crash
        Span<byte> key = stackalloc byte[KeyBytes];
        for (var r = 0L; r < whole; r++)
        {
            var offset = HeaderBytes + (r * recordBytes);
            RandomAccess.Read(file.SafeFileHandle, key, offset);
            offsets[BinaryPrimitives.ReadUInt128LittleEndian(key)] = offset + KeyBytes;
        }
    }

    /// <summary>The vector kept for <paramref name="text"/>, or null.</summary>
    public float[]? Get(string text)
    {
        var key = KeyOf(text);
        long offset;
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!offsets.TryGetValue(key, out offset))
                return null;
        }
        var vector = new float[Dimension];
        RandomAccess.Read(file.SafeFileHandle, MemoryMarshal.AsBytes(vector.AsSpan()), offset);
        return vector;
    }

    /// <summary>Keeps <paramref name="vector"/> for <paramref name="text"/>; a text already kept is left as it is.</summary>
    public void Add(string text, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension)
            throw new ArgumentException($"A vector of this file has {Dimension} values, got {vector.Length}.", nameof(vector));
        var key = KeyOf(text);
        var record = new byte[recordBytes];
        BinaryPrimitives.WriteUInt128LittleEndian(record, key);
        MemoryMarshal.AsBytes(vector).CopyTo(record.AsSpan(KeyBytes));
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (offsets.ContainsKey(key))
                return;
            RandomAccess.Write(file.SafeFileHandle, record, end);
            offsets[key] = end + KeyBytes;
            end += recordBytes;
        }
    }

    // 128 bits of SHA-256: collisions are out of reach at any catalog size.
    private static UInt128 KeyOf(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            file.Dispose();
        }
    }
}
