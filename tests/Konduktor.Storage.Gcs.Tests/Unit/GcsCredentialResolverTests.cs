using Google.Apis.Auth.OAuth2;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>Credential discovery in its documented order, on a temporary HOME, without any network.</summary>
public sealed class GcsCredentialResolverTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("konduktor-gcs-home-").FullName;
    private readonly Dictionary<string, string> _variables = [];

    public GcsCredentialResolverTests() => _variables["HOME"] = _home;

    private string Gcloud => Path.Combine(_home, ".config", "gcloud");

    private string WellKnown => Path.Combine(Gcloud, "application_default_credentials.json");

    private string Legacy(string account) => Path.Combine(Gcloud, "legacy_credentials", account, "adc.json");

    [Fact]
    public void Resolve_ExplicitFile_WinsOverEveryOtherSource()
    {
        var explicitFile = Path.Combine(_home, "mounted", "key.json");
        GcsTestFiles.WriteServiceAccount(explicitFile);
        var named = Path.Combine(_home, "named.json");
        GcsTestFiles.WriteAuthorizedUser(named);
        _variables["GOOGLE_APPLICATION_CREDENTIALS"] = named;
        GcsTestFiles.WriteAuthorizedUser(WellKnown);
        GcsTestFiles.WriteAuthorizedUser(Legacy("me@example.com"));

        var (credential, source) = Resolve(new GcsStoreOptions { CredentialsFile = explicitFile });

        Assert.IsType<ServiceAccountCredential>(credential.UnderlyingCredential);
        Assert.StartsWith("Konduktor:Checkpoints:Gcs:CredentialsFile", source, StringComparison.Ordinal);
        Assert.Contains(explicitFile, source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_GoogleApplicationCredentials_WinsOverWellKnownAndLegacyFiles()
    {
        var named = Path.Combine(_home, "sa.json");
        GcsTestFiles.WriteServiceAccount(named);
        _variables["GOOGLE_APPLICATION_CREDENTIALS"] = named;
        GcsTestFiles.WriteAuthorizedUser(WellKnown);
        GcsTestFiles.WriteAuthorizedUser(Legacy("me@example.com"));

        var (credential, source) = Resolve(new GcsStoreOptions());

        Assert.IsType<ServiceAccountCredential>(credential.UnderlyingCredential);
        Assert.StartsWith($"GOOGLE_APPLICATION_CREDENTIALS ({named})", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_WellKnownAdcFile_WinsOverLegacyFiles()
    {
        GcsTestFiles.WriteAuthorizedUser(WellKnown);
        GcsTestFiles.WriteServiceAccount(Legacy("me@example.com"));

        var (credential, source) = Resolve(new GcsStoreOptions());

        Assert.IsType<UserCredential>(credential.UnderlyingCredential);
        Assert.Contains(WellKnown, source, StringComparison.Ordinal);
        Assert.Contains("authorized_user", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_OnlyLegacyAdcFiles_UsesTheFirstAccountInOrdinalOrder()
    {
        GcsTestFiles.WriteServiceAccount(Legacy("zed@example.com"));
        GcsTestFiles.WriteAuthorizedUser(Legacy("ann@example.com"));

        // An account folder without adc.json (gcloud keeps other files there) is passed over.
        Directory.CreateDirectory(Path.Combine(Gcloud, "legacy_credentials", "aaa@example.com"));

        var (credential, source) = Resolve(new GcsStoreOptions());

        Assert.IsType<UserCredential>(credential.UnderlyingCredential);
        Assert.Contains(Legacy("ann@example.com"), source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NoFileAnywhere_FallsBackToTheMetadataServerWithoutContactingIt()
    {
        var (credential, source) = Resolve(new GcsStoreOptions());

        Assert.IsType<ComputeCredential>(credential.UnderlyingCredential);
        Assert.StartsWith(GcsCredentialResolver.MetadataServer, source, StringComparison.Ordinal);
        Assert.Contains("GOOGLE_APPLICATION_CREDENTIALS (not set)", source, StringComparison.Ordinal);
        Assert.Contains(WellKnown, source, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ExplicitFileMissing_ThrowsNamingTheKeyAndFile()
    {
        var missing = Path.Combine(_home, "nope.json");
        GcsTestFiles.WriteAuthorizedUser(WellKnown);

        var ex = Assert.Throws<CredentialsException>(() => Resolve(new GcsStoreOptions { CredentialsFile = missing }));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Konduktor:Checkpoints:Gcs:CredentialsFile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_GoogleApplicationCredentialsNamesMissingFile_ThrowsRatherThanLookingFurther()
    {
        _variables["GOOGLE_APPLICATION_CREDENTIALS"] = Path.Combine(_home, "gone.json");
        GcsTestFiles.WriteAuthorizedUser(WellKnown);

        var ex = Assert.Throws<CredentialsException>(() => Resolve(new GcsStoreOptions()));

        Assert.Contains("GOOGLE_APPLICATION_CREDENTIALS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_UnusableFile_ThrowsWithoutQuotingItsContents()
    {
        var file = Path.Combine(_home, "odd.json");
        File.WriteAllText(file, $$"""{"type": "service_account", "private_key": "not a key {{GcsTestFiles.ClientSecret}}"}""");

        var ex = Assert.Throws<CredentialsException>(() => Resolve(new GcsStoreOptions { CredentialsFile = file }));

        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(GcsTestFiles.ClientSecret, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Store_PlainHttpBaseUri_UsesNoCredentialsEvenWhenFilesExist()
    {
        GcsTestFiles.WriteServiceAccount(WellKnown);

        using var store = new GcsCheckpointStore(
            new Uri("gs://bucket/p"), new GcsStoreOptions { Endpoint = "http://127.0.0.1:9/storage/v1/" }, null, null, null, null, Environment);

        Assert.StartsWith("none", store.CredentialSource, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_EmulatorHostVariable_IsUsedUnauthenticatedLikeGooglesLibraries()
    {
        GcsTestFiles.WriteServiceAccount(WellKnown);
        _variables["STORAGE_EMULATOR_HOST"] = "127.0.0.1:4443";

        using var store = new GcsCheckpointStore(new Uri("gs://bucket/p"), null, null, null, null, null, Environment);

        Assert.Equal(new Uri("http://127.0.0.1:4443/storage/v1/"), store.Transport.BaseUri);
        Assert.Equal(new Uri("http://127.0.0.1:4443/upload/storage/v1/"), store.Transport.UploadBaseUri);
        Assert.Contains("STORAGE_EMULATOR_HOST", store.CredentialSource, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_DefaultEndpoint_ResolvesTheDiscoveredCredentials()
    {
        GcsTestFiles.WriteAuthorizedUser(WellKnown);

        using var store = new GcsCheckpointStore(new Uri("gs://bucket/p"), null, null, null, null, null, Environment);

        Assert.Equal(new Uri("https://storage.googleapis.com/storage/v1/"), store.Transport.BaseUri);
        Assert.Contains(WellKnown, store.CredentialSource, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private (GoogleCredential Credential, string Source) Resolve(GcsStoreOptions options) => GcsCredentialResolver.Resolve(options, Environment);

    private string? Environment(string name) => _variables.GetValueOrDefault(name);
}
