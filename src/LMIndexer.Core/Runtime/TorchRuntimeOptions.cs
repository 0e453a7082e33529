namespace LMIndexer.Core.Runtime;

/// <summary>How every entry point (CLI, silo, tests) configures libtorch.</summary>
public sealed record TorchRuntimeOptions
{
    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Intra-op threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Precision for inference and for benchmarks that opt in to it.</summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Float32;

    /// <summary>Seed applied to torch's generator at start-up.</summary>
    public long? Seed { get; init; }

    /// <summary>Parses <c>float32</c> / <c>fp32</c> or <c>bf16</c> / <c>bfloat16</c>.</summary>
    public static ComputePrecision ParsePrecision(string text) => text.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" => ComputePrecision.Float32,
        "bf16" or "bfloat16" => ComputePrecision.BFloat16,
        _ => throw new ArgumentException($"Unknown precision '{text}'; expected float32 or bf16."),
    };
}

/// <summary>Numeric precision for model weights and activations (configuration spells it <c>float32</c> or <c>bf16</c>).</summary>
[System.ComponentModel.TypeConverter(typeof(ComputePrecisionConverter))]
public enum ComputePrecision
{
    Float32,

    /// <summary>bfloat16: 2.3–2.6× faster matmul on AVX-512 BF16 CPUs; there is no autocast.</summary>
    BFloat16,
}

/// <summary>Lets configuration binding read the spellings users write (<c>bf16</c>, <c>fp32</c>) as well as the names.</summary>
public sealed class ComputePrecisionConverter : System.ComponentModel.EnumConverter
{
    public ComputePrecisionConverter() : base(typeof(ComputePrecision))
    {
    }

    public override object? ConvertFrom(System.ComponentModel.ITypeDescriptorContext? context, System.Globalization.CultureInfo? culture, object value) =>
        value is string text && !Enum.TryParse<ComputePrecision>(text, ignoreCase: true, out _)
            ? TorchRuntimeOptions.ParsePrecision(text)
            : base.ConvertFrom(context, culture, value);
}

