using System.Diagnostics;

namespace LMIndexer.Testing;

/// <summary>Runs a built tool (<c>lmindexer</c>, <c>lmindexer-bench</c>) beside the tests as a child process, as its users do.</summary>
public static class ToolProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <exception cref="TimeoutException">The tool ran past <paramref name="timeout"/>; it is killed.</exception>
    public static Result Run(string tool, string workingDirectory, TimeSpan timeout, params string[] args) =>
        RunExecutable("dotnet", workingDirectory, timeout,
            new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1", ["COLUMNS"] = "200" },   // COLUMNS: tables on one line each
            [Path.Combine(AppContext.BaseDirectory, tool + ".dll"), .. args]);

    /// <summary>Any executable (a test tool from npm, node), run to its end with its output.</summary>
    /// <exception cref="TimeoutException">It ran past <paramref name="timeout"/>; it is killed.</exception>
    public static Result RunExecutable(string executable, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(executable) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(executable)} {string.Join(' ', args)} ran past {timeout}.");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Starts a tool that keeps running (a server); <paramref name="environment"/> adds variables.</summary>
    public static Running Start(string tool, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, tool + ".dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["OMP_NUM_THREADS"] = "1";
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        return new Running(Process.Start(info)!);
    }

    /// <summary>A running tool; stopped with SIGTERM as docker and systemd stop it, killed on dispose if still running.</summary>
    public sealed class Running : IDisposable
    {
        private readonly Process process;
        private readonly System.Text.StringBuilder log = new();

        internal Running(Process process)
        {
            this.process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        /// <summary>What the tool wrote so far, standard output and error interleaved.</summary>
        public string Output
        {
            get
            {
                lock (log)
                    return log.ToString();
            }
        }

        public bool HasExited => process.HasExited;

        public int ExitCode => process.ExitCode;

        /// <summary>Sends SIGTERM.</summary>
        public void Terminate() => Signal("TERM");

        /// <summary>Sends SIGSTOP: the process stops answering without closing a connection, as a hung or cut-off machine does (disposing kills it).</summary>
        public void Freeze() => Signal("STOP");

        private void Signal(string name)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + name, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
            kill.WaitForExit();
        }

        /// <summary>Sends SIGKILL: the process dies at once, as in a crash or an OOM kill.</summary>
        public void Kill()
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        public bool WaitForExit(TimeSpan timeout) => process.WaitForExit(timeout);

        public void Dispose()
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
                return;
            lock (log)
                log.AppendLine(line);
        }
    }
}
