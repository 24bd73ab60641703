#include "app/dev_files.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ts::app {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Invalid("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

Result<void> WriteFileAtomically(const std::string& path, const std::string& content, int mode) {
  const std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error::Invalid("cannot write " + temp + ": " + std::strerror(errno));
  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Error::Invalid("cannot write " + temp + ": " + std::strerror(errno));
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Error::Invalid("cannot rename " + temp + ": " + std::strerror(errno));
  }
  return Ok();
}

Result<void> EnsureDirectory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Error::Invalid("cannot create directory " + path + ": " + ec.message());
  return Ok();
}

Result<std::string> ReadJwtSecretFile(const std::string& path) {
  auto content = ReadFile(path);
  if (!content) return content;
  std::string secret = std::move(content).value();
  if (!secret.empty() && secret.back() == '\n') secret.pop_back();
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) return Error::Invalid("the JWT secret file " + path + " is empty");
  return secret;
}

Result<void> EnsureDevJwtSecret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return Ok();
  if (sodium_init() < 0) return Error::Internal("libsodium failed to initialize");
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  std::string content = std::string(hex) + "\n";
  sodium_memzero(hex, sizeof hex);
  auto written = WriteFileAtomically(path, content, 0600);
  sodium_memzero(content.data(), content.size());
  return written;
}

}  // namespace ts::app
