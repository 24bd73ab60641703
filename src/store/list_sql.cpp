#include "store/list_sql.h"

#include <string>

namespace ts::store {

Error UnknownListField(std::string_view field, std::string_view where) {
  std::string shown(field.substr(0, 100));
  return Error::InvalidField(std::string(where), "unknown_field",
                             "Unknown field '" + shown + "' in " + std::string(where));
}

const char* SqlOperator(query::CompareOp op) {
  switch (op) {
    case query::CompareOp::kEq:
      return "=";
    case query::CompareOp::kLt:
      return "<";
    case query::CompareOp::kLe:
      return "<=";
    case query::CompareOp::kGt:
      return ">";
    case query::CompareOp::kGe:
      return ">=";
  }
  return "=";
}

}  // namespace ts::store
