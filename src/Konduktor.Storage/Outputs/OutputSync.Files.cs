namespace Konduktor.Storage;

/// <summary>One file's pass: unchanged, grown (new bytes as a piece, pieces merged), or replaced (uploaded whole).</summary>
public sealed partial class OutputSync
{
    // Pieces of one size class merged together once this many have gathered: keeps a file's pieces few while each
    // byte is re-sent at most once per class (the classes are bounded by MergeMiB), so the total stays a constant factor.
    private const int PiecesPerMerge = 16;
    private const int TailBytes = 4096;

    private async Task<OutputSyncProblem?> SyncFileAsync(OutputDirectoryScan.Entry entry, bool final, Tally tally, CancellationToken cancellationToken)
    {
        LocalFileSource source;
        try
        {
            source = LocalFileSource.Open(entry.LocalPath);
        }
        catch (FileNotFoundException)
        {
            return null; // deleted since the scan: nothing to sync, and the store keeps what it has
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new(entry.Name, $"it cannot be read: {e.Message}");
        }

        using (source)
        {
            var path = OutputPath(entry.Name);
            try
            {
                var lastWrite = File.GetLastWriteTimeUtc(source.Handle);
                var state = _files.GetValueOrDefault(entry.Name) ?? await AdoptAsync(entry.Name, path, source, cancellationToken).ConfigureAwait(false);
                if (state is { Stale: false } && state.Length == source.Length && state.LastWrite == lastWrite)
                {
                    tally.Same();
                }
                else if (state is { Stale: false } && source.Length >= state.Length && TailMatches(state, source))
                {
                    if (source.Length > state.Length)
                    {
                        await AppendAsync(state, source, tally, cancellationToken).ConfigureAwait(false);
                        tally.Uploaded();
                    }
                    else if (await SameContentAsync(state, source, cancellationToken).ConfigureAwait(false))
                    {
                        tally.Same();
                    }
                    else
                    {
                        state = await ReplaceAsync(entry.Name, path, state, source, tally, cancellationToken).ConfigureAwait(false);
                        tally.Uploaded();
                    }

                    state.LastWrite = lastWrite;
                }
                else
                {
                    state = await ReplaceAsync(entry.Name, path, state, source, tally, cancellationToken).ConfigureAwait(false);
                    state.LastWrite = lastWrite;
                    tally.Uploaded();
                }

                if (final && !state.IsPlain)
                {
                    await ConsolidateAsync(state, new LocalRangeStream(source.Handle, 0, state.Length, null, [.. state.Pieces.Select(p => p.Data)]), tally, cancellationToken)
                        .ConfigureAwait(false);
                }

                return null;
            }
            catch (Exception e)
            {
                // The file's running state may be half-updated: forget it, so the next pass starts from the store's record.
                _files.TryRemove(entry.Name, out _);
                if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                return e is LocalFileRewrittenException
                    ? new(entry.Name, $"it changed while it was synced ({e.Message}); it is synced again on the next pass")
                    : new(entry.Name, $"it could not be synced: {e.Message}");
            }
        }
    }

    /// <summary>
    /// The first time this process sees a file: when the store's record holds a prefix of it (a restarted pod that pulled
    /// its outputs, or one whose file survived), the sync continues from there instead of uploading it again.
    /// </summary>
    private async Task<SyncedFile?> AdoptAsync(string name, string path, LocalFileSource source, CancellationToken cancellationToken)
    {
        OutputRecord? record;
        try
        {
            record = await OutputStoreIo.ReadRecordAsync(Store, Outputs.Run, path, cancellationToken).ConfigureAwait(false);
        }
        catch (OutputCorruptException)
        {
            return null; // replaced by this pass
        }

        if (record is null)
        {
            return null;
        }

        // A record the local file does not continue: the file is uploaded anew, and the record's pieces go with the old content.
        var stale = new SyncedFile(path, new ContentHash()) { Stale = true, Pieces = [.. (record.Pieces ?? []).Select(p => new Piece(p, Piece.Sealed))] };
        if (source.Length < record.Length || (record.IsPlain && source.Length != record.Length))
        {
            return stale;
        }

        var hash = new ContentHash();
        await new LocalRangeStream(source.Handle, 0, record.Length, hash, null).CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        if (hash.Current() != record.Checksum)
        {
            return stale;
        }

        var state = new SyncedFile(path, hash)
        {
            Length = record.Length,
            Tail = ReadTail(source, record.Length),
            IsPlain = record.IsPlain,
            Pieces = [.. (record.Pieces ?? []).Select(p => new Piece(p, Piece.Sealed))],
        };
        _files[name] = state;
        return state;
    }

