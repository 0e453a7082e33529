namespace LMIndexer.Core.Training;

/// <summary>A progress report from a training loop (one per step).</summary>
public sealed record TrainingProgress(
    string Stage,
    int Step,
    int TotalSteps,
    double Loss,
    double LearningRate,
    double SequencesPerSecond,
    IReadOnlyDictionary<string, double>? LossParts = null,
    int Epoch = 0,
    int Epochs = 0);

/// <summary>What a finished training run measured.</summary>
public sealed record TrainingReport(string Stage, int Steps, double FirstLoss, double FinalLoss, double Seconds, double SequencesPerSecond);
