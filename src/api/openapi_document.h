// The service's OpenAPI document (docs/openapi.yaml), compiled into the binary at build time
// (cmake/embed_file.cmake generates the definition), so `GET /ai-service/openapi.yaml` always
// serves the document of the source it was built from. Immutable; thread-safe.
#pragma once

#include <string_view>

namespace ts::api {

// The exact bytes of docs/openapi.yaml.
std::string_view OpenApiDocument();

}  // namespace ts::api
