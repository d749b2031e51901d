using System.Security.Cryptography;
using System.Text.Json;

namespace Konduktor.Storage.Gcs.Tests;

/// <summary>Syntactically valid credential files, with secrets the tests then look for in logs and messages.</summary>
internal static class GcsTestFiles
{
    public const string ClientSecret = "d-FL95Q19q7MQmFpd7hHD0Ty-client-secret";
    public const string RefreshToken = "1//0gTESTREFRESHTOKENnotarealone-Cg";

    /// <summary>A service-account key file with a freshly generated RSA key; returns the private key's PEM too.</summary>
    public static string WriteServiceAccount(string path, string email = "trainer@test-project.iam.gserviceaccount.com")
    {
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportPkcs8PrivateKeyPem();
        Write(path, new Dictionary<string, string>
        {
            ["type"] = "service_account",
            ["project_id"] = "test-project",
            ["private_key_id"] = "0123456789abcdef0123456789abcdef01234567",
            ["private_key"] = pem,
            ["client_email"] = email,
            ["client_id"] = "123456789012345678901",
            ["token_uri"] = "https://oauth2.googleapis.com/token",
        });
        return pem;
    }

    /// <summary>gcloud's authorized-user file (what <c>gcloud auth application-default login</c> writes).</summary>
    public static void WriteAuthorizedUser(string path) => Write(path, new Dictionary<string, string>
    {
        ["type"] = "authorized_user",
        ["client_id"] = "764086051850-test.apps.googleusercontent.com",
        ["client_secret"] = ClientSecret,
        ["refresh_token"] = RefreshToken,
    });

    /// <summary>The key of a service-account PEM without its armour lines: the part that must never be shown.</summary>
    public static IEnumerable<string> PemBody(string pem) =>
        pem.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("-----", StringComparison.Ordinal));

    private static void Write(string path, Dictionary<string, string> values)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, JsonSerializer.Serialize(values));
    }
}
