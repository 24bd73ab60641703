#include "crypto/value_barrier.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>

#include "crypto/key_ring.h"
#include "crypto/sodium_runtime.h"

namespace ts::crypto {
namespace {

constexpr std::array<unsigned char, 4> kMagic = {'t', 's', 'v', '1'};
constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kDataKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;

constexpr std::size_t kKeyIdOffset = kMagic.size();
constexpr std::size_t kWrapNonceOffset = kKeyIdOffset + 4;
constexpr std::size_t kWrappedKeyOffset = kWrapNonceOffset + kNonceBytes;
constexpr std::size_t kWrappedKeyBytes = kDataKeyBytes + kTagBytes;
constexpr std::size_t kValueNonceOffset = kWrappedKeyOffset + kWrappedKeyBytes;
constexpr std::size_t kValueOffset = kValueNonceOffset + kNonceBytes;
constexpr std::size_t kOverheadBytes = kValueOffset + kTagBytes;

// The layout documented in value_barrier.h is a storage format: changing it strands data.
static_assert(kKeyIdOffset == 4 && kWrapNonceOffset == 8 && kWrappedKeyOffset == 32 &&
              kValueNonceOffset == 80 && kValueOffset == 104 && kOverheadBytes == 120);
static_assert(kMasterKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

constexpr std::string_view kOpenFailed = "Stored value could not be decrypted";

Error OpenError(std::string internal) {
  return Error{ErrorCode::kInternal, std::string(kOpenFailed), {}, std::move(internal), {}};
}

void PutU32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

std::uint32_t GetU32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Length prefixes make the encoding injective: ("ab", "c") and ("a", "bc") bind differently.
std::string PlaceBinding(std::string_view tenant, std::string_view id) {
  std::string out;
  out.reserve(8 + tenant.size() + id.size());
  PutU32(out, static_cast<std::uint32_t>(tenant.size()));
  out.append(tenant);
  PutU32(out, static_cast<std::uint32_t>(id.size()));
  out.append(id);
  return out;
}

bool PlaceFits(std::string_view tenant, std::string_view id) {
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  return tenant.size() <= kMax && id.size() <= kMax;
}

// The wrap AD covers the header (magic and master key id), so a header edited to name another
// key fails authentication rather than being tried under that key.
std::string WrapAd(const std::uint8_t* header, const std::string& place) {
  std::string ad(reinterpret_cast<const char*>(header), kWrapNonceOffset);
  ad.append("dk");
  ad.append(place);
  return ad;
}

std::string ValueAd(const std::string& place) {
  std::string ad(reinterpret_cast<const char*>(kMagic.data()), kMagic.size());
  ad.append("val");
  ad.append(place);
  return ad;
}

const unsigned char* AdBytes(const std::string& ad) {
  return reinterpret_cast<const unsigned char*>(ad.data());
}

// A data key on the stack, wiped whichever way the scope is left.
class DataKey {
 public:
  DataKey() = default;
  ~DataKey() { sodium_memzero(bytes_.data(), bytes_.size()); }
  DataKey(const DataKey&) = delete;
  DataKey& operator=(const DataKey&) = delete;
  unsigned char* data() { return bytes_.data(); }

 private:
  std::array<unsigned char, kDataKeyBytes> bytes_{};
};

// Writes header, wrap nonce and wrapped data key into out[0, kValueNonceOffset).
void WrapInto(std::uint8_t* out, const MasterKey& master, DataKey& dk, const std::string& place) {
  std::copy(kMagic.begin(), kMagic.end(), out);
  const std::uint32_t key_id = master.id();
  out[kKeyIdOffset + 0] = static_cast<std::uint8_t>(key_id >> 24);
  out[kKeyIdOffset + 1] = static_cast<std::uint8_t>(key_id >> 16);
  out[kKeyIdOffset + 2] = static_cast<std::uint8_t>(key_id >> 8);
  out[kKeyIdOffset + 3] = static_cast<std::uint8_t>(key_id);
  randombytes_buf(out + kWrapNonceOffset, kNonceBytes);
  const std::string ad = WrapAd(out, place);
  crypto_aead_xchacha20poly1305_ietf_encrypt(out + kWrappedKeyOffset, nullptr, dk.data(),
                                             kDataKeyBytes, AdBytes(ad), ad.size(), nullptr,
                                             out + kWrapNonceOffset, master.bytes());
}

// Checks the header and unwraps the data key into `dk`.
Result<void> UnwrapDataKey(const KeyRing& ring, const std::vector<std::uint8_t>& sealed,
                           const std::string& place, DataKey& dk) {
  if (sealed.size() < kOverheadBytes) {
    return OpenError("sealed value is truncated: " + std::to_string(sealed.size()) +
                     " bytes, format tsv1 needs at least " + std::to_string(kOverheadBytes));
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), sealed.begin())) {
    return OpenError("sealed value has an unknown format (magic is not tsv1)");
  }
  const std::uint32_t key_id = GetU32(sealed.data() + kKeyIdOffset);
  const MasterKey* master = ring.Find(key_id);
  if (master == nullptr) {
    return OpenError("sealed value needs master key id " + std::to_string(key_id) +
                     ", which is not in the key ring");
  }
  const std::string ad = WrapAd(sealed.data(), place);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          dk.data(), nullptr, nullptr, sealed.data() + kWrappedKeyOffset, kWrappedKeyBytes,
          AdBytes(ad), ad.size(), sealed.data() + kWrapNonceOffset, master->bytes()) != 0) {
    return OpenError("wrapped data key failed authentication under master key id " +
                     std::to_string(key_id) +
                     " (altered, moved to another tenant or id, or a different key with that id)");
  }
  return Ok();
}