    private async Task AppendAsync(SyncedFile state, LocalFileSource source, Tally tally, CancellationToken cancellationToken)
    {
        var offset = state.Length;
        var length = source.Length;
        var piece = await UploadPieceAsync(state.Path, new LocalRangeStream(source.Handle, offset, length - offset, state.Hash, null), offset, length - offset, tally, cancellationToken)
            .ConfigureAwait(false);
        var obsolete = new List<string>();
        var pieces = await MergeAsync(state.Path, [.. state.Pieces, new Piece(piece, 0)], source, obsolete, tally, cancellationToken).ConfigureAwait(false);
        await WriteRecordAsync(state.Path, length, state.Hash.Current(), pieces.Select(p => p.Data).ToList(), tally, cancellationToken).ConfigureAwait(false);
        state.Length = length;
        state.Pieces = pieces;
        state.Tail = ReadTail(source, length);
        state.IsPlain = false;
        await DeletePiecesAsync(obsolete).ConfigureAwait(false);
    }

    private async Task<SyncedFile> ReplaceAsync(string name, string path, SyncedFile? old, LocalFileSource source, Tally tally, CancellationToken cancellationToken)
    {
        var hash = new ContentHash();
        List<Piece> pieces = [];
        if (source.Length > 0)
        {
            var piece = await UploadPieceAsync(path, new LocalRangeStream(source.Handle, 0, source.Length, hash, null), 0, source.Length, tally, cancellationToken).ConfigureAwait(false);
            pieces.Add(new Piece(piece, source.Length >= MergeBytes ? Piece.Sealed : 0));
        }

        await WriteRecordAsync(path, source.Length, hash.Current(), pieces.Select(p => p.Data).ToList(), tally, cancellationToken).ConfigureAwait(false);
        var state = new SyncedFile(path, hash) { Length = source.Length, Tail = ReadTail(source, source.Length), Pieces = pieces };
        _files[name] = state;
        if (old is not null)
        {
            await DeletePiecesAsync(old.Pieces.Select(p => p.Data.Key)).ConfigureAwait(false);
        }

        return state;
    }

    /// <summary>
    /// Merges the newest pieces: <see cref="PiecesPerMerge"/> of one size class into one of the next, and everything not yet
    /// sealed into one sealed piece once it reaches <see cref="OutputSyncOptions.MergeMiB"/>. Merged bytes are re-read from
    /// the local file and checked against the pieces they replace.
    /// </summary>
    private async Task<List<Piece>> MergeAsync(
        string path, List<Piece> pieces, LocalFileSource source, List<string> obsolete, Tally tally, CancellationToken cancellationToken)
    {
        while (true)
        {
            var firstOpen = pieces.FindLastIndex(p => p.Level == Piece.Sealed) + 1;
            var open = pieces.Count - firstOpen;
            var openBytes = pieces.Skip(firstOpen).Sum(p => p.Data.Length);
            int from, level;
            if (openBytes >= MergeBytes)
            {
                (from, level) = (firstOpen, Piece.Sealed);
            }
            else if (open >= PiecesPerMerge && pieces.Skip(pieces.Count - PiecesPerMerge).All(p => p.Level == pieces[^1].Level))
            {
                (from, level) = (pieces.Count - PiecesPerMerge, pieces[^1].Level + 1);
            }
            else
            {
                return pieces;
            }

            var merged = pieces[from..];
            if (merged.Count == 1)
            {
                pieces[from] = merged[0] with { Level = level };
                continue;
            }

            var offset = merged[0].Data.Offset;
            var length = merged.Sum(p => p.Data.Length);
            var stream = new LocalRangeStream(source.Handle, offset, length, null, [.. merged.Select(p => p.Data)]);
            var piece = await UploadPieceAsync(path, stream, offset, length, tally, cancellationToken).ConfigureAwait(false);
            obsolete.AddRange(merged.Select(p => p.Data.Key));
            pieces = [.. pieces[..from], new Piece(piece, level)];
        }
    }

