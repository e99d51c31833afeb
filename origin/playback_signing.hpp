#pragma once
// Signed playback URLs: a channel's playlists and segments (and its clips)
// asked for with a token in the query, in the form Akamai's EdgeAuth
// (Token 2.0) uses, so a CDN in front can check the same token at its edge:
//     ?token=exp=EXPIRY~acl=PATH_PREFIX*~hmac=HEX
// EXPIRY: Unix seconds; acl: the path it opens ("/live/demo/*": everything
// under it; without the '*', that one path; several with '!' between); HEX: HMAC-SHA256, in
// lower-case hex, of "exp=EXPIRY~acl=ACL" with the channel's secret as the key. Immutable once
// made; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onair::origin {

inline constexpr std::string_view kTokenParameter = "token";

class PlaybackSigner {
  public:
    explicit PlaybackSigner(std::string secret) : secret_(std::move(secret)) {}

    // The token's value (what goes after "token=").
    std::string sign(std::string_view acl, int64_t expires_s) const;

    enum class Verdict { ok, missing, malformed, expired, outside, forged };
    struct Check {
        Verdict verdict = Verdict::ok;
        std::string reason;  // for the 403's JSON; empty when ok
    };
    // Whether `token` (nullopt: none given) opens `path` (raw, without the
    // query) at `now_s`.
    Check check(const std::optional<std::string>& token, std::string_view path,
                int64_t now_s) const;

  private:
    std::string mac(std::string_view text) const;
    std::string secret_;
};

// `playlist` with `query` ("token=...") added to every URI it names: URI
// lines and URI="..." attributes (maps, parts, hints, reports, renditions),
// after a '&' where the URI has a query already.
std::string with_query_on_uris(std::string_view playlist, std::string_view query);

}  // namespace onair::origin
