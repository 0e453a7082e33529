#!/usr/bin/env bash
# Mutation testing with Stryker.NET, on demand (not in CI: a run takes from minutes to hours).
# Usage: bash tests/Mutation/stryker.sh evaluation|litedb|mongodb|grains|grains-data|grains-state-writer|grains-search-index|grains-id-prefix|grains-rules|grains-popularity|grains-inference|grains-shells [extra stryker flags]
# Reports go to artifacts/mutation/<target>/reports (HTML and JSON); docs/quality.md summarises them.
# Build nothing that depends on the mutated project while a run lasts: test outputs link to the
# project's own bin/ (Directory.Build.props), so such a build overwrites the mutated assembly and
# every later mutant "survives" against the original code.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet tool restore >/dev/null
target="${1:?evaluation, litedb, mongodb, grains, grains-data, grains-state-writer, grains-search-index, grains-id-prefix, grains-rules, grains-popularity, grains-inference or grains-shells}"
shift
out="$PWD/artifacts/mutation/$target"
common=(--reporter json --reporter html --reporter cleartext --concurrency 1 --output "$out")
case "$target" in
  evaluation)
    cd tests/LMIndexer.Core.Tests
    dotnet stryker --project LMIndexer.Core.csproj --mutate "**/Evaluation/*.cs" \
      --test-case-filter "FullyQualifiedName~LMIndexer.Core.Tests.Evaluation" "${common[@]}" "$@" ;;
  litedb|mongodb)
    # The provider's contract (the conformance suite) and a real host on it (the storage tests).
    project=$([ "$target" = litedb ] && echo LMIndexer.Storage.LiteDb.csproj || echo LMIndexer.Storage.MongoDB.csproj)
    cd tests/LMIndexer.Storage.Conformance.Tests
    dotnet stryker --project "$project" \
      --test-project LMIndexer.Storage.Conformance.Tests.csproj --test-project ../LMIndexer.Storage.Tests/LMIndexer.Storage.Tests.csproj \
      "${common[@]}" "$@" ;;
  grains)
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj "${common[@]}" "$@" ;;
  grains-data)
    # The code where a silent bug loses data: the backfill job and the state writer, with their tests.
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Backfill/BackfillGrain.cs" --mutate "**/Storage/StateWriter.cs" \
      --test-case-filter "FullyQualifiedName~BackfillTests|FullyQualifiedName~BackfillCrashTests|FullyQualifiedName~StorageFaultTests|FullyQualifiedName~CatalogSearchWriteFailureTests" \
      "${common[@]}" "$@" ;;
  grains-state-writer)
    # The retrying state writer alone, with its unit tests and the cluster tests that fail storage under it (about 40 mutants).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Storage/StateWriter.cs" \
      --test-case-filter "FullyQualifiedName~StateWriterTests|FullyQualifiedName~StorageFaultTests|FullyQualifiedName~CatalogSearchWriteFailureTests" \
      "${common[@]}" "$@" ;;
  grains-search-index)
    # A search shard's vectors and the approximate index it keeps across restarts (unit tests: minutes).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Search/ShardVectors.cs" --mutate "**/Search/KeptShardIndex.cs" \
      --test-case-filter "FullyQualifiedName~ShardVectorsTests" "${common[@]}" "$@" ;;
  grains-id-prefix)
    # The ID trie's rules (allocation of collision counters, resolution, listings) with their unit tests (minutes).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Items/IdPrefixEntries.cs" \
      --test-case-filter "FullyQualifiedName~IdPrefixEntriesTests" "${common[@]}" "$@" ;;
  grains-rules)
    # The rules the user, backfill, search-shard, item and version grains apply (bounded memory, the answer's assembly, batching and pacing, a search shard's texts, an item's IDs per version, the version registry's switch and retirement), with their unit tests (minutes).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Users/UserMemory.cs" --mutate "**/Users/RecommendationSlate.cs" --mutate "**/Backfill/BackfillBatches.cs" --mutate "**/Search/ShardTexts.cs" --mutate "**/Items/ItemSemanticIds.cs" --mutate "**/Versions/IndexVersionRules.cs" \
      --test-case-filter "FullyQualifiedName~UserMemoryTests|FullyQualifiedName~RecommendationSlateTests|FullyQualifiedName~BackfillBatchesTests|FullyQualifiedName~ShardTextsTests|FullyQualifiedName~ItemSemanticIdsTests|FullyQualifiedName~IndexVersionRulesTests" "${common[@]}" "$@" ;;
  grains-popularity)
    # The popularity ranking's rules (merged scores, lookups of unknown items, the ranked candidates) and a silo counter's (counts kept across a failed merge, the copy of the top items), with their unit tests (minutes).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Popularity/PopularityRanking.cs" --mutate "**/Popularity/PendingCounts.cs" --mutate "**/Popularity/PopularTopCopy.cs" \
      --test-case-filter "FullyQualifiedName~PopularityRankingTests|FullyQualifiedName~PopularityCounterRulesTests" "${common[@]}" "$@" ;;
  grains-inference)
    # The inference engine (batching, items added while serving, their text vectors, the stats) and the route to it (replica, deadline, one retry), with their tests; the engine's load real bundles (about an hour here).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Inference/InferenceEngine.cs" --mutate "**/Inference/InferenceRoute.cs" \
      --test-case-filter "FullyQualifiedName~InferenceEngineTests|FullyQualifiedName~InferenceEngineReportingTests|FullyQualifiedName~InferenceRouteTests" "${common[@]}" "$@" ;;
  grains-shells)
    # The grain classes around the rules above: user, item, prefix, version registry and each silo's view of it, the inference grain, popularity, a search shard; every Grains test that covers them (hours: most start a cluster).
    cd tests/LMIndexer.Grains.Tests
    dotnet stryker --project LMIndexer.Grains.csproj --mutate "**/Users/UserGrain.cs" --mutate "**/Users/UserRequests.cs" --mutate "**/Items/ItemGrain.cs" --mutate "**/Items/IdPrefixGrain.cs" \
      --mutate "**/Versions/IndexVersionGrain.cs" --mutate "**/Versions/ServedVersions.cs" --mutate "**/Inference/IndexerInferenceGrain.cs" \
      --mutate "**/Popularity/PopularityGrain.cs" --mutate "**/Popularity/PopularityCounterGrain.cs" --mutate "**/Search/CatalogSearchGrain.cs" "${common[@]}" "$@" ;;
  *) echo "stryker.sh: unknown target '$target'" >&2; exit 2 ;;
esac
