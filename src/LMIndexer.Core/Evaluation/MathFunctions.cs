namespace LMIndexer.Core.Evaluation;

/// <summary>Special functions .NET lacks.</summary>
public static class MathFunctions
{
    private static readonly double[] LanczosCoefficients =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7; relative error ≈ 1e-15).</summary>
    public static double LogGamma(double x)
    {
        if (x <= 0)
            throw new ArgumentOutOfRangeException(nameof(x), x, "LogGamma is defined here for positive x only.");
        if (x < 0.5)
            return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        var sum = LanczosCoefficients[0];
        var t = x + 7.5;
        for (var i = 1; i < LanczosCoefficients.Length; i++)
            sum += LanczosCoefficients[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
