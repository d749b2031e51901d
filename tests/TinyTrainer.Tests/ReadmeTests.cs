using System.Text.RegularExpressions;

namespace TinyTrainer.Tests;

/// <summary>The README's usage example is the sample's code, so it compiles with the sample.</summary>
public sealed partial class ReadmeTests
{
    [Fact]
    public void ReadmeExamples_AreLinesOfTheSamplesCodeInOrder()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Konduktor.Storage.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("The repository root was not found.");
        }

        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var examples = SampleBlock().Matches(readme);
        Assert.True(examples.Count >= 2, "the README quotes the sample");

        foreach (Match example in examples)
        {
            var source = File.ReadAllLines(Path.Combine(root, example.Groups["file"].Value)).Select(l => l.Trim()).ToList();
            var at = 0;
            foreach (var line in example.Groups["code"].Value.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
            {
                var found = source.FindIndex(at, l => l == line);
                Assert.True(found >= 0, $"README line not in {example.Groups["file"].Value} (in order): {line}");
                at = found + 1;
            }
        }
    }

    [GeneratedRegex(@"<!-- sample: (?<file>[^ ]+) -->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex SampleBlock();
}
