using LMIndexer.Core.Model;
using LMIndexer.Core.Training;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Training;

public sealed class ModelOptimizerTests
{
    private static readonly OptimizerOptions Constant = new() { LearningRate = 0.1, WarmupRatio = 0, Decay = LearningRateDecay.Constant, MaxGradNorm = 0 };

    [Fact]
    public void A_seq2seq_step_with_dense_targets_adds_the_weighted_full_softmax_loss_over_items()
    {
        torch.manual_seed(4);
        using var model = new T5Model(T5Config.Tiny(vocabSize: 50) with { SourceItemCount = 6, DenseItemHead = true, DropoutRate = 0 });
        int[][] sources = [[5, 6, 51], [7, 8, 9, 53]];
        int[][] targets = [[10, 11, 1], [12, 13, 1]];
        int[] items = [1, 4];
        double idLoss, denseLoss;
        using (var noGrad = torch.no_grad())
        using (var scope = NewDisposeScope())
        {
            var (ids, mask) = TokenBatch.Pad(sources, 0);
            var labels = TokenBatch.PadLabels(targets);
            var hidden = model.Decode(model.ShiftRight(labels), model.Encode(ids, mask), mask);
            idLoss = T5Model.SequenceLoss(model.LmLogits(hidden), labels).item<float>();
            denseLoss = nn.functional.cross_entropy(model.DenseItemLogits(hidden[.., 0]), torch.tensor(new long[] { 1, 4 })).item<float>();
        }
        using var optimizer = new ModelOptimizer(model.parameters(), Constant, totalSteps: 1);

        // The returned loss is the one the step was taken on, before the update.
        var loss = optimizer.TrainSeq2SeqStep(model, sources, targets, dense: new DenseItemTargets(items, 0.5));

        Assert.Equal(idLoss + (0.5 * denseLoss), loss, 4);
        Assert.True(denseLoss > 0.5, $"{denseLoss}");
        Assert.True(model.DenseHead!.weight.grad is { } grad && grad.abs().sum().item<float>() > 0, "the head is trained");
        Assert.Throws<ArgumentException>(() => optimizer.TrainSeq2SeqStep(model, sources, targets, dense: new DenseItemTargets([1], 1)));
    }

    [Fact]
    public void Weight_decay_shrinks_matrices_and_leaves_layer_norm_scales_alone()
    {
        // With zero gradients Adam's step is 0 / (0 + ε) = 0, so all that moves a weight is the decay.
        var matrix = new Parameter(torch.ones(3, 4));
        var scale = new Parameter(torch.ones(4));
        using var optimizer = new ModelOptimizer([matrix, scale], Constant with { WeightDecay = 0.5 }, totalSteps: 10);
        for (var step = 0; step < 3; step++)
        {
            optimizer.ZeroGrad();
            matrix.grad = torch.zeros_like(matrix);
            scale.grad = torch.zeros_like(scale);
            optimizer.Update();
        }
        var shrunk = Math.Pow(1 - (0.1 * 0.5), 3);   // (1 − lr·decay) per step
        Assert.Equal(shrunk, matrix.max().item<float>(), 5);
        Assert.Equal(shrunk, matrix.min().item<float>(), 5);
        Assert.Equal(1f, scale.min().item<float>());
        Assert.Equal(1f, scale.max().item<float>());
    }

    [Fact]
    public void Without_weight_decay_nothing_moves_on_zero_gradients()
    {
        var matrix = new Parameter(torch.ones(3, 4));
        using var optimizer = new ModelOptimizer([matrix], Constant, totalSteps: 10);
        matrix.grad = torch.zeros_like(matrix);
        optimizer.Update();
        Assert.Equal(1f, matrix.min().item<float>());
    }

    [Fact]
    public void Negative_weight_decay_is_refused()
    {
        var matrix = new Parameter(torch.ones(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelOptimizer([matrix], Constant with { WeightDecay = -0.1 }, totalSteps: 10));
    }

    [Fact]
    public void Decoupled_adamw_takes_the_steps_torchsharps_adamw_takes()
    {
        torch.manual_seed(11);
        var start = torch.randn(5, 3);
        var ours = new Parameter(start.clone());
        var theirs = new Parameter(start.clone());
        using var decoupled = new DecoupledAdamW([(ours, 0.1)], 0.9, 0.999, 1e-8);
        using var reference = torch.optim.AdamW([theirs], lr: 0.05, weight_decay: 0.1);
        for (var step = 0; step < 6; step++)
        {
            var gradient = torch.randn(5, 3);
            decoupled.ZeroGrad();
            ours.grad = gradient.clone();
            decoupled.Step(0.05);
            reference.zero_grad();
            theirs.grad = gradient.clone();
            reference.step();
        }
        Assert.True(ours.allclose(theirs, rtol: 1e-5, atol: 1e-6), $"max difference {(ours - theirs).abs().max().item<float>()}");
        Assert.False(ours.allclose(start), "six steps moved the weights");
    }

    [Fact]
    public void Saved_adamw_state_resumes_the_same_trajectory_and_refuses_other_parameters()
    {
        torch.manual_seed(12);
        var gradients = Enumerable.Range(0, 4).Select(_ => torch.randn(4, 2)).ToArray();
        var start = torch.randn(4, 2);
        var straight = new Parameter(start.clone());
        using (var optimizer = new DecoupledAdamW([(straight, 0.01)], 0.9, 0.99, 1e-8))
        {
            foreach (var gradient in gradients)
                Train(optimizer, straight, gradient);
        }

        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"adamw-{Guid.NewGuid():N}.bin");
        try
        {
            var interrupted = new Parameter(start.clone());
            using (var first = new DecoupledAdamW([(interrupted, 0.01)], 0.9, 0.99, 1e-8))
            {
                Train(first, interrupted, gradients[0]);
                Train(first, interrupted, gradients[1]);
                first.Save(path);
            }
            using (var second = new DecoupledAdamW([(interrupted, 0.01)], 0.9, 0.99, 1e-8))
            {
                second.Load(path);
                Train(second, interrupted, gradients[2]);
                Train(second, interrupted, gradients[3]);
            }
            Assert.Equal(0f, (interrupted - straight).abs().max().item<float>());

            using var twoParameters = new DecoupledAdamW([(new Parameter(torch.zeros(4, 2)), 0), (new Parameter(torch.zeros(2)), 0)], 0.9, 0.99, 1e-8);
            Assert.Throws<InvalidDataException>(() => twoParameters.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Train(DecoupledAdamW optimizer, Parameter parameter, Tensor gradient)
    {
        optimizer.ZeroGrad();
        parameter.grad = gradient.clone();
        optimizer.Step(0.1);
    }
}
