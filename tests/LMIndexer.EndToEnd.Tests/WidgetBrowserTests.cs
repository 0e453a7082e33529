using System.Net.Http.Json;
using System.Text.Json;
using LMIndexer.Testing;
using Microsoft.Playwright;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>
/// The widget in Debian's Chromium, driven headless by Playwright (never a downloaded browser):
/// it shows the user's recommendations and a click becomes an event on the server.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class WidgetBrowserTests(HostFixture host)
{
    private const string ChromiumPath = "/usr/bin/chromium";

    [Fact]
    public async Task Widget_shows_recommendations_and_sends_a_click_event()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install Debian's chromium package (.ci/run does).");
        var history = TestServingBundle.Catalog.Users[5].ItemIds.Take(4).ToList();
        using (var posted = await host.Http.PostAsJsonAsync("/api/events", history.Select((item, i) => new { userId = "widget-user", itemId = item, eventId = $"widget-{i}" })))
            posted.EnsureSuccessStatusCode();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(host.BaseAddress, "/widget?user=widget-user&count=4").ToString());
        var cards = page.Locator(".lmi-item");
        await cards.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Equal(4, await cards.CountAsync());
        var shown = new List<string>();
        for (var i = 0; i < 4; i++)
            shown.Add((await cards.Nth(i).GetAttributeAsync("data-item-id"))!);
        Assert.All(shown, id => Assert.DoesNotContain(id, history));
        var expected = await host.Http.GetFromJsonAsync<JsonElement>("/api/users/widget-user/recommendations?count=4");
        Assert.Equal(expected.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()), shown);
        var firstTitle = await cards.First.Locator(".lmi-title").InnerTextAsync();
        Assert.Equal(expected.GetProperty("items")[0].GetProperty("title").GetString(), firstTitle);
        Assert.Equal("v1", await page.Locator(".lmi-widget").GetAttributeAsync("data-version"));

        await cards.Nth(1).ClickAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('.lmi-widget').dataset.lastClick !== undefined", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        Assert.Equal(shown[1], await page.Locator(".lmi-widget").GetAttributeAsync("data-last-click"));
        var recorded = await host.Http.GetFromJsonAsync<JsonElement>("/api/users/widget-user/history");
        var last = recorded.EnumerateArray().Last();
        Assert.Equal(shown[1], last.GetProperty("itemId").GetString());
        Assert.Equal("click", last.GetProperty("type").GetString());
    }
}
