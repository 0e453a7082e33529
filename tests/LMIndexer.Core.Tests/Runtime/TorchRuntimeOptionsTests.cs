using LMIndexer.Core.Runtime;

namespace LMIndexer.Core.Tests.Runtime;

public sealed class TorchRuntimeOptionsTests
{
    [Theory]
    [InlineData("float32", ComputePrecision.Float32)]
    [InlineData("FP32", ComputePrecision.Float32)]
    [InlineData(" bf16 ", ComputePrecision.BFloat16)]
    [InlineData("bfloat16", ComputePrecision.BFloat16)]
    public void Precision_names_parse(string text, ComputePrecision expected) =>
        Assert.Equal(expected, TorchRuntimeOptions.ParsePrecision(text));

    [Fact]
    public void Unknown_precision_is_rejected_with_the_accepted_names()
    {
        var error = Assert.Throws<ArgumentException>(() => TorchRuntimeOptions.ParsePrecision("fp64"));
        Assert.Contains("float32 or bf16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_initialisation_with_other_options_is_refused()
    {
        Assert.True(TorchRuntime.IsInitialized);
        Assert.Throws<InvalidOperationException>(() => TorchRuntime.Initialize(TorchRuntime.Options with { Threads = TorchRuntime.Options.Threads + 1 }));
        TorchRuntime.Initialize(TorchRuntime.Options);   // the same options are fine
    }
}
