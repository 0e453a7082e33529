using System.Diagnostics;
using LMIndexer.Cli.Commands;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Research.Recommendation;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Micro;

/// <summary>
/// Where a SASRec training step's time goes on a real catalog (encoder forward, item scores and
/// cross-entropy, backward, Adam), timed with a stopwatch over a few batches drawn as the trainer
/// draws them: a diagnostic, not a benchmark.
/// <c>dotnet run -c Release --project tests/LMIndexer.Bench -- micro sasrec-breakdown DATA [hidden] [threads]</c>.
/// </summary>
internal static class SasRecStepBreakdown
{
    private const int Batch = 128;
    private const int Steps = 10;

    public static void Run(string dataDirectory, int hidden, int threads)
    {
        TorchRuntime.Initialize(new TorchRuntimeOptions { Threads = threads });
        var catalog = RecCommands.LoadCatalog(new DirectoryInfo(dataDirectory));
        var itemIds = catalog.Items.Select(i => i.ItemId).ToList();
        var index = itemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i + 1, StringComparer.Ordinal);
        var training = catalog.Users.Select(u => u.ItemIds.Where(index.ContainsKey).Select(id => index[id]).ToArray()).Where(s => s.Length >= 4).Select(s => s[..^2]).ToList();
        var config = new SasRecConfig { ItemCount = itemIds.Count, Hidden = hidden };
        torch.manual_seed(1);
        using var model = new SasRecModel(config);
        model.train();
        using var optimizer = torch.optim.Adam(model.parameters(), 1e-3, beta1: 0.9, beta2: 0.98);
        var random = new Random(1);
        double encode = 0, loss = 0, backward = 0, step = 0, positions = 0;
        for (var i = 0; i <= Steps; i++)
        {
            using var scope = NewDisposeScope();
            var batch = Enumerable.Range(0, Batch).Select(_ => training[random.Next(training.Count)]).ToList();
            var inputs = SasRecTrainer.LeftPad([.. batch.Select(s => s[..^1])], config.MaxLength, torch.CPU);    // [batch, len]
            var targets = SasRecTrainer.LeftPad([.. batch.Select(s => s[1..])], config.MaxLength, torch.CPU);    // [batch, len]
            var clock = Stopwatch.StartNew();
            var states = model.Encode(inputs);                                                                      // [batch, len, hidden]
            _ = states.sum().item<float>();
            var e = clock.Elapsed.TotalMilliseconds;
            var flat = targets.reshape(-1);
            var real = flat.OtherThan(0).nonzero().squeeze(-1);                                                           // [positions]
            var picked = states.reshape(-1, hidden).index_select(0, real);                                         // [positions, hidden]
            var lossTensor = nn.functional.cross_entropy(model.Scores(picked), flat.index_select(0, real));
            _ = lossTensor.item<float>();
            var l = clock.Elapsed.TotalMilliseconds - e;
            optimizer.zero_grad();
            lossTensor.backward();
            var b = clock.Elapsed.TotalMilliseconds - e - l;
            optimizer.step();
            var o = clock.Elapsed.TotalMilliseconds - e - l - b;
            if (i == 0)
                continue;   // warm-up
            (encode, loss, backward, step, positions) = (encode + e, loss + l, backward + b, step + o, positions + real.shape[0]);
        }
        // The encoder alone again without dropout (eval mode), and the same shapes with the batch cut to its real positions' width.
        model.eval();
        var withoutDropout = 0.0;
        for (var i = 0; i < Steps; i++)
        {
            using var scope = NewDisposeScope();
            var batch = Enumerable.Range(0, Batch).Select(_ => training[random.Next(training.Count)]).ToList();
            var inputs = SasRecTrainer.LeftPad([.. batch.Select(s => s[..^1])], config.MaxLength, torch.CPU);
            var clock = Stopwatch.StartNew();
            _ = model.Encode(inputs).sum().item<float>();
            withoutDropout += clock.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"  encoder forward without dropout: {withoutDropout / Steps:F0} ms");
        var total = encode + loss + backward + step;
        Console.WriteLine($"SASRec d {hidden}, {itemIds.Count:N0} items, batch {Batch}, {positions / Steps:F0} scored positions a step, {threads} thread(s):");
        Console.WriteLine($"  encoder forward {encode / Steps:F0} ms, scores + CE {loss / Steps:F0} ms, backward {backward / Steps:F0} ms, Adam {step / Steps:F0} ms: {total / Steps:F0} ms a step, {Batch * Steps * 1000 / total:F0} examples/s");
    }
}
