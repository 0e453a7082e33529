using LMIndexer.Core.Downstream;
using LMIndexer.Core.Training;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Console;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// The fine-tuning budget every seq2seq system of a ranking benchmark gets: the reference's
/// linear decay (unless cosine is asked; no warm-up unless asked), validation on 512 examples unless asked, 20 beams.
/// </summary>
public static class BenchFineTuning
{
    public const int DefaultValidationLimit = 512;

    public static FineTuneOptions Options(int steps, int batchSize, double learningRate, int evalEvery, int seed, double warmupRatio = 0, int validationLimit = DefaultValidationLimit, LearningRateDecay decay = LearningRateDecay.Linear) => new()
    {
        Steps = steps,
        BatchSize = batchSize,
        Optimizer = new OptimizerOptions { LearningRate = learningRate, WarmupRatio = warmupRatio, Decay = decay },
        EvalEvery = evalEvery,
        ValidationLimit = validationLimit,
        Evaluation = new EvaluationOptions { Beams = 20, BatchSize = 64 },
        Seed = seed,
    };
}
