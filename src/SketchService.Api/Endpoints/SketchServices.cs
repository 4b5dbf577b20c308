using Microsoft.Extensions.Options;
using SketchService.Api.Infrastructure;
using SketchService.Api.Serving;

namespace SketchService.Api.Endpoints;

/// <summary>What every sketch endpoint uses, injected as one parameter with [AsParameters].</summary>
public sealed record SketchServices(ModelCatalog Models, Limits Limits, RequestLog Log, ILogger<SketchServices> Logger, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> Json);
