using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class IndexerLossTests
{
    [Fact]
    public void Labelled_rows_loss_equals_the_full_sequence_loss_in_value_and_gradient()
    {
        torch.manual_seed(9);
        var embedding = torch.randn(50, 8);                                                  // [vocab, d]
        var labels = torch.tensor(new long[] { -100, 3, 7, -100, -100, -100, 12, 49, 0, -100 }).reshape(2, 5);
        var full = torch.randn(2, 5, 8).requires_grad_(true);
        var selected = full.detach().clone().requires_grad_(true);

        var expected = T5Model.SequenceLoss(full.matmul(embedding.t()).Times(0.25), labels);
        var actual = IndexerLoss.LabelledRowsLoss(selected, embedding, labels, 0.25);
        expected.backward();
        actual.backward();

        Assert.Equal(expected.item<float>(), actual.item<float>(), 5);
        Assert.True(full.grad!.allclose(selected.grad!, rtol: 1e-5, atol: 1e-7));
        Assert.Equal(0f, selected.grad![0, 0].abs().sum().item<float>());                 // unlabelled rows get nothing
    }
}
