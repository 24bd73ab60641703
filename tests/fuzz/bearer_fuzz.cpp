// Fuzzes bearer-token verification (ts::auth::TokenVerifier::Verify).
//
// Input: one selector byte, then the payload. selector % 4 picks the mode:
//   0  the payload is the whole Authorization header value
//   1  the payload is a claims JSON; the harness builds {"alg":"HS256","typ":"JWT"}.<claims>
//      and signs it, so claim checking is reached beyond the signature
//   2  the payload is "<header JSON>\n<claims JSON>", signed the same way (alg header checks)
//   3  the payload is the token; the header is "Bearer <payload>"
// (selector / 4) % 3 picks the verifier: HS256; HS256 with issuer and audience; RS256, for which
// modes 1 and 2 sign with HMAC keyed by the RSA public key's PEM (the algorithm-confusion attack,
// which must never pass). Seeds start with an ASCII digit: '0'..'3' plain HS256, '4'..'7' with
// issuer/audience, '8', '9', ':', ';' RS256.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/token_verifier.h"
#include "fuzz_support.h"

namespace {

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kSkew = 60;
// A fixed test secret (not a real one): 40 bytes.
constexpr std::string_view kSecret = "fuzz-only-hs256-secret-0123456789abcdef!";
constexpr std::string_view kIssuer = "https://issuer.example";
constexpr std::string_view kAudience = "token-service";

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string Sign(std::string_view header_json, std::string_view claims_json, std::string_view key) {
  const std::string signing_input = Base64Url(header_json) + "." + Base64Url(claims_json);
  return signing_input + "." + Base64Url(HmacSha256(key, signing_input));
}

std::string GenerateRsaPublicPem() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
  FUZZ_CHECK(key != nullptr, "RSA key generation");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  FUZZ_CHECK(PEM_write_bio_PUBKEY(bio.get(), key) == 1, "PEM encoding");
  EVP_PKEY_free(key);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

struct Verifiers {
  std::string rsa_pem = GenerateRsaPublicPem();
  ts::auth::TokenVerifier hs256 = Make(ts::auth::Algorithm::kHS256, std::string(kSecret));
  ts::auth::TokenVerifier hs256_iss_aud =
      Make(ts::auth::Algorithm::kHS256, std::string(kSecret), true);
  ts::auth::TokenVerifier rs256 = Make(ts::auth::Algorithm::kRS256, rsa_pem);

  static ts::auth::TokenVerifier Make(ts::auth::Algorithm algorithm, std::string key,
                                      bool iss_aud = false) {
    ts::auth::VerifierOptions options;
    options.algorithm = algorithm;
    options.key = std::move(key);
    if (iss_aud) {
      options.issuer = std::string(kIssuer);
      options.audience = std::string(kAudience);
    }
    options.clock_skew = std::chrono::seconds{kSkew};
    auto verifier = ts::auth::TokenVerifier::Create(std::move(options));
    FUZZ_CHECK(verifier.ok(), "verifier set-up");
    return std::move(verifier).value();
  }
};

const Verifiers& GetVerifiers() {
  static const Verifiers verifiers;
  return verifiers;
}

std::vector<std::string> SplitScopes(std::string_view scope) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= scope.size()) {
    std::size_t space = scope.find(' ', start);
    if (space == std::string_view::npos) space = scope.size();
    if (space > start) out.emplace_back(scope.substr(start, space - start));
    start = space + 1;
  }
  return out;
}

// After a successful Verify of a token we signed: the claims, as we read them, must allow it.
void CheckAcceptedClaims(std::string_view header_json, std::string_view claims_json, bool iss_aud,
                         const ts::auth::Principal& principal) {
  boost::system::error_code ec;
  const boost::json::value header = boost::json::parse(header_json, ec);
  if (!ec && header.is_object()) {
    const auto* alg = header.as_object().if_contains("alg");
    FUZZ_CHECK(alg != nullptr && alg->is_string() && alg->as_string() == "HS256",
               "accepted a header whose alg is not exactly HS256");
  }
  const boost::json::value claims = boost::json::parse(claims_json, ec);
  if (ec || !claims.is_object()) return;  // libjwt's parser may differ at the edges
  const boost::json::object& object = claims.as_object();
  const auto* exp = object.if_contains("exp");
  FUZZ_CHECK(exp != nullptr && exp->is_int64(), "accepted a token without an integer exp");
  FUZZ_CHECK(exp->as_int64() >= kNow - kSkew, "accepted an expired token");
  if (const auto* nbf = object.if_contains("nbf")) {
    FUZZ_CHECK(nbf->is_int64() && nbf->as_int64() <= kNow + kSkew, "accepted a future nbf");
  }
  const auto* tenant = object.if_contains("tenant");
  FUZZ_CHECK(tenant != nullptr && tenant->is_string() && !tenant->as_string().empty() &&
                 principal.tenant == std::string_view(tenant->as_string()),
             "the principal's tenant is the tenant claim");
  if (const auto* scope = object.if_contains("scope")) {
    FUZZ_CHECK(scope->is_string() && principal.scopes == SplitScopes(scope->as_string()),
               "the principal's scopes are the scope claim");
  } else {
    FUZZ_CHECK(principal.scopes.empty(), "no scope claim, no scopes");
  }
  if (iss_aud) {
    const auto* iss = object.if_contains("iss");
    FUZZ_CHECK(iss != nullptr && iss->is_string() && iss->as_string() == kIssuer,
               "accepted a wrong issuer");
    const auto* aud = object.if_contains("aud");
    FUZZ_CHECK(aud != nullptr, "accepted a token without aud");
    bool found = aud->is_string() && aud->as_string() == kAudience;
    if (aud->is_array()) {
      for (const auto& entry : aud->as_array()) {
        found = found || (entry.is_string() && entry.as_string() == kAudience);
      }
    }
    FUZZ_CHECK(found, "accepted a wrong audience");
  }
}

