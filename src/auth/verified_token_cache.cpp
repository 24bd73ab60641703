#include "auth/verified_token_cache.h"

#include <openssl/sha.h>

#include <cstring>

namespace ts::auth {

std::size_t VerifiedTokenCache::DigestHash::operator()(const Digest& d) const {
  // The digest is already uniformly distributed.
  std::size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

VerifiedTokenCache::Digest VerifiedTokenCache::DigestOf(std::string_view token) {
  Digest digest;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  return digest;
}

std::optional<VerifiedClaims> VerifiedTokenCache::Find(std::string_view token) const {
  if (capacity_ == 0) return std::nullopt;
  const Digest digest = DigestOf(token);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(digest);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void VerifiedTokenCache::Insert(std::string_view token, const VerifiedClaims& claims,
                                std::int64_t expired_before) {
  if (capacity_ == 0) return;
  const Digest digest = DigestOf(token);
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_ && !entries_.contains(digest)) {
    std::erase_if(entries_, [&](const auto& entry) { return entry.second.exp < expired_before; });
    // Still full of live tokens (more distinct clients than capacity): start over rather than
    // track recency on every hit.
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_.insert_or_assign(digest, claims);
}

std::size_t VerifiedTokenCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace ts::auth
