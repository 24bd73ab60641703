#include "auth/token_verifier.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <string>

#include "auth/verified_token_cache.h"

namespace ts::auth {
namespace {

constexpr std::string_view kInvalidTokenMessage = "Invalid access token";
constexpr std::string_view kExpiredTokenMessage = "Access Token expired";
// Keys reach libjwt and OpenSSL as `int` lengths; a real PEM key is a few KiB.
constexpr std::size_t kMaxKeyBytes = 64 * 1024;

static_assert(sizeof(long) >= sizeof(std::int64_t), "jwt_add_grant_int takes a long");

Error Unauthenticated(std::string internal) {
  return Error{ErrorCode::kUnauthenticated,
               std::string(kInvalidTokenMessage),
               {},
               "auth: " + std::move(internal),
               {}};
}

Error Expired() {
  return Error{
      ErrorCode::kTokenExpired, std::string(kExpiredTokenMessage), {}, "auth: token expired", {}};
}

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct MallocDeleter {
  void operator()(char* p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, MallocDeleter>;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

jwt_alg_t ToLibjwt(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHS256:
      return JWT_ALG_HS256;
    case Algorithm::kRS256:
      return JWT_ALG_RS256;
    case Algorithm::kES256:
      return JWT_ALG_ES256;
  }
  return JWT_ALG_INVAL;
}

const unsigned char* KeyBytes(std::string_view key) {
  return reinterpret_cast<const unsigned char*>(key.data());
}

// Times come from the token, so arithmetic on them must not overflow.
std::int64_t SaturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

struct PublicKeyInfo {
  Algorithm algorithm;
  int bits;
};

// Reads the key the same way libjwt 1.10 does when verifying (PEM_read_bio_PUBKEY), so a key
// accepted here is one libjwt can use.
Result<PublicKeyInfo> InspectPublicKey(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxKeyBytes) {
    return Error::Invalid("public key is empty or too large");
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error::Internal("auth: BIO_new_mem_buf failed");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    // OpenSSL's error queue is per thread; leaving our parse failure in it would confuse the
    // next OpenSSL user on this thread.
    ERR_clear_error();
    return Error::Invalid("not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\")");
  }
  const int bits = EVP_PKEY_get_bits(key.get());
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
      return PublicKeyInfo{Algorithm::kRS256, bits};
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t group_len = 0;
      if (EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &group_len) != 1) {
        ERR_clear_error();
        return Error::Invalid("EC public key without a named curve");
      }
      const std::string_view name(group, group_len);
      if (name == "prime256v1" || name == "P-256" || name == "secp256r1") {
        return PublicKeyInfo{Algorithm::kES256, bits};
      }
      return Error::Invalid("EC public key is not on curve P-256");
    }
    default:
      return Error::Invalid("public key is neither RSA nor EC");
  }
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

bool AsciiIEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Result<std::string_view> ExtractBearerToken(std::optional<std::string_view> authorization) {
  if (!authorization) return Unauthenticated("no Authorization header");
  std::string_view value = *authorization;
  // The HTTP layer should already have stripped optional whitespace; tolerate it anyway.
  while (!value.empty() && IsOws(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsOws(value.back())) value.remove_suffix(1);

  const std::size_t space = value.find(' ');
  if (!AsciiIEquals(value.substr(0, space), "bearer")) {
    return Unauthenticated("Authorization scheme is not Bearer");
  }
  if (space == std::string_view::npos) return Unauthenticated("empty bearer token");
  std::string_view token = value.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.empty()) return Unauthenticated("empty bearer token");
  if (token.size() > kMaxTokenBytes) return Unauthenticated("bearer token too long");
  return token;
}

// libjwt's own parser is lenient (it accepts padding and standard base64, and an empty
// signature); checking the compact form first keeps odd inputs away from it.
Result<void> CheckCompactJws(std::string_view token) {
  int dots = 0;
  std::size_t segment_length = 0;
  for (const char c : token) {
    if (c == '.') {
      if (segment_length == 0) return Unauthenticated("empty JWT segment");
      ++dots;
      segment_length = 0;
    } else if (IsBase64UrlChar(c)) {
      ++segment_length;
    } else {
      return Unauthenticated("JWT contains a character outside base64url");
    }
  }
  if (dots != 2) return Unauthenticated("JWT does not have three segments");
  if (segment_length == 0) return Unauthenticated("JWT has an empty signature");
  return Ok();
}

