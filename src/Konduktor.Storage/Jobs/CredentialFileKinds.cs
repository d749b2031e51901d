namespace Konduktor.Storage;

/// <summary>The values of <see cref="CredentialFile.Kind"/>.</summary>
internal static class CredentialFileKinds
{
    /// <summary>An AWS shared credentials file: <c>~/.aws/credentials</c> or <c>AWS_SHARED_CREDENTIALS_FILE</c>.</summary>
    public const string AwsCredentials = "aws-credentials";

    /// <summary>An AWS config file: <c>~/.aws/config</c> or <c>AWS_CONFIG_FILE</c>.</summary>
    public const string AwsConfig = "aws-config";

    /// <summary>The file named by <c>GOOGLE_APPLICATION_CREDENTIALS</c>.</summary>
    public const string GoogleApplicationCredentials = "google-application-credentials";

    /// <summary>gcloud's application default credentials: <c>~/.config/gcloud/application_default_credentials.json</c>.</summary>
    public const string GcloudAdc = "gcloud-adc";

    /// <summary>gcloud's per-account credentials, which ADC does not look at: <c>~/.config/gcloud/legacy_credentials/&lt;account&gt;/adc.json</c>.</summary>
    public const string GcloudLegacyAdc = "gcloud-legacy-adc";
}
