// The request flows the handlers of the referencing resources (MCP servers, agents) share,
// so each resource's handlers keep only what is its own (decoding its body, its expansions,
// rendering): PUT (201 with Location and ETag, or 204), PATCH, DELETE with `force`, and the
// `q` of a list or a search. Templates over service::ResourceService<Traits>.
// Thread-safe: stateless; the services are thread-safe.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/error_mapping.h"
#include "api/list_request.h"
#include "api/request_context.h"
#include "api/responses.h"
#include "service/resource_service.h"

namespace ts::api {

// The JSON body a write needs: 415/400 as ParseJsonBody, 400 when there is none.
Result<boost::json::value> RequiredJsonBody(const RequestContext& ctx);

// The `q` of a list (query parameter) or of a search (`{"q": …}` body).
Result<std::string> ListQueryText(const RequestContext& ctx);
Result<std::string> SearchQueryText(const RequestContext& ctx);

service::Caller CallerOf(const RequestContext& ctx);

// 201 {"id"} with `Location: /ai-service/{tenant}/agentic/{collection}/{id}` and ETag, or 204
// with ETag.
http::HttpResponse WrittenResponse(const RequestContext& ctx, std::string_view collection,
                                   const service::WriteResult& written);

http::HttpResponse DeletedResponse();

// The operations of a PATCH body (api::DecodePatch, the same for every resource).
Result<std::vector<domain::PatchOperation>> DecodePatchBody(const RequestContext& ctx);

// `decode(const boost::json::value& body, const std::string& id)` → Result<ResourceUpsert<…>>.
template <typename Traits, typename Decode>
http::HttpResponse PutResource(RequestContext& ctx, service::ResourceService<Traits>& service,
                               std::string_view collection, Decode decode) {
  auto body = RequiredJsonBody(ctx);
  if (!body) return RenderError(body.error());
  auto command = decode(*body, ctx.resource_id);
  if (!command) return RenderError(command.error());
  command->if_match = DecodeIfMatch(ctx.request);
  auto written = service.Upsert(CallerOf(ctx), std::move(command).value());
  if (!written) return RenderError(written.error());
  return WrittenResponse(ctx, collection, *written);
}

template <typename Traits>
http::HttpResponse DeleteResource(RequestContext& ctx, service::ResourceService<Traits>& service) {
  auto force = DecodeForce(ctx);
  if (!force) return RenderError(force.error());
  auto deleted = service.Delete(CallerOf(ctx), ctx.resource_id, *force, DecodeIfMatch(ctx.request));
  if (!deleted) return RenderError(deleted.error());
  return DeletedResponse();
}

// `force`: the decoded query parameter, for resources whose PATCH takes one (MCP servers).
template <typename Traits>
http::HttpResponse PatchResource(RequestContext& ctx, service::ResourceService<Traits>& service,
                                 bool force = false) {
  auto ops = DecodePatchBody(ctx);
  if (!ops) return RenderError(ops.error());
  auto written =
      service.Patch(CallerOf(ctx), ctx.resource_id, *ops, DecodeIfMatch(ctx.request), force);
  if (!written) return RenderError(written.error());
  return NoContentResponse(written->version);
}

}  // namespace ts::api
