using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace LMIndexer.Core.Checkpoints;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// (<c>{name: {dtype, shape, data_offsets}, "__metadata__": {…}}</c>) and the raw little-endian
/// tensor bytes. Written by hand so bundles load without Python and interoperate with Hugging Face.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Writes tensors (copied to CPU, contiguous) in name order, atomically.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                meta[key] = value;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>(names.Length);
        long offset = 0;
        foreach (var name in names)
        {
            using var cpu = tensors[name].detach().cpu().contiguous();
            var bytes = cpu.bytes.ToArray();
            blobs.Add(bytes);
            header[name] = new JsonObject
            {
                ["dtype"] = DtypeName(cpu.dtype),
                ["shape"] = new JsonArray([.. cpu.shape.Select(s => (JsonNode)s)]),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            offset += bytes.Length;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (headerBytes.Length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++)
                stream.WriteByte((byte)' ');
            foreach (var blob in blobs)
                stream.Write(blob);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads every tensor (on CPU, in its stored dtype) and the metadata.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) != 8)
            throw new InvalidDataException($"{path}: too short for a safetensors file.");
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > stream.Length - 8)
            throw new InvalidDataException($"{path}: invalid safetensors header length {headerLength}.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        var header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new InvalidDataException($"{path}: empty safetensors header.");
        var dataStart = 8 + headerLength;
        var dataLength = stream.Length - dataStart;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    foreach (var (key, value) in node!.AsObject())
                        metadata[key] = value?.GetValue<string>() ?? string.Empty;
                    continue;
                }
                var entry = node!.AsObject();
                var dtype = ParseDtype(entry["dtype"]!.GetValue<string>(), path);
                var shape = entry["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offsets = entry["data_offsets"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var expected = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype);
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] > dataLength || offsets[1] - offsets[0] != expected)
                    throw new InvalidDataException($"{path}: tensor '{name}' has offsets [{string.Join(", ", offsets)}] that do not fit its shape or the file.");
                var bytes = new byte[expected];
                stream.Seek(dataStart + offsets[0], SeekOrigin.Begin);
                stream.ReadExactly(bytes);
                var tensor = empty(shape, dtype);
                if (bytes.Length > 0)
                    tensor.bytes = bytes;
                tensors[name] = tensor;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or EndOfStreamException)
        {
            foreach (var t in tensors.Values)
                t.Dispose();
            throw new InvalidDataException($"{path}: malformed safetensors header ({e.Message}).", e);
        }
        return (tensors, metadata);
    }

    private static string DtypeName(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors cannot store dtype {dtype}."),
    };

    private static ScalarType ParseDtype(string name, string path) => name switch
    {
        "F32" => ScalarType.Float32,
        "F64" => ScalarType.Float64,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"{path}: unsupported safetensors dtype '{name}'."),
    };

    private static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
