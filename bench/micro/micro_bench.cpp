// Microbenchmarks (Google Benchmark) of the pieces every request pays for: parsing `q`,
// rendering a page of 60 tokens as JSON, verifying a bearer token, sealing and opening a value,
// and the store's point read. One binary, linked against the same libraries as the server;
// bench/run runs it pinned to one core and puts the figures into docs/benchmarks.md.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "api/token_json.h"
#include "auth/token_verifier.h"
#include "crypto/key_ring.h"
#include "crypto/value_barrier.h"
#include "domain/token.h"
#include "query/query.h"
#include "store/sqlite/sqlite_store.h"

namespace {

constexpr std::string_view kSecret = "bench-only-hs256-secret-0123456789abcdef";

void BM_ParseQuery(benchmark::State& state) {
  const std::string q =
      "name:~\"team-4[0-9]$\" metadata.version:>2 metadata.createdAt:(>=\"2026-01-01T00:00:00Z\" "
      "AND <\"2027-01-01T00:00:00Z\") id:(a,b,c)";
  for (auto _ : state) {
    auto parsed = ts::query::ParseQuery(q, ts::domain::TokenSchema());
    if (!parsed.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseQuery);

void BM_RenderPageOf60(benchmark::State& state) {
  std::vector<ts::domain::Token> page;
  for (int i = 0; i < 60; ++i) {
    ts::domain::Token t;
    t.id = "s-" + std::to_string(1000000 + i);
    t.name = "key " + std::to_string(i) + " team-" + std::to_string(i % 100);
    t.metadata = {3, 1764387000000 + i, 1764387005000 + i};
    page.push_back(std::move(t));
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string body = ts::api::RenderTokenPage(page, {});
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderPageOf60);

void BM_VerifyHs256(benchmark::State& state) {
  ts::auth::VerifierOptions options;
  options.key = std::string(kSecret);
  auto verifier = ts::auth::TokenVerifier::Create(std::move(options));
  const std::int64_t now = 1764387000;
  auto token = ts::auth::MintHs256Token(kSecret, "acme", "ai.agent_read ai.agent_manage", "bench",
                                        now, 3600);
  const std::string header = "Bearer " + *token;
  for (auto _ : state) {
    auto principal = verifier->Verify(header, now);
    if (!principal.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(principal);
  }
}
BENCHMARK(BM_VerifyHs256);

void BM_SealValue(benchmark::State& state) {
  (void)ts::crypto::InitCrypto();
  ts::crypto::ValueBarrier barrier(ts::crypto::KeyRing::Generate());
  const std::string value(static_cast<std::size_t>(state.range(0)), 'v');
  for (auto _ : state) {
    auto sealed = barrier.Seal("acme", "openai-key", value);
    benchmark::DoNotOptimize(sealed);
  }
}
BENCHMARK(BM_SealValue)->Arg(64)->Arg(4096);

void BM_OpenValue(benchmark::State& state) {
  (void)ts::crypto::InitCrypto();
  ts::crypto::ValueBarrier barrier(ts::crypto::KeyRing::Generate());
  const std::string value(64, 'v');
  auto sealed = barrier.Seal("acme", "openai-key", value);
  for (auto _ : state) {
    auto opened = barrier.Open("acme", "openai-key", *sealed);
    benchmark::DoNotOptimize(opened);
  }
}
BENCHMARK(BM_OpenValue);

// The store's point read by primary key, on a file with 10,000 tokens of one tenant.
void BM_StorePointRead(benchmark::State& state) {
  char tmpl[] = "/tmp/ts-micro-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  {
    auto store = ts::store::OpenSqliteStore({dir + "/t.db", "NORMAL"});
    if (!store.ok()) {
      state.SkipWithError("open failed");
      return;
    }
    for (int i = 0; i < 10000; ++i) {
      ts::store::TokenRecord record;
      record.token.id = "tok-" + std::to_string(i);
      record.token.name = "key " + std::to_string(i);
      record.token.metadata = {1, 1764387000000, 1764387000000};
      record.sealed_value.assign(120, 0x42);
      (void)(*store)->Insert("acme", record);
    }
    int i = 0;
    for (auto _ : state) {
      auto got = (*store)->Get("acme", "tok-" + std::to_string(i++ % 10000));
      if (!got.ok() || !got->has_value()) state.SkipWithError("read failed");
      benchmark::DoNotOptimize(got);
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StorePointRead);

}  // namespace

BENCHMARK_MAIN();
