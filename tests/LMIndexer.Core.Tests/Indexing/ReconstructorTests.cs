using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class ReconstructorTests
{
    [Fact]
    public void Learns_a_task_that_needs_positions_through_the_relative_bias()
    {
        // token i = token i−1 + 1: predictable only by attending to a neighbour, not from the ID vector.
        torch.manual_seed(6);
        const int vocab = 40;
        var config = T5Config.Tiny(vocab) with { DropoutRate = 0 };
        using var embedding = nn.Embedding(vocab, config.DModel);
        using var reconstructor = new Reconstructor(config, 1);
        var parameters = reconstructor.parameters().Concat(embedding.parameters()).ToList();
        using var optimizer = torch.optim.AdamW(parameters, 1e-2);
        var random = new Random(1);
        float first = 0, last = 0;
        for (var step = 0; step < 150; step++)
        {
            using var scope = NewDisposeScope();
            var sequences = Enumerable.Range(0, 16).Select(_ =>
            {
                var start = random.Next(4, 20);
                return Enumerable.Range(0, 12).Select(i => start + i).Append(CatalogTokenizer.EosId).ToArray();
            }).ToList();
            var batch = ReconstructionMasks.Build(sequences, 1, 0.0, random);
            var ids = torch.tensor(sequences.SelectMany(s => s).Select(t => (long)t).ToArray()).reshape(16, 13);
            var text = embedding.forward(ids);                                        // [16, 13, d]
            var z = torch.zeros(16, 1, config.DModel);                                // an uninformative ID
            var context = torch.cat([z, text], 1);                                    // [16, 14, d]
            var hidden = reconstructor.Forward(z.expand(16, 14, config.DModel), context, batch.Visible);
            var logits = hidden.matmul(embedding.weight!.t()).Over(Math.Sqrt(config.DModel));
            var loss = T5Model.SequenceLoss(logits, batch.Labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step == 0)
                first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < 0.5f, $"reconstruction loss {first:F2} → {last:F2}; positions are not being used");
    }
}
