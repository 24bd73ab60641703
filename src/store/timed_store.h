// TimedStore: a Store that forwards every call to another Store and records how long it took,
// and whether it failed for the database's sake, in metrics::StoreMetrics (by operation kind:
// get, list, insert, …). The service uses it in place of the store it wraps; nothing else
// changes, so both backends are measured the same way.
// Thread-safe as the wrapped store is: it adds only relaxed atomic increments per call.
#pragma once

#include <memory>

#include "metrics/store_metrics.h"
#include "store/mcp_server_store.h"

namespace ts::store {

class TimedStore final : public Store {
 public:
  // `inner` and `metrics` must outlive this.
  TimedStore(Store& inner, metrics::StoreMetrics& metrics) : inner_(inner), metrics_(metrics) {}

  Result<std::optional<TokenRecord>> Get(std::string_view tenant, std::string_view id) override;
  Result<ListPage> List(const ListQuery& query) override;
  Result<void> Insert(std::string_view tenant, const TokenRecord& record) override;
  Result<void> Update(std::string_view tenant, const domain::Token& updated,
                      std::int64_t expected_version) override;
  Result<DeleteResult> Delete(std::string_view tenant, std::string_view id,
                              const DeleteRequest& request) override;
  Result<void> Ping() override;
  Result<std::optional<std::vector<std::uint8_t>>> GetSetting(std::string_view name) override;
  Result<bool> PutSetting(std::string_view name, std::span<const std::uint8_t> value,
                          const std::optional<std::vector<std::uint8_t>>& expected) override;
  Result<std::vector<SealedValueRow>> ListSealedValues(
      const std::optional<SealedValueKey>& after, std::size_t limit,
      std::optional<std::uint32_t> skip_key_id) override;
  Result<std::vector<bool>> SwapSealedValues(std::span<const SealedValueSwap> swaps) override;
  Result<std::map<std::uint32_t, std::int64_t>> CountSealedValuesByKeyId() override;

  Result<std::optional<domain::McpServer>> GetMcpServer(std::string_view tenant,
                                                        std::string_view id) override;
  Result<Page<domain::McpServer>> ListMcpServers(const ListQuery& query) override;
  Result<void> InsertMcpServer(std::string_view tenant, const domain::McpServer& server) override;
  Result<McpServerUpdateResult> UpdateMcpServer(std::string_view tenant,
                                                const domain::McpServer& updated,
                                                std::int64_t expected_version,
                                                ReferencePolicy enabled_users) override;
  Result<DeleteResult> DeleteMcpServer(std::string_view tenant, std::string_view id,
                                       const DeleteRequest& request) override;

  Result<std::optional<domain::Agent>> GetAgent(std::string_view tenant,
                                                std::string_view id) override;
  Result<Page<domain::Agent>> ListAgents(const ListQuery& query) override;
  Result<void> InsertAgent(std::string_view tenant, const domain::Agent& agent) override;
  Result<void> UpdateAgent(std::string_view tenant, const domain::Agent& updated,
                           std::int64_t expected_version) override;
  Result<DeleteResult> DeleteAgent(std::string_view tenant, std::string_view id,
                                   const DeleteRequest& request) override;

  std::optional<metrics::PoolUsage> ConnectionPoolUsage() const override {
    return inner_.ConnectionPoolUsage();
  }
  std::optional<metrics::WriteBatchUsage> WriteBatchUsage() const override {
    return inner_.WriteBatchUsage();
  }

 private:
  template <typename Call>
  auto Timed(metrics::StoreOperation operation, Call&& call) -> decltype(call());

  Store& inner_;
  metrics::StoreMetrics& metrics_;
};

}  // namespace ts::store
