#include "service/audit_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ts::service {
namespace {

TEST(FileAuditLogTest, ConcurrentDurableRecordsAreWholeLinesAndAllThere) {
  char tmpl[] = "/tmp/ts-audit-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string path = dir + "/audit.log";
  FakeClock clock(1764387000000);
  {
    auto audit = OpenFileAuditLog(path, clock, /*durable=*/true);
    ASSERT_TRUE(audit.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          const std::string id = "tok-" + std::to_string(t) + "-" + std::to_string(i);
          (*audit)->Record({"req", "acme", "alice", "token.create", id, "success"});
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  std::ifstream in(path);
  std::set<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    const boost::json::value v = boost::json::parse(line);
    ids.insert(std::string(v.at("tokenId").as_string()));
    EXPECT_EQ(v.at("time").as_string(), "2025-11-29T03:30:00.000Z");
  }
  EXPECT_EQ(ids.size(), 400u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ts::service
