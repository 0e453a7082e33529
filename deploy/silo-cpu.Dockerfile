# CPU silo: the API, the grains, and inference when no GPU silo is in the cluster.
# Build from the repository root: docker build -f deploy/silo-cpu.Dockerfile .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/LMIndexer.Silo -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
COPY deploy/appsettings.Cluster.json ./appsettings.Cluster.json
ENV DOTNET_ENVIRONMENT=Cluster \
    ASPNETCORE_ENVIRONMENT=Cluster \
    Cluster__Role=cpu \
    Torch__Device=cpu
EXPOSE 8080 11111 30000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q Healthy <&3"]
ENTRYPOINT ["dotnet", "lmindexer-silo.dll"]
