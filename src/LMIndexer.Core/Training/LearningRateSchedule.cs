namespace LMIndexer.Core.Training;

/// <summary>Warm-up then decay to zero over <c>totalSteps</c>.</summary>
public sealed class LearningRateSchedule(OptimizerOptions options, int totalSteps)
{
    private readonly int warmupSteps = (int)Math.Ceiling(options.WarmupRatio * totalSteps);

    /// <summary>Learning rate for 0-based <paramref name="step"/>.</summary>
    public double At(int step)
    {
        if (step < warmupSteps)
            return options.LearningRate * (step + 1) / warmupSteps;
        var progress = totalSteps <= warmupSteps ? 1.0 : (double)(step - warmupSteps) / (totalSteps - warmupSteps);
        progress = Math.Clamp(progress, 0, 1);
        return options.Decay switch
        {
            LearningRateDecay.Linear => options.LearningRate * (1 - progress),
            LearningRateDecay.Cosine => options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => options.LearningRate,
        };
    }
}
