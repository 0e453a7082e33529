using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// Dropout that is free outside training. libtorch's dropout in eval mode still costs a native call
/// and a new tensor handle, and a decode step runs a few dozen of them for nothing.
/// </summary>
internal static class TrainOnlyDropout
{
    public static Tensor Apply(Tensor input, double rate, bool training) =>
        training && rate > 0 ? nn.functional.dropout(input, rate, training: true) : input;
}
