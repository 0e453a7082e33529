using System.CommandLine;
using LMIndexer.Core.Runtime;

namespace LMIndexer.Cli.Commands;

/// <summary>Options every compute command shares, and the runtime set-up they drive.</summary>
public sealed class CommonOptions
{
    public Option<int> Threads { get; } = new("--threads") { Description = "Intra-op threads for libtorch (0 = one per core).", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" };
    /// <summary>The seed a command runs with when none is given (named here so recorded runs without one can be told apart).</summary>
    public const int DefaultSeed = 42;

    public Option<int> Seed { get; } = new("--seed") { Description = "Random seed: the same seed gives the same result.", DefaultValueFactory = _ => DefaultSeed };
    public Option<string> Precision { get; } = new("--precision") { Description = "Inference precision of served models: float32 or bf16.", DefaultValueFactory = _ => "float32" };

    public void AddTo(Command command)
    {
        command.Options.Add(Threads);
        command.Options.Add(Device);
        command.Options.Add(Seed);
        command.Options.Add(Precision);
    }

    public void InitializeRuntime(ParseResult result)
    {
        var threads = result.GetValue(Threads);
        if (threads < 0)
            throw new ArgumentException($"--threads must be 0 or more, got {threads}.");
        TorchRuntime.Initialize(new TorchRuntimeOptions
        {
            Threads = threads,
            Device = result.GetValue(Device) ?? "cpu",
            Seed = result.GetValue(Seed),
            Precision = TorchRuntimeOptions.ParsePrecision(result.GetValue(Precision) ?? "float32"),
        });
    }
}