// jwt_get_grant_int cannot be used: libjwt 1.10 returns 0 with errno 0 for a claim that is a
// string, a float or a boolean, which would turn `"exp": "soon"` into "expired in 1970" and
// `"nbf": "later"` into "valid". Reading the claims as JSON lets every type be checked.
Result<std::optional<std::int64_t>> IntegerClaim(const boost::json::object& claims,
                                                 std::string_view name) {
  const boost::json::value* value = claims.if_contains(name);
  if (value == nullptr) return std::optional<std::int64_t>();
  if (const std::int64_t* number = value->if_int64()) return std::optional<std::int64_t>(*number);
  return Unauthenticated("claim `" + std::string(name) + "` is not an integer");
}

Result<std::optional<std::string>> StringClaim(const boost::json::object& claims,
                                               std::string_view name) {
  const boost::json::value* value = claims.if_contains(name);
  if (value == nullptr) return std::optional<std::string>();
  if (const boost::json::string* text = value->if_string()) {
    return std::optional<std::string>(std::string(text->data(), text->size()));
  }
  return Unauthenticated("claim `" + std::string(name) + "` is not a string");
}

Result<void> CheckAudience(const boost::json::object& claims, const std::string& audience) {
  const boost::json::value* aud = claims.if_contains("aud");
  if (aud == nullptr) return Unauthenticated("claim `aud` is missing");
  if (const boost::json::string* single = aud->if_string()) {
    if (*single == audience) return Ok();
    return Unauthenticated("claim `aud` does not match");
  }
  if (const boost::json::array* list = aud->if_array()) {
    bool found = false;
    for (const boost::json::value& entry : *list) {
      const boost::json::string* text = entry.if_string();
      if (text == nullptr) return Unauthenticated("claim `aud` has a non-string entry");
      found = found || *text == audience;
    }
    if (found) return Ok();
    return Unauthenticated("claim `aud` does not contain the audience");
  }
  return Unauthenticated("claim `aud` is neither a string nor an array");
}

std::vector<std::string> SplitScopes(std::string_view scope) {
  std::vector<std::string> scopes;
  while (!scope.empty()) {
    const std::size_t space = scope.find(' ');
    const std::string_view item = scope.substr(0, space);
    if (!item.empty()) scopes.emplace_back(item);
    if (space == std::string_view::npos) break;
    scope.remove_prefix(space + 1);
  }
  return scopes;
}

// Everything about a syntactically valid token that does not depend on the clock: signature,
// algorithm, claim types, tenant, issuer, audience.
Result<VerifiedClaims> VerifySignatureAndClaims(const VerifierOptions& options,
                                                std::string_view token) {

  // libjwt 1.10 skips signature verification entirely when the key is NULL or empty. Create
  // rejects empty keys, but a moved-from verifier has one, so check on every call.
  if (options.key.empty() || options.key.size() > kMaxKeyBytes) {
    return Unauthenticated("verifier has no usable key");
  }

  const std::string token_text(token);  // jwt_decode wants a NUL-terminated string
  jwt_t* raw_jwt = nullptr;
  const int rc = jwt_decode(&raw_jwt, token_text.c_str(), KeyBytes(options.key),
                            static_cast<int>(options.key.size()));
  JwtPtr jwt(raw_jwt);
  if (rc != 0 || !jwt) {
    ERR_clear_error();  // a failed RSA/EC verification leaves entries in this thread's queue
    return Unauthenticated("jwt_decode failed (malformed token or bad signature), errno " +
                           std::to_string(rc));
  }

  // libjwt 1.10 picks the verification algorithm from the token's own `alg` header, so an
  // HS256 token "signed" with our RSA public key's PEM text as the HMAC secret passes
  // jwt_decode. Only the configured algorithm may be accepted.
  const jwt_alg_t expected = ToLibjwt(options.algorithm);
  const jwt_alg_t actual = jwt_get_alg(jwt.get());
  if (actual != expected) {
    const char* actual_name = jwt_alg_str(actual);  // libjwt's static name, never token text
    return Unauthenticated(
        std::string("token algorithm ") + (actual_name != nullptr ? actual_name : "unknown") +
        " does not match configured algorithm " + std::string(AlgorithmName(options.algorithm)));
  }
  // jwt_str_alg compares case-insensitively; RFC 7515 names are case-sensitive.
  const char* alg_header = jwt_get_header(jwt.get(), "alg");
  if (alg_header == nullptr || AlgorithmName(options.algorithm) != alg_header) {
    return Unauthenticated("token algorithm header is not spelled exactly as configured");
  }

  // Reparsing libjwt's (jansson's) own serialization means both parsers agree on the claims,
  // duplicate keys included.
  const MallocString claims_json(jwt_get_grants_json(jwt.get(), nullptr));
  if (!claims_json) return Unauthenticated("token has no claims");
  boost::json::error_code ec;
  const boost::json::value parsed = boost::json::parse(claims_json.get(), ec);
  const boost::json::object* claims = ec ? nullptr : parsed.if_object();
  if (claims == nullptr) return Unauthenticated("claims are not a JSON object");

  Result<std::optional<std::int64_t>> exp = IntegerClaim(*claims, "exp");
  if (!exp) return exp.error();
  // A token without `exp` would be valid forever; a leaked one could never be retired.
  if (!exp->has_value()) return Unauthenticated("claim `exp` is missing");
  Result<std::optional<std::int64_t>> nbf = IntegerClaim(*claims, "nbf");
  if (!nbf) return nbf.error();

  Result<std::optional<std::string>> tenant = StringClaim(*claims, "tenant");
  if (!tenant) return tenant.error();
  if (!tenant->has_value() || (*tenant)->empty()) {
    return Unauthenticated("claim `tenant` is missing or empty");
  }
  Result<std::optional<std::string>> scope = StringClaim(*claims, "scope");
  if (!scope) return scope.error();
  Result<std::optional<std::string>> subject = StringClaim(*claims, "sub");
  if (!subject) return subject.error();

  if (options.issuer) {
    Result<std::optional<std::string>> issuer = StringClaim(*claims, "iss");
    if (!issuer) return issuer.error();
    if (!issuer->has_value()) return Unauthenticated("claim `iss` is missing");
    if (**issuer != *options.issuer) return Unauthenticated("claim `iss` does not match");
  }
  if (options.audience) {
    if (Result<void> audience = CheckAudience(*claims, *options.audience); !audience) {
      return audience.error();
    }
  }

  VerifiedClaims verified;
  verified.exp = **exp;
  verified.nbf = *nbf;
  verified.principal.tenant = std::move(**tenant);
  if (scope->has_value()) verified.principal.scopes = SplitScopes(**scope);
  if (subject->has_value()) verified.principal.subject = std::move(**subject);
  return verified;
}

