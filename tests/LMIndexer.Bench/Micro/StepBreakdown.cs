using System.Diagnostics;
using LMIndexer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Where a training step's time goes (forward vs backward, with and without dropout), timed with a
/// stopwatch over a few steps: a diagnostic beside the BenchmarkDotNet figures, not a benchmark.
/// `dotnet run -c Release --project tests/LMIndexer.Bench -- micro breakdown`; mask costs: `-- dropout`.
/// </summary>
internal static class StepBreakdown
{
    public static void Run()
    {
        BenchmarkRuntime.Initialize();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            foreach (var dropout in new[] { 0.1, 0.0 })
            {
                torch.manual_seed(1);
                using var model = new T5Model(TrainingStepBenchmarks.Config with { DropoutRate = dropout });
                model.to(dtype);
                model.train();
                using var ids = torch.randint(4, TrainingStepBenchmarks.VocabSize, [TrainingStepBenchmarks.Batch, TrainingStepBenchmarks.SourceLength], dtype: ScalarType.Int64);
                using var mask = torch.ones(TrainingStepBenchmarks.Batch, TrainingStepBenchmarks.SourceLength, dtype: ScalarType.Int64);
                using var labels = torch.randint(4, TrainingStepBenchmarks.VocabSize, [TrainingStepBenchmarks.Batch, TrainingStepBenchmarks.TargetLength], dtype: ScalarType.Int64);
                using var decoderInput = model.ShiftRight(labels);
                double forward = 0, backward = 0;
                const int steps = 4;
                for (var step = 0; step <= steps; step++)
                {
                    using var scope = NewDisposeScope();
                    model.zero_grad();
                    var clock = Stopwatch.StartNew();
                    var loss = T5Model.SequenceLoss(model.Forward(ids, mask, decoderInput), labels);
                    _ = loss.item<float>();
                    var f = clock.Elapsed.TotalMilliseconds;
                    loss.backward();
                    var b = clock.Elapsed.TotalMilliseconds - f;
                    if (step == 0)
                        continue; // warm-up
                    forward += f;
                    backward += b;
                }
                Console.WriteLine($"{dtype,-9} dropout {dropout:F1}: forward {forward / steps,7:F0} ms, backward {backward / steps,7:F0} ms");
            }
        }
    }
}
