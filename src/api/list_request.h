// Decoding of the list parameters every resource shares: q (given by the caller, from the
// query string or a search body), pageSize, pageNumber, sort, fields, and the
// X-Total-Count request header; `expand`, `force`; and the If-Match header. Pure, thread-safe.
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>

#include "api/request_context.h"
#include "query/query.h"
#include "service/token_service.h"
#include "store/token_store.h"

namespace ts::api {

struct ListRequest {
  query::Query filter;
  std::vector<query::SortKey> sort;
  query::Projection projection;
  query::Paging paging;
  bool want_total = false;
};

Result<ListRequest> DecodeListRequest(const RequestContext& ctx, const std::string& q,
                                      const query::ResourceSchema& schema);

// The store's form of a decoded list request; moves the filter and sort out of `request`.
store::ListQuery ToStoreQuery(const std::string& tenant, ListRequest& request);

// `force=true|false` (case-insensitive) on DELETE, and on an MCP server's PUT and PATCH;
// absent is false.
Result<bool> DecodeForce(const RequestContext& ctx);

// `expand=a,b`: the names given, each of which must be in `accepted`; absent or empty: none.
// `resource` ("MCP servers") names the resource in the 400 message.
Result<std::set<std::string>> DecodeExpand(const RequestContext& ctx,
                                           std::span<const std::string_view> accepted,
                                           std::string_view resource);

// `fields` alone (single-resource reads).
Result<query::Projection> DecodeProjection(const RequestContext& ctx,
                                           const query::ResourceSchema& schema);

// If-Match: `*`, or a list of entity tags `"<version>"`. nullopt when absent.
std::optional<service::Precondition> DecodeIfMatch(const http::HttpRequest& request);

// `"<version>"`
std::string EntityTag(std::int64_t version);

}  // namespace ts::api
