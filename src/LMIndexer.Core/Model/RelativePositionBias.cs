using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// T5's bucketed relative position bias: half the buckets hold exact small distances, the rest grow
/// logarithmically up to the max distance. Bidirectional buckets split by sign (encoder,
/// reconstructor); causal buckets only look back (decoder).
/// </summary>
public static class RelativePositionBias
{
    /// <summary>Bucket of each relative position (memory − query), exactly as HF's _relative_position_bucket.</summary>
    public static Tensor Bucket(Tensor relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        using var scope = NewDisposeScope();
        var buckets = torch.zeros_like(relativePosition);
        Tensor distance;
        if (bidirectional)
        {
            numBuckets /= 2;
            buckets = buckets.Plus(relativePosition.Above(0).to(ScalarType.Int64).Times(numBuckets));
            distance = relativePosition.abs();
        }
        else
        {
            distance = -torch.minimum(relativePosition, torch.zeros_like(relativePosition));
        }
        var maxExact = numBuckets / 2;
        var isSmall = distance.Below(maxExact);
        var large = torch.log(distance.to(ScalarType.Float32).Over(maxExact))
                    .Over(Math.Log((double)maxDistance / maxExact))
                    .Times(numBuckets - maxExact).to(ScalarType.Int64).Plus(maxExact)
                    .AtMost(numBuckets - 1);
        return buckets.Plus(torch.where(isSmall, distance, large)).MoveToOuterDisposeScope();
    }

    /// <summary>Bucket indices for query positions offset..offset+queryLength against key positions 0..keyLength.</summary>
    public static Tensor BucketGrid(long queryLength, long keyLength, long queryOffset, bool bidirectional, int numBuckets, int maxDistance, Device device)
    {
        using var scope = NewDisposeScope();
        var context = TensorArithmetic.Range(queryOffset, queryOffset + queryLength, device).unsqueeze(1); // [q, 1]
        var memory = TensorArithmetic.Range(keyLength, device).unsqueeze(0);                                // [1, k]
        return Bucket(memory - context, bidirectional, numBuckets, maxDistance).MoveToOuterDisposeScope();                         // [q, k]
    }
}
