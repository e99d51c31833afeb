#include "origin/playback_signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace onair::origin {

namespace {

std::optional<std::string_view> field(std::string_view token, std::string_view name) {
    while (!token.empty()) {
        auto end = token.find('~');
        std::string_view item = token.substr(0, end);
        token = end == std::string_view::npos ? std::string_view() : token.substr(end + 1);
        if (item.size() > name.size() && item.starts_with(name) && item[name.size()] == '=')
            return item.substr(name.size() + 1);
    }
    return std::nullopt;
}

// One or several paths, '!' between them ("/live/demo/*!/vod/*").
bool opens(std::string_view acl, std::string_view path) {
    while (true) {
        const auto bang = acl.find('!');
        const std::string_view one = acl.substr(0, bang);
        if (one.ends_with('*') ? path.starts_with(one.substr(0, one.size() - 1)) : path == one)
            return true;
        if (bang == std::string_view::npos) return false;
        acl = acl.substr(bang + 1);
    }
}

}  // namespace

std::string PlaybackSigner::mac(std::string_view text) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret_.data(), int(secret_.size()),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &length);
    std::string hex;
    hex.reserve(2 * length);
    for (unsigned i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

std::string PlaybackSigner::sign(std::string_view acl, int64_t expires_s) const {
    const std::string signed_part = fmt::format("exp={}~acl={}", expires_s, acl);
    return signed_part + "~hmac=" + mac(signed_part);
}

PlaybackSigner::Check PlaybackSigner::check(const std::optional<std::string>& token,
                                            std::string_view path, int64_t now_s) const {
    if (!token || token->empty())
        return {Verdict::missing, fmt::format("this channel's playback needs a signed URL "
                                              "(?{}=exp=...~acl=...~hmac=...)",
                                              kTokenParameter)};
    const auto exp = field(*token, "exp");
    const auto acl = field(*token, "acl");
    const auto hmac = field(*token, "hmac");
    int64_t expires = 0;
    if (!exp || !acl || !hmac ||
        std::from_chars(exp->data(), exp->data() + exp->size(), expires).ec != std::errc() ||
        // exp and acl first, hmac last: what was signed is everything before "~hmac=".
        !token->starts_with(fmt::format("exp={}~acl={}~hmac=", *exp, *acl)))
        return {Verdict::malformed, "the token is not exp=SECONDS~acl=PATH~hmac=HEX"};
    const std::string expected = mac(fmt::format("exp={}~acl={}", *exp, *acl));
    if (hmac->size() != expected.size() ||
        CRYPTO_memcmp(hmac->data(), expected.data(), expected.size()) != 0)
        return {Verdict::forged, "the token's signature does not match"};
    if (expires <= now_s)
        return {Verdict::expired, fmt::format("the token expired {} s ago", now_s - expires)};
    if (!opens(*acl, path))
        return {Verdict::outside, fmt::format("the token opens {}, not {}", *acl, path)};
    return {};
}

std::string with_query_on_uris(std::string_view playlist, std::string_view query) {
    auto joined = [&](std::string_view uri) {
        return fmt::format("{}{}{}", uri, uri.find('?') == std::string_view::npos ? '?' : '&',
                           query);
    };
    std::string out;
    out.reserve(playlist.size() + playlist.size() / 8);
    while (!playlist.empty()) {
        auto end = playlist.find('\n');
        std::string_view line = playlist.substr(0, end);
        playlist = end == std::string_view::npos ? std::string_view() : playlist.substr(end + 1);
        const bool newline = end != std::string_view::npos;
        if (!line.empty() && line[0] != '#') {
            out += joined(line);
        } else {
            // Every URI="..." attribute of a tag.
            constexpr std::string_view kUri = "URI=\"";
            std::size_t at = 0;
            for (auto found = line.find(kUri); found != std::string_view::npos;
                 found = line.find(kUri, at)) {
                const auto value = found + kUri.size();
                const auto close = line.find('"', value);
                if (close == std::string_view::npos) break;
                out += line.substr(at, value - at);
                out += joined(line.substr(value, close - value));
                at = close;
            }
            out += line.substr(at);
        }
        if (newline) out += '\n';
    }
    return out;
}

}  // namespace onair::origin
