#include "origin/web_assets.hpp"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/container.hpp"

namespace onair::origin {

namespace fs = std::filesystem;
namespace http = boost::beast::http;

namespace {

struct MediaType {
    std::string_view extension;
    std::string_view type;
};
constexpr std::array kMediaTypes = {
    MediaType{".html", "text/html; charset=utf-8"},
    MediaType{".js", "text/javascript"},
    MediaType{".css", "text/css"},
    MediaType{".json", "application/json"},
    MediaType{".svg", "image/svg+xml"},
    MediaType{".png", "image/png"},
    MediaType{".ico", "image/x-icon"},
    MediaType{".txt", "text/plain; charset=utf-8"},
};

std::string_view media_type_of(const fs::path& file) {
    const auto extension = file.extension().string();
    for (const auto& m : kMediaTypes)
        if (m.extension == extension) return m.type;
    return "application/octet-stream";
}

// Only this origin: scripts, styles, pictures, the API; blob: for the
// MediaSource a player builds; inline styles for the charts' own.
constexpr std::string_view kPagePolicy =
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

core::Result<Prepared> prepare(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return core::fail(fmt::format("{}: {}", file.string(), ec.message()));
    if (size > WebAssets::kMaxFile)
        return core::fail(fmt::format("{}: {} bytes, more than a web asset may be ({})",
                                      file.string(), size, WebAssets::kMaxFile));
    std::ifstream in(file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (!in) return core::fail(fmt::format("{}: cannot be read", file.string()));
    std::string body = std::move(bytes).str();
    const auto type = media_type_of(file);
    Validators validators;
    validators.etag = fmt::format("\"{:016x}\"", core::content_hash(body));
    auto response = make_response(http::status::ok, type, "no-cache",
                                  SharedBuffer::from_string(std::move(body)));
    response.set("X-Content-Type-Options", "nosniff");
    if (type.starts_with("text/html")) {
        response.set("Content-Security-Policy", kPagePolicy);
        response.set("Referrer-Policy", "no-referrer");
    }
    response.set(http::field::etag, validators.etag);
    return PreparedResponse::make(response, std::move(validators));
}

}  // namespace

core::Result<WebAssets> WebAssets::load(const fs::path& root) {
    WebAssets assets;
    for (const auto& [folder, prefix] :
         {std::pair{root, std::string()}, std::pair{root / "lib", std::string("lib/")}}) {
        std::error_code ec;
        if (!fs::is_directory(folder, ec)) {
            if (prefix.empty()) return core::fail(fmt::format("{}: no such folder", root.string()));
            continue;
        }
        for (const auto& entry : fs::directory_iterator(folder, ec)) {
            if (!entry.is_regular_file()) continue;
            auto prepared = prepare(entry.path());
            if (!prepared) return std::unexpected(prepared.error());
            assets.files_[prefix + entry.path().filename().string()] = std::move(*prepared);
        }
        if (ec) return core::fail(fmt::format("{}: {}", folder.string(), ec.message()));
    }
    return assets;
}

Prepared WebAssets::find(std::string_view relative) const {
    auto it = files_.find(relative);
    return it == files_.end() ? nullptr : it->second;
}

void WebAssets::add_routes(Router& router, std::string index) const {
    auto serve = [this](std::string relative, const Call& call) -> Reply {
        auto file = find(relative);
        if (!file)
            return make_error(http::status::not_found, "not_found",
                              fmt::format("no page or asset '{}'", relative));
        return answer_conditional(call.request, file);
    };
    router.add(http::verb::get, "/",
               [serve, index = std::move(index)](const Call& call) { return serve(index, call); });
    router.add(http::verb::get, "/ui/lib/{file}", [serve](const Call& call) {
        return serve("lib/" + std::string(call.param(0)), call);
    });
    router.add(http::verb::get, "/ui/{file}",
               [serve](const Call& call) { return serve(std::string(call.param(0)), call); });
}

fs::path find_web_root() {
    if (const char* given = std::getenv("ONAIR_WEB_ROOT"); given && *given) return given;
    std::error_code ec;
    const auto binary = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    const auto folder = binary.parent_path();
    const auto installed = folder / ".." / "share" / "onair" / "web";
    if (fs::exists(installed / "channel.html", ec)) return fs::weakly_canonical(installed, ec);
    return {};
}

}  // namespace onair::origin
