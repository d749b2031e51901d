using System.Globalization;

namespace Konduktor.Storage.Testing;

/// <summary>The <c>ifGeneration(Not)Match</c> and <c>ifMetageneration(Not)Match</c> query parameters of one request.</summary>
internal sealed record GcsPreconditions(long? IfGenerationMatch, long? IfGenerationNotMatch, long? IfMetagenerationMatch, long? IfMetagenerationNotMatch)
{
    public static readonly string[] Parameters = ["ifGenerationMatch", "ifGenerationNotMatch", "ifMetagenerationMatch", "ifMetagenerationNotMatch"];

    public static GcsPreconditions From(GcsRequest request) => new(
        request.Int64("ifGenerationMatch"),
        request.Int64("ifGenerationNotMatch"),
        request.Int64("ifMetagenerationMatch"),
        request.Int64("ifMetagenerationNotMatch"));

    /// <summary>Checks a write (upload or delete) against the live object: 412 when a condition does not hold.</summary>
    /// <remarks><c>ifGenerationMatch=0</c> means "must not exist"; a <c>…NotMatch</c> fails when no live object exists (as GCS documents).</remarks>
    public void CheckWrite(GcsStoredObject? current)
    {
        var generation = current?.Generation ?? 0;
        if (IfGenerationMatch is { } match && match != generation)
        {
            throw GcsError.ConditionNotMet(Describe("ifGenerationMatch", match, current));
        }

        if (IfGenerationNotMatch is { } notMatch && (current is null || notMatch == generation))
        {
            throw GcsError.ConditionNotMet(Describe("ifGenerationNotMatch", notMatch, current));
        }

        CheckMetageneration(current, notModified: false);
    }

    /// <summary>Checks a read of an existing object: 412 for a failed <c>…Match</c>, 304 for a failed <c>…NotMatch</c>, as GCS answers reads.</summary>
    public void CheckRead(GcsStoredObject current)
    {
        if (IfGenerationMatch is { } match && match != current.Generation)
        {
            throw GcsError.ConditionNotMet(Describe("ifGenerationMatch", match, current));
        }

        if (IfGenerationNotMatch is { } notMatch && notMatch == current.Generation)
        {
            throw GcsError.NotModified();
        }

        CheckMetageneration(current, notModified: true);
    }

    private void CheckMetageneration(GcsStoredObject? current, bool notModified)
    {
        if (IfMetagenerationMatch is { } match && (current is null || match != GcsStoredObject.Metageneration))
        {
            throw GcsError.ConditionNotMet($"ifMetagenerationMatch={match}");
        }

        if (IfMetagenerationNotMatch is { } notMatch && (current is null || notMatch == GcsStoredObject.Metageneration))
        {
            throw notModified && current is not null ? GcsError.NotModified() : GcsError.ConditionNotMet($"ifMetagenerationNotMatch={notMatch}");
        }
    }

    private static string Describe(string parameter, long value, GcsStoredObject? current) =>
        string.Create(CultureInfo.InvariantCulture, $"{parameter}={value}, live generation {(current is null ? "none" : current.Generation)}");
}
