// Test-only: schemas shaped like the token schema, shared by the src/query unit tests.
// Immutable after construction; safe to read from any thread.
#pragma once

#include "query/query.h"

namespace ts::query::test_schemas {

// The token fields, as the token resource offers them.
inline const ResourceSchema& TokenLikeSchema() {
  static const ResourceSchema schema{
      {
          {"id", FieldType::kString},
          {"name", FieldType::kString},
          {"metadata.version", FieldType::kInteger},
          {"metadata.createdAt", FieldType::kTimestamp},
          {"metadata.modifiedAt", FieldType::kTimestamp},
      },
      {"id", "name", "metadata", "metadata.version", "metadata.createdAt", "metadata.modifiedAt"},
      {"value"},
  };
  return schema;
}

// The token fields plus a boolean, a nested string and an unsortable field, as other
// resources (MCP servers, agents) will have.
inline const ResourceSchema& RichSchema() {
  static const ResourceSchema schema{
      {
          {"id", FieldType::kString},
          {"name", FieldType::kString},
          {"metadata.version", FieldType::kInteger},
          {"metadata.createdAt", FieldType::kTimestamp},
          {"metadata.modifiedAt", FieldType::kTimestamp},
          {"enabled", FieldType::kBoolean},
          {"config.url", FieldType::kString},
          {"description", FieldType::kString, /*sortable=*/false},
      },
      {"id", "name", "metadata", "metadata.version", "metadata.createdAt", "metadata.modifiedAt",
       "enabled", "config", "config.url", "description"},
      {"value", "config.secret"},
  };
  return schema;
}

}  // namespace ts::query::test_schemas
