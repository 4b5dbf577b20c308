# syntax=docker/dockerfile:1
# SketchService images (docs/docker.md). Targets:
#   api      (default, the last stage) the REST API on the chiseled ASP.NET 10 image (Ubuntu 24.04), CPU ONNX Runtime,
#            non-root user `app`, port 8080, models/ baked in at /app/models (mount a volume there to replace them)
#   api-gpu  the same API on CUDA 13 + cuDNN 9 (Ubuntu 24.04) with Microsoft.ML.OnnxRuntime.Gpu, SketchService__UseCuda=true
#   trainer  the TorchSharp trainer CLI: ENTRYPOINT dotnet sketch-trainer.dll, data mounted at /data, writes /runs and /models
#
#   docker build -t sketchservice .
#   docker build --target api-gpu -t sketchservice:gpu .
#   docker build --target trainer -t sketchservice-trainer .
#
# Every restore and publish names the target runtime (-r linux-x64), so only Linux x64 native libraries are shipped.
# scripts/deploy-check.sh runs the api stage's publish command outside Docker and serves the result as this image
# does; it checks that the command below is unchanged, so edit both together.

# CUDA 13 (Microsoft.ML.OnnxRuntime.Gpu 1.31 links libcudart.so.13, libcublas.so.13) with cuDNN 9, Ubuntu 24.04.
ARG CUDA_VERSION=13.0.2

# ---- build stages ----------------------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/SketchService.Core/SketchService.Core.csproj src/SketchService.Core/
COPY src/SketchService.Runtime/SketchService.Runtime.csproj src/SketchService.Runtime/
COPY src/SketchService.Api/SketchService.Api.csproj src/SketchService.Api/
RUN dotnet restore src/SketchService.Api/SketchService.Api.csproj -r linux-x64
COPY src/SketchService.Core/ src/SketchService.Core/
COPY src/SketchService.Runtime/ src/SketchService.Runtime/
COPY src/SketchService.Api/ src/SketchService.Api/
COPY clients/js/sketchservice.js clients/js/
RUN dotnet publish src/SketchService.Api/SketchService.Api.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false --no-restore -o /app

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build-gpu
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/SketchService.Core/SketchService.Core.csproj src/SketchService.Core/
COPY src/SketchService.Runtime/SketchService.Runtime.csproj src/SketchService.Runtime/
COPY src/SketchService.Api/SketchService.Api.csproj src/SketchService.Api/
RUN dotnet restore src/SketchService.Api/SketchService.Api.csproj -r linux-x64 -p:OnnxRuntimeGpu=true
COPY src/SketchService.Core/ src/SketchService.Core/
COPY src/SketchService.Runtime/ src/SketchService.Runtime/
COPY src/SketchService.Api/ src/SketchService.Api/
COPY clients/js/sketchservice.js clients/js/
RUN dotnet publish src/SketchService.Api/SketchService.Api.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -p:OnnxRuntimeGpu=true --no-restore -o /app

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build-trainer
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/SketchService.Core/SketchService.Core.csproj src/SketchService.Core/
COPY src/SketchService.Runtime/SketchService.Runtime.csproj src/SketchService.Runtime/
COPY src/SketchService.Data/SketchService.Data.csproj src/SketchService.Data/
COPY src/SketchService.Export/SketchService.Export.csproj src/SketchService.Export/
COPY src/SketchService.Trainer/SketchService.Trainer.csproj src/SketchService.Trainer/
RUN dotnet restore src/SketchService.Trainer/SketchService.Trainer.csproj -r linux-x64
COPY src/SketchService.Core/ src/SketchService.Core/
COPY src/SketchService.Runtime/ src/SketchService.Runtime/
COPY src/SketchService.Data/ src/SketchService.Data/
COPY src/SketchService.Export/ src/SketchService.Export/
COPY src/SketchService.Trainer/ src/SketchService.Trainer/
RUN dotnet publish src/SketchService.Trainer/SketchService.Trainer.csproj -c Release -r linux-x64 --self-contained false -p:UseAppHost=false --no-restore -o /app

# ---- trainer: TorchSharp needs GLIBCXX_3.4.32, which Ubuntu 24.04's libstdc++ has (no loader trick as on Debian 12) --
FROM mcr.microsoft.com/dotnet/runtime:10.0-noble AS trainer
WORKDIR /app
COPY --from=build-trainer /app ./
# Mount points: /data (datasets, read-only), /runs (checkpoints), /models (exported model folders). /runs and /models
# belong to `app` so that new named volumes mounted there (initialised from these folders) are writable by it.
RUN mkdir -p /data /runs /models && chown "$APP_UID:$APP_UID" /runs /models
USER $APP_UID
ENTRYPOINT ["dotnet", "sketch-trainer.dll"]
CMD ["--help"]

# ---- api-gpu: the ASP.NET runtime copied onto NVIDIA's CUDA 13 + cuDNN runtime image ---------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS aspnet

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04 AS api-gpu
# libssl: .NET's cryptography (model checksums); ICU is not needed (InvariantGlobalization, Directory.Build.props).
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3t64 tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1654 app \
 && useradd --uid 1654 --gid app --create-home --shell /usr/sbin/nologin app
COPY --from=aspnet /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
ENV APP_UID=1654 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    ASPNETCORE_HTTP_PORTS=8080 \
    SketchService__ModelsPath=/app/models \
    SketchService__UseCuda=true
WORKDIR /app
COPY --from=build-gpu /app ./
COPY --chown=1654:1654 models/ ./models/
USER 1654
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["dotnet", "SketchService.Api.dll", "--probe"]
ENTRYPOINT ["dotnet", "SketchService.Api.dll"]

# ---- api (default): chiseled = no shell, no package manager, non-root `app` (UID 1654) -------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled AS api
ENV ASPNETCORE_HTTP_PORTS=8080 \
    SketchService__ModelsPath=/app/models
WORKDIR /app
COPY --from=build /app ./
# Owned by `app` so that a new named volume mounted at /app/models (initialised from this folder) is writable by the
# trainer (also UID 1654); the API itself only reads it.
COPY --chown=1654:1654 models/ ./models/
USER 1654
EXPOSE 8080
# The probe mode GETs http://127.0.0.1:8080/health/ready (port from ASPNETCORE_HTTP_PORTS) and exits 0 or 1: no shell or
# curl needed. No --start-period (dockerfilelint 1.8 misreads it): loading and warming up the models takes seconds, far
# less than the first check at 30 s; docker-compose.yml sets start_period and start_interval for a faster first check.
HEALTHCHECK --interval=30s --timeout=10s --retries=3 CMD ["dotnet", "SketchService.Api.dll", "--probe"]
ENTRYPOINT ["dotnet", "SketchService.Api.dll"]
