using BenchmarkDotNet.Attributes;
using LMIndexer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// One forward+backward step of the <c>small</c> config (batch 64, source 128, target 4 — the
/// shape of semantic-ID training), in fp32 and bf16, beside a bare square matmul of the same
/// dtype: the ratio of their GFLOP/s is the fraction of matmul peak the model reaches.
/// </summary>
[MemoryDiagnoser(false)]
public class TrainingStepBenchmarks
{
    public const int Batch = 64;
    public const int SourceLength = 128;
    public const int TargetLength = 4;
    public const int VocabSize = 8000;
    public const int MatmulSize = 1024;

    private T5Model? model;
    private Tensor? ids, mask, decoderInput, labels, a, b;

    [Params("fp32", "bf16")]
    public string Precision { get; set; } = "fp32";

    public static T5Config Config => T5Config.Small(VocabSize) with { DropoutRate = 0.1 };

    private ScalarType Dtype => Precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;

    [GlobalSetup]
    public void Setup()
    {
        BenchmarkRuntime.Initialize();
        torch.manual_seed(1);
        model = new T5Model(Config);
        model.to(Dtype);
        model.train();
        ids = torch.randint(4, VocabSize, [Batch, SourceLength], dtype: ScalarType.Int64);
        mask = torch.ones(Batch, SourceLength, dtype: ScalarType.Int64);
        labels = torch.randint(4, VocabSize, [Batch, TargetLength], dtype: ScalarType.Int64);
        decoderInput = model.ShiftRight(labels);
        a = torch.randn([MatmulSize, MatmulSize], dtype: Dtype);
        b = torch.randn([MatmulSize, MatmulSize], dtype: Dtype);
    }

    [Benchmark(Description = "train-step")]
    public float TrainStep()
    {
        using var scope = NewDisposeScope();
        model!.zero_grad();
        var loss = T5Model.SequenceLoss(model.Forward(ids!, mask!, decoderInput!), labels!);
        loss.backward();
        return loss.item<float>();
    }

    [Benchmark(Description = "matmul")]
    public float Matmul()
    {
        using var scope = NewDisposeScope();
        return a!.matmul(b!)[0, 0].to(ScalarType.Float32).item<float>();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        model?.Dispose();
        foreach (var t in new[] { ids, mask, decoderInput, labels, a, b })
            t?.Dispose();
    }

    public static double TrainStepFlops => T5FlopCounter.TrainingStep(Config, Batch, SourceLength, TargetLength);
    public static double MatmulFlops => 2.0 * MatmulSize * MatmulSize * MatmulSize;
}
