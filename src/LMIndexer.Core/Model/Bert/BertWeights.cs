using LMIndexer.Core.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model.Bert;

/// <summary>Pretrained BERT weights from an exported ONNX graph, under Hugging Face's parameter names.</summary>
public static class BertWeights
{
    /// <summary>
    /// Every float weight of the graph by its Hugging Face name. Embeddings, biases and LayerNorms
    /// keep their names in the export; the weight matrices become numbered initializers, stored
    /// [in, out] as the second input of a MatMul. Each such MatMul feeds an Add with its layer's
    /// named bias, which names the matrix (…query.bias → …query.weight); the matrix is transposed
    /// to torch's [out, in].
    /// </summary>
    public static IReadOnlyDictionary<string, (long[] Shape, float[] Values)> FromOnnx(OnnxGraph graph) =>
        Sources(graph).ToDictionary(s => s.Name, s => s.Transposed
            ? ((long[])[s.Initializer.Dims[1], s.Initializer.Dims[0]], Transpose(s.Initializer.Values, (int)s.Initializer.Dims[0], (int)s.Initializer.Dims[1]))
            : (s.Initializer.Dims, s.Initializer.Values), StringComparer.Ordinal);

    /// <summary>
    /// A copy of the ONNX model <paramref name="onnxModel"/> holding <paramref name="model"/>'s
    /// weights instead of its own (a fine-tuned encoder, served by ONNX Runtime as the packaged one
    /// is): each of the model's parameters is written over the initializer <see cref="FromOnnx"/>
    /// read it from, in place, so the graph and every other byte stay as they were.
    /// </summary>
    /// <exception cref="InvalidDataException">A parameter has no initializer of its shape, or one not stored contiguously.</exception>
    public static byte[] WriteIntoOnnx(ReadOnlyMemory<byte> onnxModel, BertModel model)
    {
        var copy = onnxModel.ToArray();
        var graph = OnnxGraph.Parse(copy);
        var sources = Sources(graph).ToDictionary(s => s.Name, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!sources.TryGetValue(name, out var source))
                throw new InvalidDataException($"The ONNX graph has no initializer for '{name}'.");
            var stored = source.Initializer;
            using var values = parameter.detach().to(ScalarType.Float32).cpu().contiguous();
            var flat = values.data<float>().ToArray();
            if (flat.Length != stored.Values.Length || stored.DataOffset < 0)
                throw new InvalidDataException($"'{name}' cannot be written over ONNX initializer '{stored.Name}' ([{string.Join(", ", stored.Dims)}], {(stored.DataOffset < 0 ? "not contiguous" : "contiguous")}).");
            // The graph stores weight matrices [in, out]; torch holds them [out, in].
            var written = source.Transposed ? Transpose(flat, (int)stored.Dims[1], (int)stored.Dims[0]) : flat;
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(written.AsSpan()).CopyTo(copy.AsSpan((int)stored.DataOffset));
        }
        return copy;
    }

    /// <summary>Each Hugging Face name with the initializer holding it, and whether that stores it transposed (a MatMul's [in, out] matrix).</summary>
    private static IEnumerable<(string Name, OnnxInitializer Initializer, bool Transposed)> Sources(OnnxGraph graph)
    {
        var named = graph.Initializers.Values
            .Where(i => i.DataType == OnnxGraph.FloatType && i.Name.Contains('.', StringComparison.Ordinal))
            .ToDictionary(i => i.Name, i => (i.Name, Initializer: i, Transposed: false), StringComparer.Ordinal);
        var consumers = graph.Nodes
            .SelectMany(n => n.Inputs.Select(input => (input, n)))
            .ToLookup(p => p.input, p => p.n, StringComparer.Ordinal);
        foreach (var node in graph.Nodes.Where(n => n.OpType == "MatMul" && n.Inputs.Length == 2))
        {
            if (!graph.Initializers.TryGetValue(node.Inputs[1], out var matrix) || matrix.Dims.Length != 2 || matrix.DataType != OnnxGraph.FloatType)
                continue;
            var bias = consumers[node.Outputs[0]]
                .Where(n => n.OpType == "Add")
                .SelectMany(n => n.Inputs)
                .FirstOrDefault(i => i.EndsWith(".bias", StringComparison.Ordinal) && graph.Initializers.ContainsKey(i))
                ?? throw new InvalidDataException($"ONNX MatMul weight '{matrix.Name}' is not followed by a named bias: the graph is not a BERT export this importer knows.");
            var name = bias[..^".bias".Length] + ".weight";
            named[name] = (name, matrix, true);
        }
        return named.Values;
    }

    // [rows, columns] row-major → [columns, rows] row-major.
    private static float[] Transpose(float[] values, int rows, int columns)
    {
        var transposed = new float[values.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
                transposed[(c * rows) + r] = values[(r * columns) + c];
        }
        return transposed;
    }

    /// <summary>Copies the weights into <paramref name="model"/>; every parameter must be found, with its shape.</summary>
    /// <exception cref="InvalidDataException">A parameter is missing from the weights or has another shape.</exception>
    public static void Load(BertModel model, IReadOnlyDictionary<string, (long[] Shape, float[] Values)> weights)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!weights.TryGetValue(name, out var weight))
                throw new InvalidDataException($"The pretrained weights have no '{name}'.");
            if (!weight.Shape.SequenceEqual(parameter.shape))
                throw new InvalidDataException($"Pretrained '{name}' is [{string.Join(", ", weight.Shape)}]; the model expects [{string.Join(", ", parameter.shape)}].");
            using var source = tensor(weight.Values, weight.Shape);
            parameter.copy_(source);
        }
    }
}
