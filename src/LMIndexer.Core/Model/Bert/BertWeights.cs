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
    public static IReadOnlyDictionary<string, (long[] Shape, float[] Values)> FromOnnx(OnnxGraph graph)
    {
        var weights = graph.Initializers.Values
            .Where(i => i.DataType == OnnxGraph.FloatType && i.Name.Contains('.', StringComparison.Ordinal))
            .ToDictionary(i => i.Name, i => (i.Dims, i.Values), StringComparer.Ordinal);
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
            var (rows, columns) = ((int)matrix.Dims[0], (int)matrix.Dims[1]);
            var transposed = new float[matrix.Values.Length];
            for (var r = 0; r < rows; r++)
            {
                for (var c = 0; c < columns; c++)
                    transposed[(c * rows) + r] = matrix.Values[(r * columns) + c];
            }
            weights[bias[..^".bias".Length] + ".weight"] = ([columns, rows], transposed);
        }
        return weights;
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
