#include "api/list_request.h"

#include <algorithm>
#include <charconv>

#include "http/request_checks.h"

namespace ts::api {

using http::EqualsIgnoreCase;

store::ListQuery ToStoreQuery(const std::string& tenant, ListRequest& request) {
  store::ListQuery query;
  query.tenant = tenant;
  query.filter = std::move(request.filter);
  query.sort = std::move(request.sort);
  query.limit = request.paging.page_size;
  query.offset = request.paging.Offset();
  query.count_total = request.want_total;
  return query;
}

Result<bool> DecodeForce(const RequestContext& ctx) {
  auto force = ctx.params.Single("force");
  if (!force) return std::move(force).error();
  if (!*force) return false;
  if (EqualsIgnoreCase(**force, "true")) return true;
  if (EqualsIgnoreCase(**force, "false")) return false;
  return Error::InvalidField("force", "invalid", "force must be true or false");
}

Result<std::set<std::string>> DecodeExpand(const RequestContext& ctx,
                                           std::span<const std::string_view> accepted,
                                           std::string_view resource) {
  auto expand = ctx.params.Single("expand");
  if (!expand) return std::move(expand).error();
  std::set<std::string> names;
  if (!*expand || (*expand)->empty()) return names;
  std::string_view rest = **expand;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (std::find(accepted.begin(), accepted.end(), name) == accepted.end()) {
      std::string allowed;
      for (std::string_view a : accepted) allowed += (allowed.empty() ? "" : ", ") + std::string(a);
      return Error::InvalidField("expand", "invalid",
                                 "expand accepts " + allowed + " for " + std::string(resource));
    }
    names.emplace(name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return names;
}

Result<query::Projection> DecodeProjection(const RequestContext& ctx,
                                           const query::ResourceSchema& schema) {
  auto fields = ctx.params.Single("fields");
  if (!fields) return std::move(fields).error();
  if (!*fields) return query::Projection{};
  return query::ParseFields(**fields, schema);
}

Result<ListRequest> DecodeListRequest(const RequestContext& ctx, const std::string& q,
                                      const query::ResourceSchema& schema) {
  ListRequest out;
  auto filter = query::ParseQuery(q, schema);
  if (!filter) return std::move(filter).error();
  out.filter = std::move(filter).value();

  auto sort = ctx.params.Single("sort");
  if (!sort) return std::move(sort).error();
  auto sort_keys = query::ParseSort(sort->value_or(""), schema);
  if (!sort_keys) return std::move(sort_keys).error();
  out.sort = std::move(sort_keys).value();

  auto projection = DecodeProjection(ctx, schema);
  if (!projection) return std::move(projection).error();
  out.projection = std::move(projection).value();

  auto page_size = ctx.params.Single("pageSize");
  if (!page_size) return std::move(page_size).error();
  auto page_number = ctx.params.Single("pageNumber");
  if (!page_number) return std::move(page_number).error();
  std::optional<std::string_view> size_view, number_view;
  if (*page_size) size_view = **page_size;
  if (*page_number) number_view = **page_number;
  auto paging = query::ParsePaging(size_view, number_view);
  if (!paging) return std::move(paging).error();
  out.paging = *paging;

  auto total = ctx.request.Header("X-Total-Count");
  out.want_total = total && EqualsIgnoreCase(http::TrimSpaces(*total), "true");
  return out;
}

std::optional<service::Precondition> DecodeIfMatch(const http::HttpRequest& request) {
  auto header = request.Header("If-Match");
  if (!header) return std::nullopt;
  service::Precondition precondition;
  std::string_view rest = *header;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = http::TrimSpaces(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item == "*") {
      precondition.any = true;
      continue;
    }
    // Only strong tags of the form "<digits>" can match; anything else never matches
    // (If-Match uses the strong comparison).
    if (item.size() < 3 || item.front() != '"' || item.back() != '"') continue;
    std::string_view digits = item.substr(1, item.size() - 2);
    std::int64_t version = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
    if (ec == std::errc{} && end == digits.data() + digits.size() && version >= 1) {
      precondition.versions.push_back(version);
    }
  }
  return precondition;
}

std::string EntityTag(std::int64_t version) { return "\"" + std::to_string(version) + "\""; }

}  // namespace ts::api
