// AuditLog: an append-only record of every write and every denied request, one JSON object
// per line. Never contains a token value or a bearer token. Record() returns only after the
// line is written and flushed to the operating system (fdatasync when `durable`), so a
// response is never sent for an action whose audit line could still be lost in our buffers.
// Thread-safe (one mutex around the append).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace ts::service {

struct AuditEvent {
  std::string_view request_id;
  std::string_view tenant;
  std::string_view subject;
  std::string_view action;    // e.g. "token.create", "token.update", "token.patch",
                              // "token.delete", "token.value_mismatch", "request.denied"
  std::string_view token_id;  // may be empty
  std::string_view outcome;   // e.g. "success", "conflict", "denied:401"
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual void Record(const AuditEvent& event) = 0;
};

// Appends to a file (created 0600). An empty path disables auditing (NullAuditLog).
Result<std::unique_ptr<AuditLog>> OpenFileAuditLog(const std::string& path, const Clock& clock,
                                                   bool durable);

class NullAuditLog final : public AuditLog {
 public:
  void Record(const AuditEvent&) override {}
};

}  // namespace ts::service
