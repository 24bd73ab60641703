#include "crypto/key_ring.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>

#include "crypto/sodium_runtime.h"

namespace ts::crypto {
namespace {

constexpr std::string_view kFormatTag = "tsk1";
constexpr std::string_view kActiveFlag = "active";
// Far more than any real ring (a line is about 55 bytes); bounds what a wrong path can make us
// read into locked memory.
constexpr off_t kMaxFileBytes = 1 << 20;
constexpr int kBase64Variant = sodium_base64_VARIANT_ORIGINAL;

Error FileError(std::string_view path, std::string_view what) {
  std::string message = "key file ";
  message.append(path);
  message.append(": ");
  message.append(what);
  Error e = Error::Invalid(message);
  e.internal = std::move(message);
  return e;
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }
  // Closes now and reports the error, for writes whose close may surface a deferred failure.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string DirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// A rename or a new directory entry is only durable once the directory itself is synced.
bool SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  return ::fsync(fd.get()) == 0;
}

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Reads the whole file into guarded memory: it holds the keys in base64.
Result<SecretBytes> ReadKeyFile(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return FileError(path, "cannot stat: " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return FileError(path, "is not a regular file");
  if ((st.st_mode & 077) != 0) {
    // Group or other access would let another account read (or replace) every master key.
    return FileError(path, "is accessible by group or others (mode " + ModeText(st.st_mode) +
                               "); restrict it with: chmod 600 " + path);
  }
  if (st.st_size > kMaxFileBytes) return FileError(path, "is too large to be a key file");
  SecretBytes text = SecretBytes::OfSize(static_cast<std::size_t>(st.st_size));
  std::size_t filled = 0;
  while (filled < text.size()) {
    const ssize_t n = ::read(fd, text.mutable_data() + filled, text.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError(path, "cannot read: " + ErrnoText(errno));
    }
    if (n == 0) return FileError(path, "changed size while being read");
    filled += static_cast<std::size_t>(n);
  }
  return text;
}

Result<std::shared_ptr<const KeyRing>> LoadFromFd(int fd, const std::string& path) {
  auto text = ReadKeyFile(fd, path);
  if (!text) return std::move(text).error();
  return ParseKeyRing(text->view(), path);
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// Strict decimal: no sign, no leading zeros, no overflow; 0 is not a valid key id.
bool ParseKeyId(std::string_view s, std::uint32_t* out) {
  if (s.empty() || s.size() > 10 || s[0] == '0') return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > std::numeric_limits<std::uint32_t>::max()) return false;
  *out = static_cast<std::uint32_t>(v);
  return true;
}

// Formats the ring as key file text in a std::string that the caller must Wipe. The exact size
// is reserved up front so that no reallocation leaves key material behind in freed memory.
std::string FormatKeyRing(const KeyRing& ring) {
  static constexpr std::string_view kHeader =
      "# token-service master key ring, format tsk1. SECRET: keep it mode 0600 and back it up\n"
      "# offline. Without it no stored token value can be decrypted.\n"
      "# Line format: tsk1 <key id> <32-byte key, base64> [active]\n"
      "# New values are sealed under the active key; the other keys still open older values.\n";
  constexpr std::size_t kB64Bytes = sodium_base64_ENCODED_LEN(kMasterKeyBytes, kBase64Variant);
  const std::vector<std::uint32_t> ids = ring.ids();
  std::string out;
  out.reserve(kHeader.size() + ids.size() * (kFormatTag.size() + 12 + kB64Bytes + 8));
  out.append(kHeader);
  for (std::uint32_t id : ids) {
    const MasterKey* key = ring.Find(id);
    char b64[kB64Bytes];
    sodium_bin2base64(b64, sizeof b64, key->bytes(), key->size(), kBase64Variant);
    out.append(kFormatTag);
    out.push_back(' ');
    out.append(std::to_string(id));
    out.push_back(' ');
    out.append(b64);
    sodium_memzero(b64, sizeof b64);
    if (id == ring.active_id()) {
      out.push_back(' ');
      out.append(kActiveFlag);
    }
    out.push_back('\n');
  }
  return out;
}

// A copy of a key in fresh guarded memory (rings are immutable, so new rings copy their keys).
MasterKey CopyKey(const MasterKey& k) {
  return MasterKey(
      k.id(), SecretBytes(std::string_view(reinterpret_cast<const char*>(k.bytes()), k.size())));
}

// Opens and exclusively locks the key file at `path`, then makes sure the path still names what
// was locked: a concurrent writer may have renamed its new file into place while we waited, and
// our lock would be on the old one.
Result<Fd> LockKeyFile(const std::string& path) {
  struct stat lst {};
  if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    // rename() would replace the link itself, silently forking the ring from its target.
    return FileError(path, "is a symbolic link; change the file it points to instead");
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    Fd candidate(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW));
    if (candidate.get() < 0) {
      const int err = errno;
      if (err == ENOENT) return FileError(path, "does not exist");
      return FileError(path, "cannot open: " + ErrnoText(err));
    }
    int rc;
    do {
      rc = ::flock(candidate.get(), LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return FileError(path, "cannot lock: " + ErrnoText(errno));
    struct stat locked {};
    struct stat current {};
    if (::fstat(candidate.get(), &locked) != 0) {
      return FileError(path, "cannot stat: " + ErrnoText(errno));
    }
    if (::stat(path.c_str(), &current) == 0 && current.st_dev == locked.st_dev &&
        current.st_ino == locked.st_ino) {
      return candidate;
    }
  }
  return FileError(path, "keeps being replaced; cannot lock it");
}

// Replaces the key file at `path` by `ring`: the new text goes to a temporary file beside the
// old one (same filesystem, so the rename is atomic), which mkstemp creates with mode 0600.
Result<void> ReplaceKeyFile(const std::string& path, const KeyRing& ring) {
  std::string temp = path + ".tmp-XXXXXX";
  Fd out(::mkstemp(temp.data()));
  if (out.get() < 0) {
    return FileError(path, "cannot create a temporary file beside it: " + ErrnoText(errno));
  }
  std::string text = FormatKeyRing(ring);
  bool written =
      ::fchmod(out.get(), 0600) == 0 && WriteAll(out.get(), text) && ::fsync(out.get()) == 0;
  int err = errno;
  Wipe(text);
  if (written && out.Close() != 0) {
    written = false;
    err = errno;
  }
  if (!written) {
    ::unlink(temp.c_str());
    return FileError(path, "cannot write the new key file " + temp + ": " + ErrnoText(err));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(temp.c_str());
    return FileError(path, "cannot replace it with the new key file: " + ErrnoText(err));
  }
  if (!SyncDirectory(DirectoryOf(path))) {
    return FileError(path, "replaced, but syncing its directory failed: " + ErrnoText(errno));
  }
  return Ok();
}

}  // namespace

MasterKey MasterKey::Generate(std::uint32_t id) {
  SecretBytes key = SecretBytes::OfSize(kMasterKeyBytes);
  randombytes_buf(key.mutable_data(), key.size());
  return MasterKey(id, std::move(key));
}

Result<std::shared_ptr<const KeyRing>> KeyRing::Create(std::vector<MasterKey> keys,
                                                       std::uint32_t active_id) {
  if (keys.empty()) return Error::Invalid("key ring has no keys");
  std::sort(keys.begin(), keys.end(),
            [](const MasterKey& a, const MasterKey& b) { return a.id() < b.id(); });
  std::size_t active_index = keys.size();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].id() == 0) return Error::Invalid("key id 0 is not allowed");
    if (i > 0 && keys[i].id() == keys[i - 1].id()) {
      return Error::Invalid("key id " + std::to_string(keys[i].id()) + " appears twice");
    }
    if (keys[i].size() != kMasterKeyBytes) {
      return Error::Invalid("key id " + std::to_string(keys[i].id()) + " is not " +
                            std::to_string(kMasterKeyBytes) + " bytes");
    }
    if (keys[i].id() == active_id) active_index = i;
  }
  if (active_index == keys.size()) {
    return Error::Invalid("active key id " + std::to_string(active_id) + " is not in the ring");
  }
  return std::shared_ptr<const KeyRing>(new KeyRing(std::move(keys), active_index));
}

