// Test-only helpers for src/auth tests: generates RSA/EC/Ed25519 key pairs at runtime (no key
// files in the repository), signs arbitrary claims with libjwt, and builds hand-made tokens
// (any header, any signature) for the cases libjwt refuses to produce.
// Functions are stateless and thread-safe; failures abort the test via ADD_FAILURE + empty result.
#pragma once

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace ts::auth::testing {

struct KeyPair {
  std::string private_pem;  // PKCS#8 "BEGIN PRIVATE KEY", what libjwt signs with
  std::string public_pem;   // SubjectPublicKeyInfo "BEGIN PUBLIC KEY", what verifiers get
};

inline std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(length));
}

inline KeyPair PemsOf(EVP_PKEY* key) {
  KeyPair pair;
  if (key == nullptr) {
    ADD_FAILURE() << "key generation failed";
    return pair;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), &BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_PUBKEY(pub.get(), key) != 1) {
    ADD_FAILURE() << "PEM encoding failed";
  }
  pair.private_pem = BioToString(priv.get());
  pair.public_pem = BioToString(pub.get());
  EVP_PKEY_free(key);
  return pair;
}

inline KeyPair GenerateRsaKey(unsigned int bits = 2048) {
  return PemsOf(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
}

inline KeyPair GenerateEcKey(const char* curve = "P-256") {
  return PemsOf(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

inline KeyPair GenerateEd25519Key() {
  return PemsOf(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

// Signs `claims_json` (a JSON object of any claims, any types) with libjwt.
inline std::string SignWithLibjwt(jwt_alg_t alg, std::string_view key,
                                  std::string_view claims_json) {
  jwt_t* jwt = nullptr;
  if (jwt_new(&jwt) != 0) {
    ADD_FAILURE() << "jwt_new failed";
    return "";
  }
  std::unique_ptr<jwt_t, decltype(&jwt_free)> owner(jwt, &jwt_free);
  if (jwt_add_grants_json(jwt, std::string(claims_json).c_str()) != 0) {
    ADD_FAILURE() << "jwt_add_grants_json failed for " << claims_json;
    return "";
  }
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.data());
  if (jwt_set_alg(jwt, alg, alg == JWT_ALG_NONE ? nullptr : key_bytes,
                  alg == JWT_ALG_NONE ? 0 : static_cast<int>(key.size())) != 0) {
    ADD_FAILURE() << "jwt_set_alg failed";
    return "";
  }
  char* encoded = jwt_encode_str(jwt);
  if (encoded == nullptr) {
    ADD_FAILURE() << "jwt_encode_str failed";
    return "";
  }
  std::string token(encoded);
  std::free(encoded);
  return token;
}

inline std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// A token with exactly the given header and payload JSON, HMAC-SHA256-signed with `secret`
// regardless of what the header claims.
inline std::string HandMadeHs256Token(std::string_view header_json, std::string_view payload_json,
                                      std::string_view secret) {
  const std::string signing_input = Base64Url(header_json) + "." + Base64Url(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_length);
  return signing_input + "." +
         Base64Url(std::string_view(reinterpret_cast<const char*>(mac), mac_length));
}

}  // namespace ts::auth::testing
