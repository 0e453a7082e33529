using System.Text.Json;
using LMIndexer.Abstractions;

namespace LMIndexer.Silo.Api;

/// <summary><c>POST /api/events</c>: one event or a batch.</summary>
public static class EventsEndpoints
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        api.MapPost("/events", RecordAsync)
            .WithName("RecordEvents")
            .WithSummary("Record user events (one object or an array of up to 1000).")
            .WithDescription("A repeated eventId is not counted twice. type: view (default), cart, purchase, click.")
            .Accepts<EventDto[]>("application/json")
            .Produces<EventsAccepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem();
        return api;
    }

    private static async Task<IResult> RecordAsync(HttpRequest request, Grains.Users.UserRequests users, TimeProvider clock, CancellationToken cancellationToken)
    {
        var events = await ReadOneOrManyAsync<EventDto>(request, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        var parsed = events.Select((e, i) => InputValidation.Event(e, events.Count == 1 ? "" : $"[{i}].", errors, clock)).ToList();
        InputValidation.ThrowIfAny(errors);
        // One call (and one state write) per user of the batch, in the order the events came.
        var receipts = await Task.WhenAll(parsed.GroupBy(e => e.UserId, StringComparer.Ordinal)
            .Select(user => users.RecordAsync(user.Key, [.. user], cancellationToken)));
        var duplicates = receipts.Sum(r => r.Duplicates);
        return Results.Accepted(value: new EventsAccepted(parsed.Count - duplicates, duplicates));
    }

    /// <summary>A JSON object or an array of them, at most <see cref="InputValidation.MaxBatch"/>.</summary>
    internal static async Task<List<T>> ReadOneOrManyAsync<T>(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.HasJsonContentType() is false)
            throw new BadHttpRequestException("Send JSON (Content-Type: application/json).", StatusCodes.Status415UnsupportedMediaType);
        JsonElement body;
        try
        {
            body = await request.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException($"The body is not valid JSON: {e.Message}");
        }
        var options = request.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        try
        {
            var items = body.ValueKind switch
            {
                JsonValueKind.Array => body.Deserialize<List<T>>(options) ?? [],
                JsonValueKind.Object => [body.Deserialize<T>(options)!],
                _ => throw new BadHttpRequestException("The body must be a JSON object or an array of objects."),
            };
            if (items.Count == 0)
                throw new BadHttpRequestException("The batch is empty.");
            if (items.Count > InputValidation.MaxBatch)
                throw new BadHttpRequestException($"At most {InputValidation.MaxBatch} per request; got {items.Count}.");
            return items;
        }
        catch (JsonException e)
        {
            throw JsonShapeErrors.For<T>(e);
        }
    }
}
