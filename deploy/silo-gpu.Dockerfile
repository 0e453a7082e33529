# GPU silo: role gpu, so the cluster places every inference activation here; libtorch from
# TorchSharp-cuda-linux (-p:TorchBackend=cuda) on an NVIDIA CUDA runtime image.
# Build from the repository root: docker build -f deploy/silo-gpu.Dockerfile .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/LMIndexer.Silo -c Release -p:TorchBackend=cuda -o /app

FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
# The ASP.NET Core runtime, taken from Microsoft's image rather than a distribution package.
COPY --from=mcr.microsoft.com/dotnet/aspnet:10.0 /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \
 && apt-get update && apt-get install -y --no-install-recommends libicu74 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
COPY deploy/appsettings.Cluster.json ./appsettings.Cluster.json
ENV DOTNET_ENVIRONMENT=Cluster \
    ASPNETCORE_ENVIRONMENT=Cluster \
    Cluster__Role=gpu \
    Torch__Device=cuda \
    Torch__Precision=bf16
EXPOSE 8080 11111 30000
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q Healthy <&3"]
ENTRYPOINT ["dotnet", "lmindexer-silo.dll"]