// A raw token can only pass if it carries a genuine signature under our secret.
void CheckGenuineSignature(std::string_view authorization) {
  while (!authorization.empty() && (authorization.back() == ' ' || authorization.back() == '\t')) {
    authorization.remove_suffix(1);
  }
  const std::size_t start = authorization.find_last_of(" \t");
  const std::string_view token =
      start == std::string_view::npos ? authorization : authorization.substr(start + 1);
  const std::size_t last_dot = token.rfind('.');
  FUZZ_CHECK(last_dot != std::string_view::npos, "accepted a token without segments");
  const std::string expected = Base64Url(HmacSha256(kSecret, token.substr(0, last_dot)));
  FUZZ_CHECK(token.substr(last_dot + 1) == expected, "accepted a token with a forged signature");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Verifiers& verifiers = GetVerifiers();
  const unsigned selector = data[0];
  const unsigned mode = selector % 4;
  const unsigned which = (selector / 4) % 3;
  const std::string_view payload = ts::fuzz::AsText(data + 1, size - 1);
  const ts::auth::TokenVerifier& verifier = which == 0   ? verifiers.hs256
                                            : which == 1 ? verifiers.hs256_iss_aud
                                                         : verifiers.rs256;
  const std::string_view signing_key = which == 2 ? std::string_view(verifiers.rsa_pem) : kSecret;

  std::string header_json = R"({"alg":"HS256","typ":"JWT"})";
  std::string claims_json;
  std::string authorization;
  switch (mode) {
    case 0:
      authorization = payload;
      break;
    case 1:
      claims_json = payload;
      authorization = "Bearer " + Sign(header_json, claims_json, signing_key);
      break;
    case 2: {
      const std::size_t newline = payload.find('\n');
      header_json = payload.substr(0, newline);
      claims_json = newline == std::string_view::npos ? "" : payload.substr(newline + 1);
      authorization = "Bearer " + Sign(header_json, claims_json, signing_key);
      break;
    }
    default:
      authorization = "Bearer " + std::string(payload);
      break;
  }

  auto principal = verifier.Verify(authorization, kNow);
  if (!principal) {
    const ts::Error& error = principal.error();
    FUZZ_CHECK(
        error.code == ts::ErrorCode::kUnauthenticated || error.code == ts::ErrorCode::kTokenExpired,
        "a refused token is a 401");
    FUZZ_CHECK(
        error.message == (error.code == ts::ErrorCode::kTokenExpired ? "Access Token expired"
                                                                     : "Invalid access token"),
        "the 401 text is fixed");
    FUZZ_CHECK(error.details.empty(), "a 401 has no details");
    FUZZ_CHECK(error.internal.size() <= ts::fuzz::kMaxPublicMessageBytes, "bounded log text");
    FUZZ_CHECK(error.internal.find(kSecret) == std::string::npos, "the log text shows the key");
    // The token itself (space-free, 16+ bytes: no fixed log text contains such a run).
    const std::size_t space = authorization.find_last_of(' ');
    const std::string_view token = std::string_view(authorization).substr(space + 1);
    if (token.size() >= 16 && token.find_first_of(" \t") == std::string_view::npos) {
      FUZZ_CHECK(error.internal.find(token) == std::string::npos, "the log text shows the token");
    }
    return 0;
  }
  FUZZ_CHECK(which != 2, "RS256 accepted a token it did not sign (algorithm confusion)");
  FUZZ_CHECK(!principal->tenant.empty(), "a principal has a tenant");
  if (mode == 0 || mode == 3) {
    CheckGenuineSignature(authorization);
  } else {
    CheckAcceptedClaims(header_json, claims_json, which == 1, *principal);
  }
  return 0;
}