std::shared_ptr<const KeyRing> KeyRing::Generate() {
  std::vector<MasterKey> keys;
  keys.push_back(MasterKey::Generate(1));
  return std::shared_ptr<const KeyRing>(new KeyRing(std::move(keys), 0));
}

Result<std::shared_ptr<const KeyRing>> KeyRing::WithNewActiveKey() const {
  const std::uint32_t max_id = keys_.back().id();
  if (max_id == std::numeric_limits<std::uint32_t>::max()) {
    return Error::Invalid("key ring has used every key id up to 4294967295");
  }
  std::vector<MasterKey> keys;
  keys.reserve(keys_.size() + 1);
  for (const MasterKey& k : keys_) keys.push_back(CopyKey(k));
  keys.push_back(MasterKey::Generate(max_id + 1));
  return std::shared_ptr<const KeyRing>(new KeyRing(std::move(keys), keys_.size()));
}

Result<std::shared_ptr<const KeyRing>> KeyRing::WithoutKey(std::uint32_t id) const {
  if (Find(id) == nullptr) {
    return Error::Invalid("key id " + std::to_string(id) + " is not in the key ring");
  }
  if (id == active_id()) {
    return Error::Invalid("key id " + std::to_string(id) +
                          " is the active key; rotate to a new key before retiring it");
  }
  std::vector<MasterKey> keys;
  keys.reserve(keys_.size() - 1);
  for (const MasterKey& k : keys_) {
    if (k.id() != id) keys.push_back(CopyKey(k));
  }
  return Create(std::move(keys), active_id());
}

