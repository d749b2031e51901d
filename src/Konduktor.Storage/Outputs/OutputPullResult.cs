namespace Konduktor.Storage;

/// <summary>What a pull of outputs downloaded.</summary>
/// <param name="Destination">The local directory the files were written to (absolute).</param>
/// <param name="Files">The outputs downloaded and verified, by path, with the local path each was written to.</param>
/// <param name="Bytes">How many bytes were downloaded.</param>
public sealed record OutputPullResult(string Destination, IReadOnlyList<PulledOutput> Files, long Bytes);

/// <summary>One output a pull downloaded.</summary>
/// <param name="Output">The output as listed.</param>
/// <param name="LocalPath">The absolute local path it was written to.</param>
public sealed record PulledOutput(OutputFileInfo Output, string LocalPath);
