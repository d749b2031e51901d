namespace Konduktor.Storage;

internal sealed partial class CheckpointRestorer
{
    /// <summary>
    /// Downloads and verifies every file into the target's staging folder, then puts them in place (see
    /// <see cref="RestoreTarget"/>); a target that is refused is refused before anything is downloaded.
    /// </summary>
    private async Task DownloadAsync(CheckpointManifest manifest, string? manifestETag, string directory, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        var target = RestoreTarget.Create(directory, Store);
        long total = 0;
        try
        {
            await FileConcurrency.ForEachAsync(
                manifest.Files,
                file => file.Length,
                Store.Capabilities.ConcurrentFiles,
                async (file, ct) =>
                {
                    var path = LocalPath(target.Staging, file.Name);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    // Readable too: a kernel copy is verified by reading it back. Preallocated: a full disk fails before the download.
                    var output = new FileStream(path, new FileStreamOptions
                    {
                        Mode = FileMode.CreateNew,
                        Access = FileAccess.ReadWrite,
                        Share = FileShare.None,
                        BufferSize = 1,
                        Options = FileOptions.Asynchronous,
                        PreallocationSize = file.Length,
                    });
                    await using (output.ConfigureAwait(false))
                    {
                        var writeback = new EarlyWriteback(output.SafeFileHandle);
                        long reported = 0;
                        void Report(long done)
                        {
                            writeback.Written(done);
                            var added = done - reported;
                            reported = done;
                            StorageTelemetry.BytesRead.Add(added);
                            progress?.Report(new TransferProgress(manifest.Step, file.Name, done, file.Length, Interlocked.Add(ref total, added)));
                        }

                        if (!await TryCopyLocalFileAsync(manifest, manifestETag, file, output, Report, ct).ConfigureAwait(false))
                        {
                            var source = await OpenVerifiedAsync(manifest, manifestETag, file, ct).ConfigureAwait(false);
                            await using (source.ConfigureAwait(false))
                            {
                                // The verifying source hashes; the copy overlaps the next read (and its hashing) with the current write.
                                await HashingCopy.CopyAsync(source, output, null, options.BufferSize, Timeout.InfiniteTimeSpan, Report, ct).ConfigureAwait(false);
                            }
                        }

                        output.Flush(flushToDisk: true);
                    }
                },
                cancellationToken).ConfigureAwait(false);

            target.Commit();
        }
        finally
        {
            target.Dispose();
        }
    }

    /// <summary>
    /// From a store that keeps local files (<see cref="ILocalFileStore"/>, decorators included), copies a checkpoint file inside the kernel, like <c>cp</c>, then verifies the copy as it
    /// was written: its length and its checksum, read back from <paramref name="output"/>.
    /// </summary>
    /// <returns><see langword="false"/> when the store keeps no local files (the caller streams the file instead).</returns>
    /// <exception cref="CheckpointCorruptException">The copy does not match the manifest; that manifest version is marked corrupt.</exception>
    private async Task<bool> TryCopyLocalFileAsync(CheckpointManifest manifest, string? manifestETag, ManifestFile file, FileStream output, Action<long> report, CancellationToken cancellationToken)
    {
        if (_localFiles?.OpenLocalFile(catalog.StepFolder(manifest.Step) + file.Key) is not { } source)
        {
            return false;
        }

        await using (source.ConfigureAwait(false))
        {
            // One byte more than the manifest says, so that a longer file shows.
            var hash = new ContentHash();
            var copied = await LocalFileCopy.CopyAsync(source.SafeFileHandle, 0, output.SafeFileHandle, 0, file.Length + 1, hash, report, cancellationToken).ConfigureAwait(false);
            if (copied.Bytes != file.Length)
            {
                throw Corrupt($"{file.Length} bytes", copied.Bytes > file.Length ? "more bytes" : $"only {copied.Bytes} bytes");
            }

            if (hash.Current() is var actual && actual != file.Checksum)
            {
                throw Corrupt($"checksum {file.Checksum}", $"checksum {actual}");
            }
        }

        return true;

        CheckpointCorruptException Corrupt(string expected, string actual)
        {
            verdicts.JudgeBad(manifest.Step, manifestETag);
            return new CheckpointCorruptException(manifest.Step, file.Name, expected, actual);
        }
    }

    /// <summary>Maps a checkpoint file name under a local root, refusing anything that would land outside it.</summary>
    internal static string LocalPath(string root, string name)
    {
        if (CheckpointLayout.CheckFileName(name) is { } problem)
        {
            throw new CheckpointStorageException($"Refusing to restore file '{ObjectKey.Printable(name)}': {problem}.");
        }

        var path = Path.GetFullPath(Path.Combine(root, name.Replace('/', Path.DirectorySeparatorChar)));
        if (!path.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new CheckpointStorageException($"Refusing to restore file '{ObjectKey.Printable(name)}': it would land outside {root}.");
        }

        return path;
    }
}
