using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Checkpoints;

public sealed class SafeTensorsTests
{
    [Fact]
    public void Round_trips_every_dtype_bit_for_bit()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = torch.randn(3, 4),
            ["bf16"] = torch.randn(5).to(ScalarType.BFloat16),
            ["f16"] = torch.randn(2, 2).to(ScalarType.Float16),
            ["i64"] = TensorArithmetic.Range(7, torch.CPU),
            ["scalar"] = torch.tensor(3.5f),
            ["empty"] = torch.zeros(0, 3),
        };
        var path = temp.File("t.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var (loaded, metadata) = SafeTensors.Load(path);
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, tensor) in tensors)
        {
            Assert.Equal(tensor.dtype, loaded[name].dtype);
            Assert.Equal(tensor.shape, loaded[name].shape);
            Assert.Equal(tensor.bytes.ToArray(), loaded[name].bytes.ToArray());
        }
    }

    [Fact]
    public void Writes_the_documented_layout()
    {
        using var temp = new TempDirectory();
        using var t = torch.tensor(new float[] { 1, 2 });
        var path = temp.File("t.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = t });
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, headerLength % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, headerLength).TrimEnd());
        var w = header.RootElement.GetProperty("w");
        Assert.Equal("F32", w.GetProperty("dtype").GetString());
        Assert.Equal(new[] { 0, 8 }, w.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1f, BitConverter.ToSingle(bytes, 8 + headerLength));
        Assert.Equal(2f, BitConverter.ToSingle(bytes, 12 + headerLength));
    }

    [Fact]
    public void Rejects_truncated_or_inconsistent_files()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp.File("short"), [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Load(temp.File("short")));

        var header = Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""");
        var bytes = new byte[8 + header.Length + 8]; // only 8 of the 16 data bytes
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(temp.File("cut"), bytes);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(temp.File("cut")));
        Assert.Contains("'w'", error.Message, StringComparison.Ordinal);
    }
}
