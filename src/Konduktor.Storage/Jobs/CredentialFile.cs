namespace Konduktor.Storage;

/// <summary>A credential or configuration file that <see cref="JobContext"/> found (or was pointed at); only its path, never its contents.</summary>
/// <param name="Kind">What the file is; one of the <see cref="CredentialFileKinds"/> constants.</param>
/// <param name="Path">The file's path.</param>
/// <param name="Variable">
/// The environment variable that named the file (e.g. <c>AWS_SHARED_CREDENTIALS_FILE</c>), or <see langword="null"/> when
/// it was found at its well-known location under the home directory.
/// </param>
internal sealed record CredentialFile(string Kind, string Path, string? Variable);