    private async Task<OutputPiece> UploadPieceAsync(string path, Stream content, long offset, long length, Tally tally, CancellationToken cancellationToken)
    {
        var key = NewPieceKey(path);
        await using (content.ConfigureAwait(false))
        {
            var (sent, checksum, _) = await OutputStoreIo.UploadAsync(Store, OutputLayout.InternalRoot(Outputs.Run) + key, content, createOnly: false, cancellationToken).ConfigureAwait(false);
            tally.Sent(sent);
            return new OutputPiece(key, offset, sent, checksum);
        }
    }

    private async Task WriteRecordAsync(string path, long length, string checksum, IReadOnlyList<OutputPiece>? pieces, Tally tally, CancellationToken cancellationToken)
    {
        var record = new OutputRecord(OutputRecord.CurrentFormat, path, length, checksum, Outputs.Time.GetUtcNow(), pieces);
        await OutputStoreIo.WriteRecordAsync(Store, Outputs.Run, record, cancellationToken).ConfigureAwait(false);
        tally.Sent(record.Serialize().Length);
    }

    /// <summary>Deletes pieces no record names any more; best effort (they are only clutter).</summary>
    private async Task DeletePiecesAsync(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            try
            {
                await Store.DeleteAsync(OutputLayout.InternalRoot(Outputs.Run) + key).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.OutputPieceNotDeleted(_logger, key, e.Message);
            }
        }
    }

    /// <summary>A file of the synced length that was written again: hashed locally, uploaded only if its bytes differ.</summary>
    private static async Task<bool> SameContentAsync(SyncedFile state, LocalFileSource source, CancellationToken cancellationToken)
    {
        var hash = new ContentHash();
        await new LocalRangeStream(source.Handle, 0, state.Length, hash, null).CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        return hash.Current() == state.Hash.Current();
    }

    private static bool TailMatches(SyncedFile state, LocalFileSource source) => ReadTail(source, state.Length).AsSpan().SequenceEqual(state.Tail);

    private static byte[] ReadTail(LocalFileSource source, long end)
    {
        var tail = new byte[(int)Math.Min(TailBytes, end)];
        var read = RandomAccess.Read(source.Handle, tail, end - tail.Length);
        return read == tail.Length ? tail : [];
    }

    /// <summary>What this process last synced of one file.</summary>
    private sealed class SyncedFile(string path, ContentHash hash)
    {
        public string Path { get; } = path;

        /// <summary>The running hash of the synced bytes [0, <see cref="Length"/>).</summary>
        public ContentHash Hash { get; } = hash;

        public long Length { get; set; }

        public DateTime LastWrite { get; set; }

        /// <summary>The last synced bytes: a file whose bytes there changed was not only appended to.</summary>
        public byte[] Tail { get; set; } = [];

        public List<Piece> Pieces { get; set; } = [];

        /// <summary>The store's record of another content, which this file replaces (only its pieces are of use: to delete).</summary>
        public bool Stale { get; init; }

        /// <summary>The store holds the content as the plain object at its path.</summary>
        public bool IsPlain { get; set; }
    }

    /// <summary>A piece and its size class (<see cref="Sealed"/> once merged for good).</summary>
    private sealed record Piece(OutputPiece Data, int Level)
    {
        public const int Sealed = -1;
    }
}
