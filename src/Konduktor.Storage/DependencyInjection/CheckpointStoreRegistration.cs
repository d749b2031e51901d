namespace Konduktor.Storage;

/// <summary>
/// Makes a location scheme available to <c>AddKonduktorCheckpoints</c>: the S3 and GCS packages register
/// <c>s3</c> and <c>gs</c> through <see cref="IKonduktorCheckpointsBuilder.AddStoreScheme"/>.
/// </summary>
/// <param name="Scheme">The scheme, lower case (e.g. <c>s3</c>).</param>
/// <param name="Factory">Creates the store for a parsed location.</param>
internal sealed record CheckpointStoreRegistration(string Scheme, Func<IServiceProvider, CheckpointLocation, ICheckpointStore> Factory);
