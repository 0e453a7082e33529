using LMIndexer.Core.Runtime;
using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Hosting.Options;

/// <summary>libtorch settings (section <c>Torch</c>).</summary>
public sealed class TorchOptions
{
    public const string Section = "Torch";

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Intra-op threads; 0: one per core.</summary>
    public int Threads { get; set; }

    /// <summary>Inference precision: <c>float32</c> or <c>bf16</c>.</summary>
    public ComputePrecision Precision { get; set; } = ComputePrecision.Float32;
}

/// <summary>Rejects libtorch settings that cannot work, at start-up.</summary>
public sealed class TorchOptionsValidator : IValidateOptions<TorchOptions>
{
    public ValidateOptionsResult Validate(string? name, TorchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Threads < 0)
            errors.Add($"Torch:Threads cannot be negative (got {options.Threads}; 0 is one per core).");
        if (!(options.Device == "cpu" || options.Device == "cuda" || (options.Device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(options.Device[5..], out var index) && index >= 0)))
            errors.Add($"Torch:Device must be cpu, cuda or cuda:N (got '{options.Device}').");
        if (!Enum.IsDefined(options.Precision))
            errors.Add($"Torch:Precision must be float32 or bf16 (got {options.Precision}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