bool KeyRing::SameKeyAs(const KeyRing& other, std::uint32_t id) const {
  const MasterKey* mine = Find(id);
  const MasterKey* theirs = other.Find(id);
  return mine != nullptr && theirs != nullptr && mine->size() == theirs->size() &&
         sodium_memcmp(mine->bytes(), theirs->bytes(), mine->size()) == 0;
}

const MasterKey* KeyRing::Find(std::uint32_t id) const {
  auto it = std::lower_bound(keys_.begin(), keys_.end(), id,
                             [](const MasterKey& k, std::uint32_t v) { return k.id() < v; });
  return it != keys_.end() && it->id() == id ? &*it : nullptr;
}

std::vector<std::uint32_t> KeyRing::ids() const {
  std::vector<std::uint32_t> out;
  out.reserve(keys_.size());
  for (const MasterKey& k : keys_) out.push_back(k.id());
  return out;
}

Result<std::shared_ptr<const KeyRing>> ParseKeyRing(std::string_view text,
                                                    std::string_view source) {
  if (!internal::SodiumReady()) return Error::Internal("libsodium failed to initialize");
  std::vector<MasterKey> keys;
  std::uint32_t active_id = 0;
  bool have_active = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    // Messages name the line and the problem but never echo it: it may hold a key.
    const std::string where = "line " + std::to_string(line_no) + ": ";
    const std::vector<std::string_view> fields = SplitFields(line);
    if (fields.empty() || fields[0][0] == '#') continue;
    if (fields[0] != kFormatTag) {
      return FileError(source, where + "expected an entry starting with \"tsk1\"");
    }
    if (fields.size() < 3 || fields.size() > 4) {
      return FileError(source, where + "expected \"tsk1 <id> <base64 key> [active]\"");
    }
    std::uint32_t id = 0;
    if (!ParseKeyId(fields[1], &id)) {
      return FileError(source, where + "key id must be a decimal integer in 1..4294967295");
    }
    SecretBytes key = SecretBytes::OfSize(kMasterKeyBytes);
    std::size_t key_len = 0;
    const char* b64_end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.mutable_data()), key.size(),
                          fields[2].data(), fields[2].size(), nullptr, &key_len, &b64_end,
                          kBase64Variant) != 0 ||
        b64_end != fields[2].data() + fields[2].size() || key_len != kMasterKeyBytes) {
      return FileError(source, where + "key must be exactly 32 bytes in standard base64");
    }
    if (fields.size() == 4) {
      if (fields[3] != kActiveFlag) {
        return FileError(source, where + "the only flag after the key is \"active\"");
      }
      if (have_active) return FileError(source, where + "more than one key is marked active");
      have_active = true;
      active_id = id;
    }
    for (const MasterKey& k : keys) {
      if (k.id() == id) {
        return FileError(source, where + "key id " + std::to_string(id) + " appears twice");
      }
    }
    keys.emplace_back(id, std::move(key));
  }
  if (keys.empty()) return FileError(source, "holds no keys");
  if (!have_active) return FileError(source, "no key is marked active");
  auto ring = KeyRing::Create(std::move(keys), active_id);
  if (!ring) return FileError(source, ring.error().message);
  return ring;
}

