using System.Globalization;
using System.Text.RegularExpressions;

using YamlDotNet.RepresentationModel;

namespace TinyTrainer.Tests;

/// <summary>
/// Checks a <c>konduktor launch</c> task file against Konduktor's documented task schema (DESIGN §19): the keys it knows,
/// the required ones, their types, and a <c>run:</c> block that <c>exec</c>s the program so SIGTERM reaches it.
/// </summary>
internal static partial class KonduktorTaskFile
{
    private static readonly string[] TopLevel = ["name", "envs", "workdir", "num_nodes", "resources", "file_mounts", "run"];
    private static readonly string[] ResourceKeys = ["cpus", "memory", "image_id", "accelerators", "labels", "job_config"];
    private static readonly string[] JobConfigKeys = ["max_restarts", "completions"];
    private const string QueueLabel = "kueue.x-k8s.io/queue-name";

    /// <summary>Every problem found; empty when the file follows the schema.</summary>
    public static List<string> Problems(string yaml)
    {
        var problems = new List<string>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            return [$"not YAML: {e.Message}"];
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return ["the task file is not one mapping"];
        }

        Unknown(root, TopLevel, "", problems);
        if (Scalar(root, "name") is not { Length: > 0 })
        {
            problems.Add("name: required, a non-empty string");
        }

        if (Child(root, "envs") is { } envs && (envs is not YamlMappingNode map || map.Children.Any(c => c.Key is not YamlScalarNode || c.Value is not YamlScalarNode)))
        {
            problems.Add("envs: a map of names to values");
        }

        if (Child(root, "num_nodes") is { } nodes && !(Scalar(nodes) is { } n && int.TryParse(n, CultureInfo.InvariantCulture, out var count) && count >= 1))
        {
            problems.Add("num_nodes: a whole number of at least 1");
        }

        if (Child(root, "resources") is not YamlMappingNode resources)
        {
            problems.Add("resources: required, a map (image_id and the queue label are required)");
        }
        else
        {
            CheckResources(resources, problems);
        }

        var run = Scalar(root, "run");
        if (run is null || !run.Split('\n').Any(l => ExecLine().IsMatch(l)))
        {
            problems.Add("run: must exec the program (`exec dotnet …`), or bash, the container's first process, keeps SIGTERM from it");
        }

        return problems;
    }

    /// <summary>The value of the first <c>exec</c> line of the run block.</summary>
    public static string ExecCommand(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var run = Scalar((YamlMappingNode)stream.Documents[0].RootNode, "run") ?? "";
        return run.Split('\n').Select(l => l.Trim()).First(l => ExecLine().IsMatch(l))["exec ".Length..].Trim();
    }

    /// <summary>An env value of the task file.</summary>
    public static string? Env(string yaml, string name)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Child((YamlMappingNode)stream.Documents[0].RootNode, "envs") is YamlMappingNode envs ? Scalar(envs, name) : null;
    }

    private static void CheckResources(YamlMappingNode resources, List<string> problems)
    {
        Unknown(resources, ResourceKeys, "resources.", problems);
        if (Child(resources, "cpus") is { } cpus && !(Scalar(cpus) is { } c && double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0))
        {
            problems.Add("resources.cpus: a number of vCPUs (int, float or numeric string)");
        }

        if (Child(resources, "memory") is { } memory && !(Scalar(memory) is { } m && double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out var gib) && gib > 0))
        {
            problems.Add("resources.memory: GiB as a number or numeric string, no units");
        }

        if (Scalar(resources, "image_id") is not { Length: > 0 })
        {
            problems.Add("resources.image_id: required, the container image");
        }

        if (Child(resources, "labels") is not YamlMappingNode labels || Scalar(labels, QueueLabel) is not { Length: > 0 })
        {
            problems.Add($"resources.labels.{QueueLabel}: required, the Kueue queue");
        }
        else if (Child(labels, "maxRunDurationSeconds") is { } duration && !(Scalar(duration) is { } d && long.TryParse(d, CultureInfo.InvariantCulture, out var seconds) && seconds > 0))
        {
            problems.Add("resources.labels.maxRunDurationSeconds: a whole number of seconds");
        }

        if (Child(resources, "job_config") is { } jobConfig)
        {
            if (jobConfig is not YamlMappingNode config)
            {
                problems.Add("resources.job_config: a map");
                return;
            }

            Unknown(config, JobConfigKeys, "resources.job_config.", problems);
            foreach (var (key, min) in new[] { ("max_restarts", 0), ("completions", 1) })
            {
                if (Child(config, key) is { } value && !(Scalar(value) is { } t && int.TryParse(t, CultureInfo.InvariantCulture, out var number) && number >= min))
                {
                    problems.Add($"resources.job_config.{key}: a whole number of at least {min}");
                }
            }
        }
    }

    private static void Unknown(YamlMappingNode map, string[] known, string path, List<string> problems) =>
        problems.AddRange(map.Children.Keys.Select(k => Scalar(k) ?? "").Where(k => !known.Contains(k)).Select(k => $"{path}{k}: not a key of the task schema"));

    private static YamlNode? Child(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlMappingNode map, string key) => Child(map, key) is { } node ? Scalar(node) : null;

    private static string? Scalar(YamlNode node) => node is YamlScalarNode { Value: { } value } ? value : null;

    [GeneratedRegex(@"^\s*exec\s+\S")]
    private static partial Regex ExecLine();
}
