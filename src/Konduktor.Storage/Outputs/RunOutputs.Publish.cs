namespace Konduktor.Storage;

/// <summary>Publishing artifacts.</summary>
public sealed partial class RunOutputs
{
    /// <summary>
    /// Publishes one named output (an artifact such as <c>rank-00000/eval/summary.json</c>) as a plain object at its path,
    /// with its checksum recorded, so every later read verifies it.
    /// </summary>
    /// <param name="path">The output's path (scope first).</param>
    /// <param name="content">The content, read from its current position to its end.</param>
    /// <param name="mode">Whether an existing output at <paramref name="path"/> is an error (the default) or replaced.</param>
    /// <param name="cancellationToken">Cancels the publish; a cancelled publish leaves the previous output, if any.</param>
    /// <returns>The published output.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not a valid path.</exception>
    /// <exception cref="PreconditionFailedException"><paramref name="mode"/> is <see cref="OutputWriteMode.CreateOnly"/> and the run has an output at <paramref name="path"/>.</exception>
    public async Task<OutputFileInfo> PublishAsync(string path, Stream content, OutputWriteMode mode = OutputWriteMode.CreateOnly, CancellationToken cancellationToken = default)
    {
        OutputLayout.ValidatePath(path, nameof(path));
        ArgumentNullException.ThrowIfNull(content);
        var createOnly = mode == OutputWriteMode.CreateOnly;
        if (createOnly && await StatAsync(path, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new PreconditionFailedException(Store.Location, OutputLayout.PlainKey(Run, path), $"run '{Run}' already has the output '{path}' and the publish is create-only");
        }

        var (length, checksum, _) = await OutputStoreIo.UploadAsync(Store, OutputLayout.PlainKey(Run, path), content, createOnly, cancellationToken).ConfigureAwait(false);
        var record = new OutputRecord(OutputRecord.CurrentFormat, path, length, checksum, Time.GetUtcNow(), Pieces: null);
        await OutputStoreIo.WriteRecordAsync(Store, Run, record, cancellationToken).ConfigureAwait(false);
        return record.ToInfo();
    }

    /// <summary>Publishes one named output from bytes in memory; see <see cref="PublishAsync(string, Stream, OutputWriteMode, CancellationToken)"/>.</summary>
    /// <param name="path">The output's path (scope first).</param>
    /// <param name="content">The content.</param>
    /// <param name="mode">Create-only (the default) or replace.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>The published output.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not a valid path.</exception>
    /// <exception cref="PreconditionFailedException">Create-only and the output exists.</exception>
    public async Task<OutputFileInfo> PublishAsync(string path, ReadOnlyMemory<byte> content, OutputWriteMode mode = OutputWriteMode.CreateOnly, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        return await PublishAsync(path, stream, mode, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Publishes one named output from a local file; see <see cref="PublishAsync(string, Stream, OutputWriteMode, CancellationToken)"/>.</summary>
    /// <param name="path">The output's path (scope first).</param>
    /// <param name="localFile">The local file: a regular file (special files are refused).</param>
    /// <param name="mode">Create-only (the default) or replace.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>The published output.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is not a valid path.</exception>
    /// <exception cref="FileNotFoundException"><paramref name="localFile"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="localFile"/> is not a regular file.</exception>
    /// <exception cref="PreconditionFailedException">Create-only and the output exists.</exception>
    public async Task<OutputFileInfo> PublishFileAsync(string path, string localFile, OutputWriteMode mode = OutputWriteMode.CreateOnly, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        using var source = LocalFileSource.Open(localFile);
        using var stream = new LocalFileReadStream(source.Handle, 0, source.Length);
        return await PublishAsync(path, stream, mode, cancellationToken).ConfigureAwait(false);
    }
}