Result<std::shared_ptr<const KeyRing>> LoadKeyRingFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT) return FileError(path, "does not exist");
    return FileError(path, "cannot open: " + ErrnoText(err));
  }
  return LoadFromFd(fd.get(), path);
}

Result<void> CreateKeyRingFile(const std::string& path) {
  if (!internal::SodiumReady()) return Error::Internal("libsodium failed to initialize");
  // O_EXCL makes "never overwrite an existing key file" atomic, and it also refuses a symlink
  // planted at the path (O_NOFOLLOW states that intent explicitly).
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == EEXIST) {
      return FileError(path, "already exists; refusing to overwrite a key file");
    }
    return FileError(path, "cannot create: " + ErrnoText(err));
  }
  std::string text = FormatKeyRing(*KeyRing::Generate());
  // fchmod because the umask may have narrowed (never widened) the mode; 0600 is the contract.
  bool written =
      ::fchmod(fd.get(), 0600) == 0 && WriteAll(fd.get(), text) && ::fsync(fd.get()) == 0;
  int err = errno;
  Wipe(text);
  if (written && fd.Close() != 0) {
    written = false;
    err = errno;
  }
  if (!written) {
    // A partial key file would fail to load later; better that it not exist at all.
    ::unlink(path.c_str());
    return FileError(path, "cannot write: " + ErrnoText(err));
  }
  if (!SyncDirectory(DirectoryOf(path))) {
    return FileError(path, "written, but syncing its directory failed: " + ErrnoText(errno));
  }
  return Ok();
}

Result<std::uint32_t> AddKeyToRingFile(const std::string& path) {
  if (!internal::SodiumReady()) return Error::Internal("libsodium failed to initialize");
  auto fd = LockKeyFile(path);
  if (!fd) return std::move(fd).error();
  auto ring = LoadFromFd(fd->get(), path);
  if (!ring) return std::move(ring).error();
  auto grown = (*ring)->WithNewActiveKey();
  if (!grown) return FileError(path, grown.error().message);
  if (auto replaced = ReplaceKeyFile(path, **grown); !replaced) return std::move(replaced).error();
  return (*grown)->active_id();
}

Result<void> RemoveKeyFromRingFile(const std::string& path, std::uint32_t id) {
  if (!internal::SodiumReady()) return Error::Internal("libsodium failed to initialize");
  auto fd = LockKeyFile(path);
  if (!fd) return std::move(fd).error();
  auto ring = LoadFromFd(fd->get(), path);
  if (!ring) return std::move(ring).error();
  auto shrunk = (*ring)->WithoutKey(id);
  if (!shrunk) return FileError(path, shrunk.error().message);
  return ReplaceKeyFile(path, **shrunk);
}

}  // namespace ts::crypto
