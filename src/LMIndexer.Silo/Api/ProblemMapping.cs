using LMIndexer.Abstractions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace LMIndexer.Silo.Api;

/// <summary>
/// Every failure leaves as RFC 9457 problem details: invalid input 400 (with the bad fields),
/// unknown things 404, conflicts with the cluster's state 409 (<see cref="DomainConflictException"/>
/// only: any other invalid operation is a server fault), a cluster that cannot serve yet 503,
/// anything else 500 without internals.
/// </summary>
public sealed class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = Classify(exception);
        if (status >= 500)
            logger.LogError(exception, "Request {Path} failed", httpContext.Request.Path);
        httpContext.Response.StatusCode = status;
        if (exception is CapacityExceededException)
            httpContext.Response.Headers.RetryAfter = "1";
        ProblemDetails problem = exception is ValidationException validation
            ? new HttpValidationProblemDetails(validation.Errors) { Status = status, Title = title }
            : new ProblemDetails { Status = status, Title = title, Detail = detail, Type = TypeOf(status) };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>RFC links for the statuses ASP.NET Core has no default type for.</summary>
    internal static string? TypeOf(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        StatusCodes.Status429TooManyRequests => "https://tools.ietf.org/html/rfc6585#section-4",
        _ => null,
    };

    internal static (int Status, string Title, string? Detail) Classify(Exception exception) => exception switch
    {
        ValidationException => (StatusCodes.Status400BadRequest, "Invalid request", null),
        BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode switch
        {
            StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
            StatusCodes.Status413PayloadTooLarge => "Content too large",
            _ => "Invalid request",
        }, bad.Message),
        ArgumentException argument => (StatusCodes.Status400BadRequest, "Invalid request", argument.UserMessage()),
        KeyNotFoundException missing => (StatusCodes.Status404NotFound, "Not found", missing.Message),
        DomainConflictException conflict => (StatusCodes.Status409Conflict, "Conflict", conflict.Message),
        CapacityExceededException busy => (StatusCodes.Status503ServiceUnavailable, "Service unavailable", busy.Message),
        OrleansException orleans => (StatusCodes.Status503ServiceUnavailable, "Service unavailable", orleans.Message),
        TimeoutException => (StatusCodes.Status503ServiceUnavailable, "Service unavailable", "The cluster did not answer in time."),
        _ => (StatusCodes.Status500InternalServerError, "Internal error", "The server failed; see its log."),
    };
}
