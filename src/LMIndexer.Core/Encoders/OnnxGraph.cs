using System.Text;

namespace LMIndexer.Core.Encoders;

/// <summary>A tensor stored in an ONNX graph: its name, shape and (float) values.</summary>
/// <param name="DataOffset">Where its float values lie, contiguous and little-endian, in the model's bytes (raw or packed data); -1 when they are not stored that way.</param>
public sealed record OnnxInitializer(string Name, long[] Dims, int DataType, float[] Values, long DataOffset = -1);

/// <summary>One node of an ONNX graph: operator, input and output value names.</summary>
public sealed record OnnxNode(string OpType, string[] Inputs, string[] Outputs);

/// <summary>
/// The initializers and nodes of an ONNX model, read straight from its protobuf encoding. ONNX
/// Runtime runs a model but does not hand its weights out; importing them into TorchSharp needs
/// this much of the format (onnx.proto: ModelProto.graph = 7, GraphProto.node = 1 and
/// initializer = 5, NodeProto input = 1 / output = 2 / op_type = 4, TensorProto dims = 1,
/// data_type = 2, float_data = 4, name = 8, raw_data = 9) and no more.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>TensorProto.DataType.FLOAT.</summary>
    public const int FloatType = 1;

    private OnnxGraph(IReadOnlyDictionary<string, OnnxInitializer> initializers, IReadOnlyList<OnnxNode> nodes)
    {
        Initializers = initializers;
        Nodes = nodes;
    }

    /// <summary>Float initializers by name; other types are kept with no values.</summary>
    public IReadOnlyDictionary<string, OnnxInitializer> Initializers { get; }

    /// <summary>The graph's nodes in their stored (topological) order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <exception cref="InvalidDataException">The bytes are not an ONNX model with a graph.</exception>
    public static OnnxGraph Parse(ReadOnlyMemory<byte> model)
    {
        ReadOnlyMemory<byte>? graph = null;
        foreach (var field in ProtoReader.Fields(model))
        {
            if (field.Number == 7 && field.WireType == 2)
                graph = field.Bytes;
        }
        if (graph is not { } graphBytes)
            throw new InvalidDataException("The bytes hold no ONNX graph (ModelProto field 7).");

        var initializers = new Dictionary<string, OnnxInitializer>(StringComparer.Ordinal);
        var nodes = new List<OnnxNode>();
        long OffsetOf(ReadOnlyMemory<byte> slice) =>
            System.Runtime.InteropServices.MemoryMarshal.TryGetArray(slice, out var inner) && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(model, out var outer)
                && inner.Array == outer.Array ? inner.Offset - outer.Offset : -1;
        foreach (var field in ProtoReader.Fields(graphBytes))
        {
            if (field.Number == 1 && field.WireType == 2)
                nodes.Add(ReadNode(field.Bytes));
            else if (field.Number == 5 && field.WireType == 2)
            {
                var tensor = ReadTensor(field.Bytes, OffsetOf);
                initializers[tensor.Name] = tensor;
            }
        }
        return new OnnxGraph(initializers, nodes);
    }

    private static OnnxNode ReadNode(ReadOnlyMemory<byte> bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var op = "";
        foreach (var field in ProtoReader.Fields(bytes))
        {
            switch (field.Number)
            {
                case 1: inputs.Add(field.Text); break;
                case 2: outputs.Add(field.Text); break;
                case 4: op = field.Text; break;
            }
        }
        return new OnnxNode(op, [.. inputs], [.. outputs]);
    }

    private static OnnxInitializer ReadTensor(ReadOnlyMemory<byte> bytes, Func<ReadOnlyMemory<byte>, long> offsetOf)
    {
        var dims = new List<long>();
        var name = "";
        var type = 0;
        ReadOnlyMemory<byte> raw = default;
        var floats = new List<float>();
        var packedOffset = -1L;
        var floatFields = 0;
        foreach (var field in ProtoReader.Fields(bytes))
        {
            switch (field.Number, field.WireType)
            {
                case (1, 0): dims.Add((long)field.Varint); break;
                case (1, 2): dims.AddRange(ProtoReader.PackedVarints(field.Bytes).Select(v => (long)v)); break;
                case (2, 0): type = (int)field.Varint; break;
                case (4, 2):
                    floats.AddRange(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(field.Bytes.Span).ToArray());
                    packedOffset = offsetOf(field.Bytes);
                    floatFields++;
                    break;
                case (4, 5): floats.Add(BitConverter.Int32BitsToSingle((int)field.Varint)); floatFields += 2; break;
                case (8, 2): name = field.Text; break;
                case (9, 2): raw = field.Bytes; break;
            }
        }
        float[] values = type != FloatType ? []
            : raw.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span).ToArray()
            : [.. floats];
        var count = dims.Aggregate(1L, (a, d) => a * d);
        if (type == FloatType && values.Length != count)
            throw new InvalidDataException($"ONNX initializer '{name}' has {values.Length} values for shape [{string.Join(", ", dims)}].");
        // Contiguous only when the values came from raw data or from one packed float field.
        var offset = type != FloatType ? -1 : raw.Length > 0 ? offsetOf(raw) : floatFields == 1 ? packedOffset : -1;
        return new OnnxInitializer(name, [.. dims], type, values, offset);
    }

    /// <summary>Protobuf wire format: varint tags, then a varint, a fixed 32/64-bit value or a length-delimited slice.</summary>
    private static class ProtoReader
    {
        public readonly record struct Field(int Number, int WireType, ulong Varint, ReadOnlyMemory<byte> Bytes)
        {
            public string Text => Encoding.UTF8.GetString(Bytes.Span);
        }

        public static IEnumerable<Field> Fields(ReadOnlyMemory<byte> message)
        {
            var position = 0;
            while (position < message.Length)
            {
                var tag = ReadVarint(message.Span, ref position);
                var number = (int)(tag >> 3);
                var wireType = (int)(tag & 7);
                switch (wireType)
                {
                    case 0:
                        yield return new Field(number, wireType, ReadVarint(message.Span, ref position), default);
                        break;
                    case 1:
                        Need(message, position, 8);
                        yield return new Field(number, wireType, BitConverter.ToUInt64(message.Span.Slice(position, 8)), default);
                        position += 8;
                        break;
                    case 2:
                        var length = checked((int)ReadVarint(message.Span, ref position));
                        Need(message, position, length);
                        yield return new Field(number, wireType, 0, message.Slice(position, length));
                        position += length;
                        break;
                    case 5:
                        Need(message, position, 4);
                        yield return new Field(number, wireType, BitConverter.ToUInt32(message.Span.Slice(position, 4)), default);
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Unsupported protobuf wire type {wireType} (field {number}): not an ONNX model.");
                }
            }
        }

        public static IEnumerable<ulong> PackedVarints(ReadOnlyMemory<byte> bytes)
        {
            var position = 0;
            var values = new List<ulong>();
            while (position < bytes.Length)
                values.Add(ReadVarint(bytes.Span, ref position));
            return values;
        }

        private static void Need(ReadOnlyMemory<byte> message, int position, int count)
        {
            if (count < 0 || position + count > message.Length)
                throw new InvalidDataException("Truncated protobuf message: not a whole ONNX model.");
        }

        private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (position >= span.Length)
                    throw new InvalidDataException("Truncated protobuf varint: not a whole ONNX model.");
                var b = span[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                    return value;
            }
            throw new InvalidDataException("Malformed protobuf varint: not an ONNX model.");
        }
    }
}
