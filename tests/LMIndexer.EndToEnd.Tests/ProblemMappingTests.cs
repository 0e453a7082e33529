using LMIndexer.Abstractions;
using LMIndexer.Silo.Api;
using Microsoft.AspNetCore.Http;

namespace LMIndexer.EndToEnd.Tests;

public sealed class ProblemMappingTests
{
    [Fact]
    public void Only_a_domain_conflict_is_a_409_any_other_invalid_operation_is_a_500_without_its_message()
    {
        var conflict = ProblemMapping.Classify(new DomainConflictException("Version 'v1' is being served."));
        Assert.Equal((StatusCodes.Status409Conflict, "Conflict", "Version 'v1' is being served."), conflict);
        var fault = ProblemMapping.Classify(new InvalidOperationException("Collection was modified; enumeration operation may not execute."));
        Assert.Equal(StatusCodes.Status500InternalServerError, fault.Status);
        Assert.DoesNotContain("Collection", fault.Detail, StringComparison.Ordinal);
        var busy = ProblemMapping.Classify(new CapacityExceededException("The inference queue of version v1 is full (1 requests); retry later."));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, busy.Status);
    }
}
