namespace Konduktor.Storage;

/// <summary>
/// Maps a service client's failure to the store's exceptions (<see cref="ObjectNotFoundException"/>, <see cref="PreconditionFailedException"/>,
/// <see cref="StoreAccessDeniedException"/>, <see cref="TransientStoreException"/>, ...). A source file shared by the store packages.
/// </summary>
internal interface IStoreErrorMap
{
    /// <summary>The store's exception for <paramref name="exception"/>, or <see langword="null"/> to let it pass unchanged.</summary>
    Exception? Map(Exception exception, string operation, string? key, string preconditionReason, CancellationToken cancellationToken);
}

/// <summary>Runs one service request through a store's <see cref="IStoreErrorMap"/>.</summary>
internal static class StoreErrorMapExtensions
{
    /// <summary>Runs <paramref name="request"/>, mapping its failure to the store's exceptions.</summary>
    public static async Task<T> CallAsync<T>(
        this IStoreErrorMap errors, string operation, string? key, Func<CancellationToken, Task<T>> request, CancellationToken cancellationToken, string preconditionReason = "it already exists")
    {
        try
        {
            return await request(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (errors.Map(e, operation, key, preconditionReason, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }
}
