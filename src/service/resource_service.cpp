#include "service/resource_service.h"

namespace ts::service {

store::ListQuery ByIdsQuery(const std::string& tenant, const std::set<std::string>& ids) {
  store::ListQuery query;
  query.tenant = tenant;
  query::Clause by_id;
  by_id.field = "id";
  by_id.type = query::FieldType::kString;
  by_id.kind = query::Clause::Kind::kAnyOf;
  for (const std::string& id : ids) by_id.comparisons.push_back({query::CompareOp::kEq, id});
  query.filter.clauses.push_back(std::move(by_id));
  query.sort.push_back({"id", query::FieldType::kString, false});
  query.limit = static_cast<std::int64_t>(ids.size());
  return query;
}

}  // namespace ts::service