Result<Principal> CheckTime(const VerifierOptions& options, const VerifiedClaims& verified,
                            std::int64_t now) {
  const std::int64_t skew = options.clock_skew.count();
  if (verified.nbf && *verified.nbf > SaturatingAdd(now, skew)) {
    return Unauthenticated("token not valid yet (nbf)");
  }
  // Last on purpose: "expired" tells the client to fetch a fresh token, which only helps if
  // nothing else is wrong with this one.
  if (SaturatingAdd(verified.exp, skew) < now) return Expired();
  return verified.principal;
}

Result<Principal> VerifyToken(const VerifierOptions& options, VerifiedTokenCache* cache,
                              std::optional<std::string_view> authorization, std::int64_t now) {
  Result<std::string_view> token = ExtractBearerToken(authorization);
  if (!token) return token.error();
  if (Result<void> syntax = CheckCompactJws(*token); !syntax) return syntax.error();
  if (cache != nullptr) {
    if (std::optional<VerifiedClaims> hit = cache->Find(*token)) {
      return CheckTime(options, *hit, now);
    }
  }
  Result<VerifiedClaims> verified = VerifySignatureAndClaims(options, *token);
  if (!verified) return verified.error();
  if (cache != nullptr) {
    cache->Insert(*token, *verified, SaturatingAdd(now, -options.clock_skew.count()));
  }
  return CheckTime(options, *verified, now);
}

}  // namespace

bool Principal::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "unknown";
}

Result<Algorithm> ParseAlgorithm(std::string_view name) {
  for (const Algorithm algorithm : {Algorithm::kHS256, Algorithm::kRS256, Algorithm::kES256}) {
    if (name == AlgorithmName(algorithm)) return algorithm;
  }
  return Error::Invalid("unsupported token algorithm (expected HS256, RS256 or ES256)");
}

TokenVerifier::TokenVerifier(VerifierOptions options) : options_(std::move(options)) {
  if (options_.cache_entries > 0) {
    cache_ = std::make_shared<VerifiedTokenCache>(options_.cache_entries);
  }
}