Result<SecretBytes> DecryptValue(const std::vector<std::uint8_t>& sealed, const std::string& place,
                                 DataKey& dk) {
  const std::size_t plain_size = sealed.size() - kOverheadBytes;
  SecretBytes plain = SecretBytes::OfSize(plain_size);
  // An empty SecretBytes has no buffer; libsodium still wants a valid output pointer.
  unsigned char empty_out = 0;
  unsigned char* out =
      plain_size == 0 ? &empty_out : reinterpret_cast<unsigned char*>(plain.mutable_data());
  const std::string ad = ValueAd(place);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out, nullptr, nullptr, sealed.data() + kValueOffset, sealed.size() - kValueOffset,
          AdBytes(ad), ad.size(), sealed.data() + kValueNonceOffset, dk.data()) != 0) {
    // libsodium leaves the output zeroed on failure; `plain` is freed (and wiped) here anyway.
    return OpenError("value ciphertext failed authentication (altered or moved)");
  }
  return plain;
}

}  // namespace

std::optional<std::uint32_t> SealedKeyId(const std::vector<std::uint8_t>& sealed) {
  if (sealed.size() < kOverheadBytes) return std::nullopt;
  if (!std::equal(kMagic.begin(), kMagic.end(), sealed.begin())) return std::nullopt;
  return GetU32(sealed.data() + kKeyIdOffset);
}

ValueBarrier::ValueBarrier(std::shared_ptr<const KeyRing> keys) : keys_(std::move(keys)) {}

std::shared_ptr<const KeyRing> ValueBarrier::Keys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

void ValueBarrier::SetMissingKeyHandler(MissingKeyHandler handler) {
  auto shared = handler ? std::make_shared<const MissingKeyHandler>(std::move(handler)) : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  on_missing_key_.swap(shared);
}

