using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>Options of <see cref="KMeans"/>; the reference uses faiss with 3000 iterations and 10 restarts.</summary>
public sealed record KMeansOptions
{
    public int MaxIterations { get; init; } = 300;
    public int Restarts { get; init; } = 10;
    public double Tolerance { get; init; } = 1e-6;
    public int Seed { get; init; } = 42;
}

/// <summary>A clustering: centroids [K, d], assignment per point [N] and the within-cluster sum of squares.</summary>
public sealed record KMeansResult(Tensor Centroids, long[] Assignments, double Inertia, int Iterations);

/// <summary>
/// L2 k-means with k-means++ seeding and Lloyd iterations in TorchSharp; several restarts, the
/// lowest inertia wins. Empty clusters are re-seeded with the points farthest from their centroid.
/// </summary>
public static class KMeans
{
    public static KMeansResult Fit(Tensor points, int k, KMeansOptions? options = null)
    {
        options ??= new KMeansOptions();
        ArgumentNullException.ThrowIfNull(points);
        var n = points.shape[0];
        if (k < 1 || k > n)
            throw new ArgumentException($"k-means needs 1 ≤ k ≤ points, got k = {k} for {n} points.");
        using var noGrad = torch.no_grad();
        var data = points.detach().to(ScalarType.Float32);
        var generator = new Generator((ulong)options.Seed, data.device);
        KMeansResult? best = null;
        for (var restart = 0; restart < Math.Max(1, options.Restarts); restart++)
        {
            using var scope = NewDisposeScope();
            var result = Run(data, k, options, generator);
            if (best is null || result.Inertia < best.Inertia)
            {
                best?.Centroids.Dispose();
                best = result with { Centroids = result.Centroids.MoveToOuterDisposeScope() };
            }
        }
        return best!;
    }

    /// <summary>Index of the nearest centroid for each point (L2). // [N]</summary>
    public static Tensor Nearest(Tensor points, Tensor centroids) => SquaredDistances(points, centroids).argmin(1);

    private static KMeansResult Run(Tensor data, int k, KMeansOptions options, Generator generator)
    {
        var centroids = SeedPlusPlus(data, k, generator);                  // [K, d]
        var previous = double.PositiveInfinity;
        var iterations = 0;
        for (var iteration = 0; iteration < options.MaxIterations; iteration++)
        {
            // Each iteration's [N, K] temporaries go at once; only the new centroids leave it.
            using var step = NewDisposeScope();
            iterations = iteration + 1;
            var distances = SquaredDistances(data, centroids);             // [N, K]
            var (minimum, nearest) = distances.min(1);
            var inertia = minimum.sum().item<float>();
            var counts = torch.bincount(nearest, minlength: k).to(ScalarType.Float32); // [K]
            var sums = torch.zeros_like(centroids).index_add_(0, nearest, data, TensorArithmetic.One);      // [K, d]
            var updated = sums / counts.AtLeast(1.0).unsqueeze(1);
            var empty = counts.EqualTo(0).nonzero().squeeze(1);
            if (empty.numel() > 0)
            {
                // Re-seed empty clusters with the points currently worst served.
                var far = minimum.topk((int)empty.numel()).indexes;
                updated = updated.index_copy(0, empty, data.index_select(0, far));
            }
            centroids = updated.MoveToOuterDisposeScope();
            if (Math.Abs(previous - inertia) <= options.Tolerance * Math.Max(1, Math.Abs(inertia)) && empty.numel() == 0)
                break;
            previous = inertia;
        }
        var (finalMinimum, finalNearest) = SquaredDistances(data, centroids).min(1);
        return new KMeansResult(centroids, finalNearest.data<long>().ToArray(), finalMinimum.sum().item<float>(), iterations);
    }

    private static Tensor SeedPlusPlus(Tensor data, int k, Generator generator)
    {
        var n = data.shape[0];
        var chosen = new List<long> { torch.randint(n, [1], generator: generator).item<long>() };
        var closest = SquaredDistances(data, data.index_select(0, torch.tensor(chosen.ToArray()))).squeeze(1); // [N]
        while (chosen.Count < k)
        {
            var weights = closest.AtLeast(0.0);
            var total = weights.sum().item<float>();
            long next = total > 0
                ? torch.multinomial(weights.Over(total), 1, generator: generator).item<long>()
                : torch.randint(n, [1], generator: generator).item<long>();
            chosen.Add(next);
            var distance = SquaredDistances(data, data[next].unsqueeze(0)).squeeze(1);
            closest = torch.minimum(closest, distance);
        }
        return data.index_select(0, torch.tensor(chosen.ToArray())).clone();
    }

    private static Tensor SquaredDistances(Tensor points, Tensor centroids)
    {
        var pointNorms = points.pow(TensorArithmetic.Two).sum(1, keepdim: true);    // [N, 1]
        var centroidNorms = centroids.pow(TensorArithmetic.Two).sum(1).unsqueeze(0); // [1, K]
        return (pointNorms - points.matmul(centroids.t()).Times(2)).Plus(centroidNorms).AtLeast(0.0); // [N, K]
    }
}
