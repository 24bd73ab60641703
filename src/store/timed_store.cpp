#include "store/timed_store.h"

#include <chrono>

namespace ts::store {

using metrics::StoreOperation;

template <typename Call>
auto TimedStore::Timed(StoreOperation operation, Call&& call) -> decltype(call()) {
  const auto start = std::chrono::steady_clock::now();
  auto result = call();
  // A conflict, a missing reference or a bad argument is an answer, not a database failure.
  const bool failed = !result.ok() && (result.error().code == ErrorCode::kUnavailable ||
                                       result.error().code == ErrorCode::kInternal);
  metrics_.Record(operation, std::chrono::steady_clock::now() - start, failed);
  return result;
}

Result<std::optional<TokenRecord>> TimedStore::Get(std::string_view tenant, std::string_view id) {
  return Timed(StoreOperation::kGet, [&] { return inner_.Get(tenant, id); });
}
Result<ListPage> TimedStore::List(const ListQuery& query) {
  return Timed(StoreOperation::kList, [&] { return inner_.List(query); });
}
Result<void> TimedStore::Insert(std::string_view tenant, const TokenRecord& record) {
  return Timed(StoreOperation::kInsert, [&] { return inner_.Insert(tenant, record); });
}
Result<void> TimedStore::Update(std::string_view tenant, const domain::Token& updated,
                                std::int64_t expected_version) {
  return Timed(StoreOperation::kUpdate,
               [&] { return inner_.Update(tenant, updated, expected_version); });
}
Result<DeleteResult> TimedStore::Delete(std::string_view tenant, std::string_view id,
                                        const DeleteRequest& request) {
  return Timed(StoreOperation::kDelete, [&] { return inner_.Delete(tenant, id, request); });
}
Result<void> TimedStore::Ping() {
  return Timed(StoreOperation::kPing, [&] { return inner_.Ping(); });
}
Result<std::optional<std::vector<std::uint8_t>>> TimedStore::GetSetting(std::string_view name) {
  return Timed(StoreOperation::kSettings, [&] { return inner_.GetSetting(name); });
}
Result<bool> TimedStore::PutSetting(std::string_view name, std::span<const std::uint8_t> value,
                                    const std::optional<std::vector<std::uint8_t>>& expected) {
  return Timed(StoreOperation::kSettings, [&] { return inner_.PutSetting(name, value, expected); });
}
Result<std::vector<SealedValueRow>> TimedStore::ListSealedValues(
    const std::optional<SealedValueKey>& after, std::size_t limit,
    std::optional<std::uint32_t> skip_key_id) {
  return Timed(StoreOperation::kKeyRotation,
               [&] { return inner_.ListSealedValues(after, limit, skip_key_id); });
}
Result<std::vector<bool>> TimedStore::SwapSealedValues(std::span<const SealedValueSwap> swaps) {
  return Timed(StoreOperation::kKeyRotation, [&] { return inner_.SwapSealedValues(swaps); });
}
Result<std::map<std::uint32_t, std::int64_t>> TimedStore::CountSealedValuesByKeyId() {
  return Timed(StoreOperation::kKeyUsage, [&] { return inner_.CountSealedValuesByKeyId(); });
}

Result<std::optional<domain::McpServer>> TimedStore::GetMcpServer(std::string_view tenant,
                                                                  std::string_view id) {
  return Timed(StoreOperation::kGet, [&] { return inner_.GetMcpServer(tenant, id); });
}
Result<Page<domain::McpServer>> TimedStore::ListMcpServers(const ListQuery& query) {
  return Timed(StoreOperation::kList, [&] { return inner_.ListMcpServers(query); });
}
Result<void> TimedStore::InsertMcpServer(std::string_view tenant, const domain::McpServer& server) {
  return Timed(StoreOperation::kInsert, [&] { return inner_.InsertMcpServer(tenant, server); });
}
Result<McpServerUpdateResult> TimedStore::UpdateMcpServer(std::string_view tenant,
                                                          const domain::McpServer& updated,
                                                          std::int64_t expected_version,
                                                          ReferencePolicy enabled_users) {
  return Timed(StoreOperation::kUpdate, [&] {
    return inner_.UpdateMcpServer(tenant, updated, expected_version, enabled_users);
  });
}
Result<DeleteResult> TimedStore::DeleteMcpServer(std::string_view tenant, std::string_view id,
                                                 const DeleteRequest& request) {
  return Timed(StoreOperation::kDelete,
               [&] { return inner_.DeleteMcpServer(tenant, id, request); });
}

Result<std::optional<domain::Agent>> TimedStore::GetAgent(std::string_view tenant,
                                                          std::string_view id) {
  return Timed(StoreOperation::kGet, [&] { return inner_.GetAgent(tenant, id); });
}
Result<Page<domain::Agent>> TimedStore::ListAgents(const ListQuery& query) {
  return Timed(StoreOperation::kList, [&] { return inner_.ListAgents(query); });
}
Result<void> TimedStore::InsertAgent(std::string_view tenant, const domain::Agent& agent) {
  return Timed(StoreOperation::kInsert, [&] { return inner_.InsertAgent(tenant, agent); });
}
Result<void> TimedStore::UpdateAgent(std::string_view tenant, const domain::Agent& updated,
                                     std::int64_t expected_version) {
  return Timed(StoreOperation::kUpdate,
               [&] { return inner_.UpdateAgent(tenant, updated, expected_version); });
}
Result<DeleteResult> TimedStore::DeleteAgent(std::string_view tenant, std::string_view id,
                                             const DeleteRequest& request) {
  return Timed(StoreOperation::kDelete, [&] { return inner_.DeleteAgent(tenant, id, request); });
}

}  // namespace ts::store
