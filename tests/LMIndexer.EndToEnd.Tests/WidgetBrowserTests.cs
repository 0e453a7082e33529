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
    public async Task Widget_shows_recommendations_with_pictures_and_reasons_in_balanced_rows_and_a_keyboard_click_becomes_an_event()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install Debian's chromium package (.ci/run does).");
        var history = TestServingBundle.Catalog.Users[5].ItemIds.Take(4).ToList();
        foreach (var user in new[] { "widget-user", "widget-picture-user" })
        {
            using var posted = await host.Http.PostAsJsonAsync("/api/events", history.Select((item, i) => new { userId = user, itemId = item, eventId = $"{user}-{i}" }));
            posted.EnsureSuccessStatusCode();
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1000, Height = 800 } });
        await page.GotoAsync(new Uri(host.BaseAddress, "/widget?user=widget-user&count=6").ToString());
        var cards = page.Locator(".lmi-item");
        await cards.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Equal(6, await cards.CountAsync());
        var expected = (await host.Http.GetFromJsonAsync<JsonElement>("/api/users/widget-user/recommendations?count=6")).GetProperty("items").EnumerateArray().ToList();
        var shown = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var card = cards.Nth(i);
            shown.Add((await card.GetAttributeAsync("data-item-id"))!);
            // No picture in the synthetic catalog: a placeholder named by the category.
            Assert.Equal(expected[i].GetProperty("category").GetString(), await card.Locator(".lmi-placeholder .lmi-category").InnerTextAsync());
            // The reason the API gives, or the widget's words for its source.
            var reason = expected[i].GetProperty("reason").GetString() ?? (expected[i].GetProperty("source").GetString() == "model" ? "Picked for you" : "Popular right now");
            Assert.Equal(reason, await card.Locator(".lmi-reason").InnerTextAsync());
            // Screen readers hear the title, brand, price and reason as the button's name.
            var name = await card.GetAttributeAsync("aria-label");
            Assert.StartsWith(expected[i].GetProperty("title").GetString()!, name, StringComparison.Ordinal);
            Assert.EndsWith(reason, name, StringComparison.Ordinal);
        }
        Assert.All(shown, id => Assert.DoesNotContain(id, history));
        Assert.Equal(expected.Select(i => i.GetProperty("itemId").GetString()), shown);
        Assert.Contains(expected, i => i.GetProperty("reason").GetString() is { } r && r.StartsWith("Like ", StringComparison.Ordinal) && r.EndsWith("which you viewed", StringComparison.Ordinal));
        Assert.Equal("v1", await page.Locator(".lmi-widget").GetAttributeAsync("data-version"));
        Assert.Equal(6, await page.GetByRole(AriaRole.List, new() { Name = "Recommended for you" }).GetByRole(AriaRole.Button).CountAsync());

        // Six cards at 1000 px: two rows of three, not five and one.
        var tops = new List<double>();
        for (var i = 0; i < 6; i++)
            tops.Add((await cards.Nth(i).BoundingBoxAsync())!.Y);
        Assert.Equal([3, 3], tops.GroupBy(t => Math.Round(t)).Select(g => g.Count()));
        if (Environment.GetEnvironmentVariable("LMINDEXER_WIDGET_SCREENSHOT") is { Length: > 0 } screenshot)
            await page.Locator(".lmi-widget").ScreenshotAsync(new LocatorScreenshotOptions { Path = screenshot });

        // The keyboard alone: focus the second card, press Enter, and the click is an event on the server.
        await cards.Nth(1).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => document.querySelector('.lmi-widget').dataset.lastClick !== undefined", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        Assert.Equal(shown[1], await page.Locator(".lmi-widget").GetAttributeAsync("data-last-click"));
        var recorded = await host.Http.GetFromJsonAsync<JsonElement>("/api/users/widget-user/history");
        var last = recorded.EnumerateArray().Last();
        Assert.Equal(shown[1], last.GetProperty("itemId").GetString());
        Assert.Equal("click", last.GetProperty("type").GetString());

        // An item the catalog has a picture for shows it (a loopback address: tests reach nothing else).
        var picture = new Uri(host.BaseAddress, "/no-such-picture.jpg").ToString();
        var record = (await host.Http.GetFromJsonAsync<JsonElement>($"/api/items/{shown[0]}")).GetProperty("item");
        using (var put = new HttpRequestMessage(HttpMethod.Put, "/api/items"))
        {
            var fields = record.Deserialize<Dictionary<string, JsonElement>>()!;
            fields["imageUrl"] = JsonSerializer.SerializeToElement(picture);
            put.Content = JsonContent.Create(fields);
            put.Headers.Add("X-Api-Key", HostFixture.CatalogKey);
            using var upserted = await host.Http.SendAsync(put);
            upserted.EnsureSuccessStatusCode();
        }
        await page.GotoAsync(new Uri(host.BaseAddress, "/widget?user=widget-picture-user&count=6").ToString());
        var image = page.Locator($".lmi-item[data-item-id='{shown[0]}'] img.lmi-image");
        await image.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Equal(picture, await image.GetAttributeAsync("src"));
    }
}
