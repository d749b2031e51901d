namespace Konduktor.Storage;

/// <summary>What one pass of the output sync did.</summary>
/// <param name="FilesUploaded">Files whose new content was uploaded (new, grown, replaced or consolidated).</param>
/// <param name="FilesUnchanged">Files found unchanged since the last pass, which cost no request.</param>
/// <param name="BytesUploaded">Bytes sent to the store, records included.</param>
/// <param name="Problems">Local files that could not be synced (special files, links pointing outside the directory or nowhere, unreadable files), each skipped without stopping the others.</param>
public sealed record OutputSyncResult(int FilesUploaded, int FilesUnchanged, long BytesUploaded, IReadOnlyList<OutputSyncProblem> Problems);

/// <summary>A local file the output sync skipped, and why.</summary>
/// <param name="Path">Its path relative to the synced directory ('/'-separated).</param>
/// <param name="Reason">Why it was skipped.</param>
public sealed record OutputSyncProblem(string Path, string Reason);
