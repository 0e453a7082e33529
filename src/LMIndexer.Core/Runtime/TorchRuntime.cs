using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Runtime;

/// <summary>
/// The one place that prepares libtorch for a process. It must run before the first tensor is
/// created: OpenMP reads <c>OMP_WAIT_POLICY</c> when libtorch loads, and busy-waiting OpenMP
/// threads collapse throughput on small shared machines.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly Lock Gate = new();
    private static TorchRuntimeOptions? current;

    /// <summary>The options the process was initialised with.</summary>
    public static TorchRuntimeOptions Options => current ?? throw new InvalidOperationException("TorchRuntime.Initialize has not run.");

    /// <summary>The configured device.</summary>
    public static Device Device { get; private set; } = CPU;

    /// <summary>The configured precision as a torch dtype.</summary>
    public static ScalarType Dtype => Options.Precision == ComputePrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>libtorch intra-op threads of every thread that does not choose its own.</summary>
    public static int IntraOpThreads { get; private set; } = Environment.ProcessorCount;

    /// <summary>
    /// Gives the calling thread its own intra-op thread count, leaving the process's alone.
    /// libtorch's <c>set_num_threads</c> also sets the count that every thread takes on its first
    /// parallel op, so calling it from a worker would silently narrow all later threads (and change
    /// their float summation order). Here the calling thread takes its count at once, and a
    /// short-lived thread then puts the process's count back.
    /// </summary>
    public static void UseThreadsOnThisThread(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (Gate)
        {
            torch.set_num_threads(threads);
            using (var probe = torch.ones(1 << 16))
                _ = probe.sum().item<float>();   // this thread's lazy thread-count initialisation, now
            var restore = new Thread(() => torch.set_num_threads(IntraOpThreads)) { Name = "torch thread count" };
            restore.Start();
            restore.Join();
        }
    }

    /// <summary>Initialises libtorch once; later calls with other options are rejected.</summary>
    public static void Initialize(TorchRuntimeOptions? options = null)
    {
        options ??= new TorchRuntimeOptions();
        lock (Gate)
        {
            if (current is not null)
            {
                if (current != options)
                    throw new InvalidOperationException($"TorchRuntime is already initialised with {current}.");
                return;
            }

            // .NET's Environment.SetEnvironmentVariable does not reach the native environ on Unix.
            if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is null)
            {
                Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
                if (!OperatingSystem.IsWindows())
                    _ = SetNativeEnvironment("OMP_WAIT_POLICY", "PASSIVE", 1);
            }

            var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
            torch.set_num_threads(threads);
            IntraOpThreads = threads;
            torch.set_default_dtype(ScalarType.Float32);
            Device = ResolveDevice(options.Device);
            if (options.Seed is long seed)
                torch.manual_seed(seed);
            current = options;
        }
    }

    /// <summary>Whether a host in this process (the CLI before it embeds a silo, say) has initialised the runtime.</summary>
    public static bool IsInitialized
    {
        get
        {
            lock (Gate)
                return current is not null;
        }
    }

    /// <summary>Initialises with defaults when nothing has initialised the runtime yet.</summary>
    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (current is null)
                Initialize();
        }
    }

    /// <summary>Parses a device option, failing clearly when CUDA is asked for but absent.</summary>
    public static Device ResolveDevice(string device)
    {
        var normalized = device.Trim().ToLowerInvariant();
        if (normalized == "cpu")
            return CPU;
        if (normalized == "cuda" || normalized.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new InvalidOperationException($"Device '{device}' was requested but CUDA is not available (build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU).");
            return torch.device(normalized);
        }
        throw new ArgumentException($"Unknown device '{device}'; expected cpu, cuda or cuda:N.", nameof(device));
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNativeEnvironment(string name, string value, int overwrite);
}
