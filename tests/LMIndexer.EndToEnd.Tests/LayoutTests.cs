using System.Text.RegularExpressions;
using System.Xml.Linq;
using LMIndexer.Testing;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>
/// The product (src/) stands apart from the lab (tests/LMIndexer.Research, tests/LMIndexer.Bench):
/// dependencies point from the lab to the product, never back, so a shop builds and ships src/ alone.
/// </summary>
public sealed partial class LayoutTests
{
    private static readonly string Root = TestEnvironment.RepositoryRoot();

    [Fact]
    public void No_product_project_references_a_project_outside_src()
    {
        var products = Directory.GetFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories);
        Assert.NotEmpty(products);
        foreach (var project in products)
        {
            foreach (var reference in ProjectReferences(project))
            {
                Assert.True(reference.StartsWith(Path.Combine(Root, "src") + Path.DirectorySeparatorChar, StringComparison.Ordinal),
                    $"{Path.GetFileName(project)} references {Path.GetRelativePath(Root, reference)}, outside src/");
            }
        }
    }

    [Fact]
    public void The_products_tests_build_and_run_without_the_lab()
    {
        // Everything under tests/ except the lab's own projects and their tests: what a shop runs to check the product.
        string[] lab = ["LMIndexer.Research", "LMIndexer.Bench", "LMIndexer.Lab.Tests"];
        var productTests = Directory.GetFiles(Path.Combine(Root, "tests"), "*.csproj", SearchOption.AllDirectories)
            .Where(p => !lab.Contains(Path.GetFileNameWithoutExtension(p)))
            .ToList();
        Assert.Contains(productTests, p => p.EndsWith("LMIndexer.Core.Tests.csproj", StringComparison.Ordinal));
        foreach (var project in productTests)
        {
            foreach (var reference in Closure(project))
                Assert.DoesNotContain(Path.GetFileNameWithoutExtension(reference), lab);
        }
    }

    [Fact]
    public void No_product_source_names_the_lab()
    {
        var offenders = Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => LabNamespace().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(Root, f))
            .ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void The_lab_lives_under_tests_and_every_solution_project_is_in_src_or_tests()
    {
        var solution = File.ReadAllText(Path.Combine(Root, "LMIndexer.Orleans.sln"));
        var projects = SolutionProject().Matches(solution).Select(m => m.Groups[1].Value.Replace('\\', '/')).ToList();
        Assert.Contains("tests/LMIndexer.Research/LMIndexer.Research.csproj", projects);
        Assert.Contains("tests/LMIndexer.Bench/LMIndexer.Bench.csproj", projects);
        Assert.Contains("tests/LMIndexer.Lab.Tests/LMIndexer.Lab.Tests.csproj", projects);
        Assert.All(projects, p => Assert.True(p.StartsWith("src/", StringComparison.Ordinal) || p.StartsWith("tests/", StringComparison.Ordinal), p));
        Assert.All(projects, p => Assert.True(File.Exists(Path.Combine(Root, p)), $"{p} is in the solution but not on disk"));
        Assert.True(Directory.Exists(Path.Combine(Root, "tests", "LMIndexer.Bench", "results")), "recorded runs live in tests/LMIndexer.Bench/results");
    }

    private static IEnumerable<string> Closure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(ProjectReferences(project));
        while (pending.TryPop(out var next))
        {
            if (seen.Add(next))
                foreach (var reference in ProjectReferences(next))
                    pending.Push(reference);
        }
        return seen;
    }

    private static IEnumerable<string> ProjectReferences(string project) =>
        XDocument.Load(project).Descendants("ProjectReference")
            .Select(r => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, r.Attribute("Include")!.Value.Replace('\\', '/'))));

    [GeneratedRegex(@"\bLMIndexer\.(Research|Bench)\b")]
    private static partial Regex LabNamespace();

    [GeneratedRegex(@"Project\(""\{[^}]+\}""\) = ""[^""]+"", ""([^""]+\.csproj)""")]
    private static partial Regex SolutionProject();
}