Result<TokenVerifier> TokenVerifier::Create(VerifierOptions options) {
  try {
    const std::string_view alg_name = AlgorithmName(options.algorithm);
    if (options.key.empty()) {
      // libjwt would silently skip signature verification with an empty key.
      return Error::Invalid("the token verification key is empty");
    }
    if (options.key.size() > kMaxKeyBytes) {
      return Error::Invalid("the token verification key is too large");
    }
    if (options.algorithm == Algorithm::kHS256) {
      if (options.key.size() < kMinHs256SecretBytes) {
        return Error::Invalid("the HS256 secret must be at least " +
                              std::to_string(kMinHs256SecretBytes) + " bytes");
      }
    } else {
      Result<PublicKeyInfo> info = InspectPublicKey(options.key);
      if (!info) {
        if (info.error().code != ErrorCode::kInvalidArgument) return info.error();
        return Error::Invalid("the " + std::string(alg_name) +
                              " key is unusable: " + info.error().message);
      }
      if (info->algorithm != options.algorithm) {
        return Error::Invalid("the " + std::string(alg_name) + " key is a " +
                              std::string(AlgorithmName(info->algorithm)) + " key");
      }
      if (info->algorithm == Algorithm::kRS256 && info->bits < kMinRsaKeyBits) {
        return Error::Invalid("the RS256 key must have at least " + std::to_string(kMinRsaKeyBits) +
                              " bits");
      }
    }
    if (options.clock_skew.count() < 0 || options.clock_skew > kMaxClockSkew) {
      return Error::Invalid("the token clock skew must be between 0 and " +
                            std::to_string(kMaxClockSkew.count()) + " seconds");
    }
    if (options.issuer && options.issuer->empty()) {
      return Error::Invalid("the token issuer, when set, must not be empty");
    }
    if (options.audience && options.audience->empty()) {
      return Error::Invalid("the token audience, when set, must not be empty");
    }
    return TokenVerifier(std::move(options));
  } catch (const std::exception&) {
    return Error::Internal("auth: exception while creating the token verifier");
  }
}

Result<Principal> TokenVerifier::Verify(std::optional<std::string_view> authorization,
                                        std::int64_t now_epoch_seconds) const {
  try {
    return VerifyToken(options_, cache_.get(), authorization, now_epoch_seconds);
  } catch (const std::exception&) {
    return Error::Internal("auth: exception while verifying a token");
  }
}

Result<std::string> MintHs256Token(std::string_view secret, std::string_view tenant,
                                   std::string_view scope, std::string_view subject,
                                   std::int64_t issued_at, std::int64_t ttl_seconds,
                                   const std::optional<std::string>& issuer,
                                   const std::optional<std::string>& audience) {
  try {
    if (secret.size() < kMinHs256SecretBytes || secret.size() > kMaxKeyBytes) {
      return Error::Invalid("the HS256 secret must be at least " +
                            std::to_string(kMinHs256SecretBytes) + " bytes");
    }
    if (tenant.empty()) return Error::Invalid("the tenant must not be empty");
    if (ttl_seconds <= 0) return Error::Invalid("the token lifetime must be positive");
    std::int64_t expires_at = 0;
    if (__builtin_add_overflow(issued_at, ttl_seconds, &expires_at)) {
      return Error::Invalid("the token expiry overflows");
    }
    // libjwt takes C strings; an embedded NUL would silently truncate a claim.
    auto has_nul = [](std::string_view text) { return text.find('\0') != std::string_view::npos; };
    if (has_nul(tenant) || has_nul(scope) || has_nul(subject) || (issuer && has_nul(*issuer)) ||
        (audience && has_nul(*audience))) {
      return Error::Invalid("token claims must not contain NUL characters");
    }

    jwt_t* raw_jwt = nullptr;
    if (jwt_new(&raw_jwt) != 0) return Error::Internal("auth: jwt_new failed");
    JwtPtr jwt(raw_jwt);
    int rc =
        jwt_set_alg(jwt.get(), JWT_ALG_HS256, KeyBytes(secret), static_cast<int>(secret.size()));
    rc = rc != 0 ? rc : jwt_add_grant(jwt.get(), "tenant", std::string(tenant).c_str());
    if (rc == 0 && !scope.empty())
      rc = jwt_add_grant(jwt.get(), "scope", std::string(scope).c_str());
    if (rc == 0 && !subject.empty()) {
      rc = jwt_add_grant(jwt.get(), "sub", std::string(subject).c_str());
    }
    if (rc == 0 && issuer) rc = jwt_add_grant(jwt.get(), "iss", issuer->c_str());
    if (rc == 0 && audience) rc = jwt_add_grant(jwt.get(), "aud", audience->c_str());
    rc = rc != 0 ? rc : jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(issued_at));
    rc = rc != 0 ? rc : jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(expires_at));
    if (rc != 0)
      return Error::Internal("auth: building the token failed, errno " + std::to_string(rc));
    const MallocString encoded(jwt_encode_str(jwt.get()));
    if (!encoded) return Error::Internal("auth: jwt_encode_str failed");
    return std::string(encoded.get());
  } catch (const std::exception&) {
    return Error::Internal("auth: exception while minting a token");
  }
}

Result<Algorithm> AlgorithmForPublicKey(std::string_view pem) {
  try {
    Result<PublicKeyInfo> info = InspectPublicKey(pem);
    if (!info) return info.error();
    return info->algorithm;
  } catch (const std::exception&) {
    return Error::Internal("auth: exception while reading a public key");
  }
}

}  // namespace ts::auth
