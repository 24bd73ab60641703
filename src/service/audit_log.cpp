#include "service/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/object.hpp>
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>

#include "common/log.h"
#include "common/timestamp.h"

namespace ts::service {
namespace {

class FileAuditLog final : public AuditLog {
 public:
  FileAuditLog(int fd, const Clock& clock, bool durable)
      : fd_(fd), clock_(clock), durable_(durable) {}
  ~FileAuditLog() override { ::close(fd_); }

  void Record(const AuditEvent& event) override {
    boost::json::object line;
    line["time"] = FormatTimestamp(clock_.NowMillis());
    line["requestId"] = event.request_id;
    line["tenant"] = event.tenant;
    line["subject"] = event.subject;
    line["action"] = event.action;
    line["tokenId"] = event.token_id;
    line["outcome"] = event.outcome;
    std::string text = boost::json::serialize(line);
    text += '\n';
    std::unique_lock lock(mutex_);
    const char* data = text.data();
    std::size_t left = text.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, data, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        // Losing audit lines silently would hide abuse; say so loudly in the process log.
        log::Error("audit.write_failed", {{"errno", std::strerror(errno)}});
        return;
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    if (!durable_) return;
    // Group sync: one fdatasync covers every line written before it started, so concurrent
    // writers share syncs instead of queueing for one each (as the store's group commit).
    const std::uint64_t mine = ++written_;
    while (synced_ < mine) {
      if (syncing_) {
        synced_cv_.wait(lock);
        continue;
      }
      syncing_ = true;
      const std::uint64_t covers = written_;
      lock.unlock();
      ::fdatasync(fd_);
      lock.lock();
      syncing_ = false;
      synced_ = std::max(synced_, covers);
      synced_cv_.notify_all();
    }
  }

 private:
  int fd_;
  const Clock& clock_;
  bool durable_;
  std::mutex mutex_;
  std::condition_variable synced_cv_;
  std::uint64_t written_ = 0;  // lines written; guarded by mutex_
  std::uint64_t synced_ = 0;   // lines known to be on disk; guarded by mutex_
  bool syncing_ = false;       // an fdatasync is running; guarded by mutex_
};

}  // namespace

Result<std::unique_ptr<AuditLog>> OpenFileAuditLog(const std::string& path, const Clock& clock,
                                                   bool durable) {
  if (path.empty()) return std::unique_ptr<AuditLog>(std::make_unique<NullAuditLog>());
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error::Invalid("cannot open audit log " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(std::make_unique<FileAuditLog>(fd, clock, durable));
}

}  // namespace ts::service
