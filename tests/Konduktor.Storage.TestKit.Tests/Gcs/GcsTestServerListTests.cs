using System.Net;
using System.Text.Json;

namespace Konduktor.Storage.TestKit.Tests;

/// <summary>The GCS test server's object listing: order, prefixes, delimiter roll-up, paging and offsets.</summary>
public sealed class GcsTestServerListTests : GcsTestServerTestBase
{
    [Fact]
    public async Task List_PrefixAndDelimiter_ItemsAndRolledUpPrefixesInOrder()
    {
        foreach (var name in new[] { "r/b/1", "r/a/2", "r/a/1", "r/x", "r/c", "s/1", "r/b/2" })
        {
            Server.PutObject(Bucket, name, [1]);
        }

        var page = await ListAsync("?prefix=r/&delimiter=/");

        Assert.Equal(["r/c", "r/x"], Names(page));
        Assert.Equal(["r/a/", "r/b/"], Prefixes(page));
        Assert.False(page.TryGetProperty("nextPageToken", out _));
    }

    [Fact]
    public async Task List_NoDelimiter_AllNamesUnderPrefixWithResources()
    {
        foreach (var name in new[] { "b", "a/1", "a/2", "c" })
        {
            Server.PutObject(Bucket, name, [1, 2]);
        }

        var page = await ListAsync("?prefix=a");

        Assert.Equal(["a/1", "a/2"], Names(page));
        Assert.Equal("2", page.GetProperty("items")[0].GetProperty("size").GetString());
        Assert.False(page.TryGetProperty("prefixes", out _));
    }

    [Fact]
    public async Task List_Empty_HasNoItemsOrPrefixes()
    {
        var page = await ListAsync("");

        Assert.Equal("storage#objects", page.GetProperty("kind").GetString());
        Assert.False(page.TryGetProperty("items", out _));
        Assert.False(page.TryGetProperty("prefixes", out _));
    }

    [Fact]
    public async Task List_Utf8ByteOrder_NotUtf16Order()
    {
        // U+FFFD is EF BF BD in UTF-8, before F0 9F 98 80 of U+1F600; in UTF-16 the surrogate D83D sorts first.
        Server.PutObject(Bucket, "x\U0001F600", [1]);
        Server.PutObject(Bucket, "x\uFFFD", [1]);
        Server.PutObject(Bucket, "x~", [1]);

        var page = await ListAsync("");

        Assert.Equal(["x~", "x\uFFFD", "x\U0001F600"], Names(page));
    }

    [Fact]
    public async Task List_MaxResultsCountsItemsAndPrefixes_PagesCoverEverythingOnce()
    {
        var names = new[] { "a", "b/1", "b/2", "c", "d/1", "e", "f/1", "f/2", "g" };
        foreach (var name in names)
        {
            Server.PutObject(Bucket, name, [1]);
        }

        var items = new List<string>();
        var prefixes = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await ListAsync($"?delimiter=/&maxResults=2{(token is null ? "" : $"&pageToken={Uri.EscapeDataString(token)}")}");
            pages++;
            Assert.True(Names(page).Length + Prefixes(page).Length <= 2);
            items.AddRange(Names(page));
            prefixes.AddRange(Prefixes(page));
            token = page.TryGetProperty("nextPageToken", out var next) ? next.GetString() : null;
        }
        while (token is not null);

        Assert.Equal(["a", "c", "e", "g"], items);
        Assert.Equal(["b/", "d/", "f/"], prefixes);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task List_MoreThan1000_PageCappedAt1000()
    {
        for (var i = 0; i < 1001; i++)
        {
            Server.PutObject(Bucket, $"o{i:D4}", []);
        }

        var first = await ListAsync("?maxResults=5000");
        var second = await ListAsync($"?pageToken={Uri.EscapeDataString(first.GetProperty("nextPageToken").GetString()!)}");

        Assert.Equal(1000, Names(first).Length);
        Assert.Equal(["o1000"], Names(second));
        Assert.False(second.TryGetProperty("nextPageToken", out _));
    }

    [Fact]
    public async Task List_StartAndEndOffset_BoundTheNames()
    {
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            Server.PutObject(Bucket, name, []);
        }

        var page = await ListAsync("?startOffset=b&endOffset=d");

        Assert.Equal(["b", "c"], Names(page));
    }

    [Theory]
    [InlineData("?maxResults=0", HttpStatusCode.BadRequest)]
    [InlineData("?pageToken=!!", HttpStatusCode.BadRequest)]
    [InlineData("?versions=true", HttpStatusCode.NotImplemented)]
    public async Task List_BadOrUnimplementedParameters_AreRejected(string query, HttpStatusCode status)
    {
        using var response = await Http.GetAsync($"storage/v1/b/{Bucket}/o{query}");

        Assert.Equal(status, response.StatusCode);
    }

    private async Task<JsonElement> ListAsync(string query)
    {
        using var response = await Http.GetAsync($"storage/v1/b/{Bucket}/o{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    private static string[] Names(JsonElement page) =>
        page.TryGetProperty("items", out var items) ? [.. items.EnumerateArray().Select(i => i.GetProperty("name").GetString()!)] : [];

    private static string[] Prefixes(JsonElement page) =>
        page.TryGetProperty("prefixes", out var prefixes) ? [.. prefixes.EnumerateArray().Select(p => p.GetString()!)] : [];
}
