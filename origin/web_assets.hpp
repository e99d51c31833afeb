#pragma once
// The control room's pages (web/ in the repository) and the libraries they
// use (hls.js, uPlot: from npm at build time), served by onair itself so they
// work on a broadcast network without the internet. The folder is read once
// at start into prepared responses: an ETag from each file's bytes, revalidated
// on every load (no-cache) so a new version shows at the next reload.
//   GET /                  the folder's `index` page (a channel's: channel.html)
//   GET /ui/{file}         any file at the folder's top
//   GET /ui/lib/{file}     the libraries
// Pages are sent with a Content-Security-Policy that allows only this origin
// (and the blob: URLs a player's MediaSource uses). Immutable once loaded;
// any thread.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "origin/http_message.hpp"
#include "origin/router.hpp"

namespace onair::origin {

class WebAssets {
  public:
    // Every regular file in `root` and `root/lib` (not below), each at most
    // kMaxFile bytes. An error names the folder or file that could not be read.
    static core::Result<WebAssets> load(const std::filesystem::path& root);
    static constexpr std::size_t kMaxFile = 8 * 1024 * 1024;

    // The file at "channel.html", "lib/hls.min.js"; null when there is none.
    Prepared find(std::string_view relative) const;
    std::size_t size() const { return files_.size(); }

    // The routes above, `index` being the page at "/". This object must
    // outlive the router.
    void add_routes(Router& router, std::string index) const;

  private:
    std::map<std::string, Prepared, std::less<>> files_;
};

// Where the web assets are: $ONAIR_WEB_ROOT when set; else ../share/onair/web
// from the running binary's folder (installed: /usr/bin and /usr/share/onair/web;
// the build tree: build/tools and build/share/onair/web). Empty when there is
// no channel page there.
std::filesystem::path find_web_root();

}  // namespace onair::origin
