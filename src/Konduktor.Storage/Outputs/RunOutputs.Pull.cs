namespace Konduktor.Storage;

/// <summary>Pulling outputs into a local directory.</summary>
public sealed partial class RunOutputs
{
    /// <summary>
    /// Downloads the run's outputs at or under <paramref name="prefix"/> into <paramref name="destination"/>, each verified
    /// before it takes its place. A file <c>{prefix}/a/b</c> lands at <c>{destination}/a/b</c>; a prefix that names one file
    /// lands at <c>{destination}/{its file name}</c>. Each file is written to a temporary name next to its place and moved
    /// there once its length and checksum match, replacing a local file of that name; other local files are left alone.
    /// </summary>
    /// <param name="destination">The local directory; created when missing.</param>
    /// <param name="prefix">A path or folder (e.g. <c>rank-00000</c>, <c>rank-00000/eval</c>); <see langword="null"/> or empty for everything.</param>
    /// <param name="progress">Receives progress as the bytes arrive.</param>
    /// <param name="cancellationToken">Cancels the pull; files already moved into place stay.</param>
    /// <returns>What was downloaded.</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is not a valid path, or <paramref name="destination"/> is empty.</exception>
    /// <exception cref="OutputNotFoundException">The run has no outputs at or under <paramref name="prefix"/> (the message names the run and prefix).</exception>
    /// <exception cref="OutputCorruptException">An output does not match its record; nothing is written for it, and the pull stops.</exception>
    public async Task<OutputPullResult> PullAsync(
        string destination, string? prefix = null, IProgress<OutputTransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var folder = OutputLayout.NormalizePrefix(prefix, nameof(prefix));
        var outputs = new List<OutputFileInfo>();
        await foreach (var output in ListAsync(folder, cancellationToken).ConfigureAwait(false))
        {
            outputs.Add(output);
        }

        if (outputs.Count == 0)
        {
            throw new OutputNotFoundException(Store.Location, Run, folder);
        }

        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        var totalLength = outputs.Sum(o => o.Length);
        var pulled = new List<PulledOutput>(outputs.Count);
        long total = 0;
        foreach (var output in outputs)
        {
            var relative = output.Path == folder ? output.Path[(output.Path.LastIndexOf('/') + 1)..] : output.Path[(folder.Length == 0 ? 0 : folder.Length + 1)..];
            if (ObjectKey.Check(relative) is { } problem)
            {
                // Only an object something else put in the store can have such a name; it must not land outside the destination.
                throw new OutputCorruptException(Run, output.Path, "a path that stays inside the destination", $"a path where {problem}");
            }

            var local = Path.Join(root, relative.Replace('/', Path.DirectorySeparatorChar));
            var before = total;
            await DownloadAsync(output, local, fileBytes =>
            {
                total = before + fileBytes;
                progress?.Report(new OutputTransferProgress(output.Path, fileBytes, output.Length, total, totalLength, pulled.Count, outputs.Count));
            }, cancellationToken).ConfigureAwait(false);
            pulled.Add(new PulledOutput(output, local));
            progress?.Report(new OutputTransferProgress(output.Path, output.Length, output.Length, total, totalLength, pulled.Count, outputs.Count));
        }

        return new OutputPullResult(root, pulled, total);
    }

    private async Task DownloadAsync(OutputFileInfo output, string local, Action<long> onProgress, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        var temporary = local + ".konduktor-pull-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var source = await OpenAsync(output, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                var target = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                await using (target.ConfigureAwait(false))
                {
                    // The stream verifies the content before it reports the end, so a finished copy is a verified one.
                    await HashingCopy.CopyAsync(source, target, null, OutputStoreIo.BufferSize, Timeout.InfiniteTimeSpan, onProgress, cancellationToken).ConfigureAwait(false);
                    await target.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            File.Move(temporary, local, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
