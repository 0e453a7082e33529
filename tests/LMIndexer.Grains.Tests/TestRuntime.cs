using System.Runtime.CompilerServices;
using LMIndexer.Core.Runtime;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.Grains.Tests;

internal static class TestRuntime
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = 1 });
}
