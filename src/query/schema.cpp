#include <string_view>

#include "query/query.h"

namespace ts::query {
namespace {

// True if `ancestor` names a strict ancestor of `path` in dotted notation: "metadata" is an
// ancestor of "metadata.version" but not of "metadataX".
bool IsAncestor(std::string_view ancestor, std::string_view path) {
  return path.size() > ancestor.size() && path.substr(0, ancestor.size()) == ancestor &&
         path[ancestor.size()] == '.';
}

}  // namespace

const FieldSpec* ResourceSchema::Find(std::string_view path) const {
  for (const FieldSpec& field : fields) {
    if (field.path == path) return &field;
  }
  return nullptr;
}

bool Projection::Includes(std::string_view path) const {
  if (names.empty()) return true;
  for (const std::string& name : names) {
    if (name == path || IsAncestor(name, path) || IsAncestor(path, name)) return true;
  }
  return false;
}

bool Projection::IncludesExactly(std::string_view path) const {
  if (names.empty()) return true;
  for (const std::string& name : names) {
    if (name == path || IsAncestor(name, path)) return true;
  }
  return false;
}

}  // namespace ts::query
