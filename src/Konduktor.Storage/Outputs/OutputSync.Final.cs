namespace Konduktor.Storage;

/// <summary>The final pass: every file becomes one plain object at its path.</summary>
public sealed partial class OutputSync
{
    /// <summary>
    /// Uploads a file's synced content as the plain object at its path, then records that and deletes its pieces. The
    /// content is checked against the pieces as it goes up, so the plain object and the record always agree.
    /// </summary>
    private async Task ConsolidateAsync(SyncedFile state, Stream content, Tally tally, CancellationToken cancellationToken)
    {
        string checksum;
        await using (content.ConfigureAwait(false))
        {
            (var sent, checksum, _) = await OutputStoreIo.UploadAsync(Store, OutputLayout.PlainKey(Outputs.Run, state.Path), content, createOnly: false, cancellationToken)
                .ConfigureAwait(false);
            tally.Sent(sent);
        }

        var expected = state.Hash.Current();
        if (checksum != expected)
        {
            // The record still names the pieces, which readers keep using: nothing is lost, only not consolidated.
            throw new OutputCorruptException(Outputs.Run, state.Path, $"checksum {expected}", $"{checksum} when consolidated");
        }

        await WriteRecordAsync(state.Path, state.Length, expected, null, tally, cancellationToken).ConfigureAwait(false);
        var pieces = state.Pieces;
        state.Pieces = [];
        state.IsPlain = true;
        await DeletePiecesAsync(pieces.Select(p => p.Data.Key)).ConfigureAwait(false);
    }

    /// <summary>A file deleted locally after it was synced: consolidated from its pieces in the store, read verified.</summary>
    private async Task<OutputSyncProblem?> ConsolidateFromStoreAsync(string name, Tally tally, CancellationToken cancellationToken)
    {
        if (!_files.TryGetValue(name, out var state) || state.IsPlain)
        {
            return null;
        }

        try
        {
            var listed = new OutputFileInfo(state.Path, state.Length, state.Hash.Current(), Outputs.Time.GetUtcNow(), IsPlainObject: false);
            var content = await Outputs.OpenAsync(listed, cancellationToken).ConfigureAwait(false);
            await ConsolidateAsync(state, content, tally, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new(name, $"it was deleted locally and its synced content could not be consolidated: {e.Message}");
        }
    }
}
