using LMIndexer.Core.Indexing;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class CodebookQuantizerTests
{
    [Fact]
    public void Forward_value_is_the_hard_code_and_gradient_is_the_soft_paths()
    {
        torch.manual_seed(2);
        using var quantizer = new CodebookQuantizer(codebookSize: 5, dim: 4);
        using var scope = NewDisposeScope();
        var h = torch.randn(3, 4, requires_grad: true);
        var upstream = torch.randn(3, 4);

        var quantized = quantizer.Forward(h);
        var hard = quantizer.Embed.index_select(0, h.matmul(quantizer.Embed.t()).argmax(-1));
        Assert.True((quantized.Z - hard).abs().max().item<float>() < 1e-6f, "z must equal the hard code vector");
        Assert.Equal(quantizer.Assign(h).data<long>().ToArray(), quantized.Codes.data<long>().ToArray());

        (quantized.Z * upstream).sum().backward();
        var gradH = h.grad!.clone();
        var gradE = quantizer.Embed.grad!.clone();

        // The soft path alone: softmax(h·Eᵀ)·E.
        h.grad!.zero_();
        quantizer.Embed.grad!.zero_();
        var soft = nn.functional.softmax(h.matmul(quantizer.Embed.t()), -1).matmul(quantizer.Embed);
        (soft * upstream).sum().backward();
        Assert.True((gradH - h.grad!).abs().max().item<float>() < 1e-6f, "gradient w.r.t. h differs from the soft path's");
        Assert.True((gradE - quantizer.Embed.grad!).abs().max().item<float>() < 1e-6f, "gradient w.r.t. E differs from the soft path's");
        Assert.True(gradH.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Load_replaces_the_codebook_and_rejects_wrong_shapes()
    {
        using var quantizer = new CodebookQuantizer(3, 2);
        using var centroids = torch.tensor(new float[] { 1, 0, 0, 1, -1, -1 }).reshape(3, 2);
        quantizer.Load(centroids);
        using var h = torch.tensor(new float[] { 5, 0.1f, 0.2f, 3, -2, -2 }).reshape(3, 2);
        Assert.Equal(new long[] { 0, 1, 2 }, quantizer.Assign(h).data<long>().ToArray());
        using var wrong = torch.zeros(4, 2);
        Assert.Throws<ArgumentException>(() => quantizer.Load(wrong));
    }
}