std::shared_ptr<const KeyRing> ValueBarrier::KeysFor(
    const std::vector<std::uint8_t>& sealed) const {
  std::shared_ptr<const KeyRing> ring;
  std::shared_ptr<const MissingKeyHandler> handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ring = keys_;
    handler = on_missing_key_;
  }
  const std::optional<std::uint32_t> needed = SealedKeyId(sealed);
  if (!ring || !handler || !needed || ring->Find(*needed) != nullptr) return ring;
  // The handler (a key file reload) runs without our lock: it calls ReplaceKeyRing, and other
  // threads must keep sealing and opening meanwhile. Holding `handler` keeps it alive even if it
  // is removed concurrently.
  (*handler)(*needed);
  return Keys();
}

void ValueBarrier::ReplaceKeyRing(std::shared_ptr<const KeyRing> keys) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_.swap(keys);
  // The old ring (now in `keys`) is released after the lock, outside the critical section.
}

std::uint32_t ValueBarrier::ActiveKeyId() const {
  const auto ring = Keys();
  return ring ? ring->active_id() : 0;
}

Result<std::vector<std::uint8_t>> ValueBarrier::Seal(std::string_view tenant, std::string_view id,
                                                     std::string_view plaintext) const {
  if (!internal::SodiumReady()) return Error::Internal("libsodium is not initialized");
  const auto ring = Keys();
  if (!ring) return Error::Internal("value barrier has no key ring");
  if (!PlaceFits(tenant, id)) return Error::Internal("tenant or id too long to seal");
  if (plaintext.size() > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX - kOverheadBytes) {
    return Error::Internal("value too long to seal");
  }
  const std::string place = PlaceBinding(tenant, id);

  std::vector<std::uint8_t> out(kOverheadBytes + plaintext.size());
  DataKey dk;
  // A fresh data key per value: a nonce collision could then only ever hurt one value, and a
  // rotation can re-wrap the 32-byte key without touching the value ciphertext.
  crypto_aead_xchacha20poly1305_ietf_keygen(dk.data());
  WrapInto(out.data(), ring->active(), dk, place);

  randombytes_buf(out.data() + kValueNonceOffset, kNonceBytes);
  const std::string ad = ValueAd(place);
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kValueOffset, nullptr, reinterpret_cast<const unsigned char*>(plaintext.data()),
      plaintext.size(), AdBytes(ad), ad.size(), nullptr, out.data() + kValueNonceOffset, dk.data());
  return out;
}

Result<SecretBytes> ValueBarrier::Open(std::string_view tenant, std::string_view id,
                                       const std::vector<std::uint8_t>& sealed) const {
  if (!internal::SodiumReady()) return OpenError("libsodium is not initialized");
  const auto ring = KeysFor(sealed);
  if (!ring) return OpenError("value barrier has no key ring");
  if (!PlaceFits(tenant, id)) return OpenError("tenant or id too long");
  const std::string place = PlaceBinding(tenant, id);

  DataKey dk;
  if (auto unwrapped = UnwrapDataKey(*ring, sealed, place, dk); !unwrapped) {
    return std::move(unwrapped).error();
  }
  return DecryptValue(sealed, place, dk);
}

Result<std::vector<std::uint8_t>> ValueBarrier::Rewrap(
    std::string_view tenant, std::string_view id, const std::vector<std::uint8_t>& sealed) const {
  if (!internal::SodiumReady()) return OpenError("libsodium is not initialized");
  const auto ring = KeysFor(sealed);
  if (!ring) return OpenError("value barrier has no key ring");
  if (!PlaceFits(tenant, id)) return OpenError("tenant or id too long");
  const std::string place = PlaceBinding(tenant, id);

  DataKey dk;
  if (auto unwrapped = UnwrapDataKey(*ring, sealed, place, dk); !unwrapped) {
    return std::move(unwrapped).error();
  }
  if (auto verified = DecryptValue(sealed, place, dk); !verified) {
    return std::move(verified).error();
  }
  std::vector<std::uint8_t> out(sealed);
  WrapInto(out.data(), ring->active(), dk, place);
  return out;
}

}  // namespace ts::crypto
