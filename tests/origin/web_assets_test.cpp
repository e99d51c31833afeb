// The control room's files as the origin serves them (no sockets): the page
// at "/", assets and libraries under /ui/, their media types, the page's
// security headers, revalidation, and what is not served.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "origin/router.hpp"
#include "origin/web_assets.hpp"
#include "tests/support/temp_dir.hpp"

using namespace onair;
using namespace onair::origin;
namespace http = boost::beast::http;

namespace {

std::string header(const Response& r, std::string_view name) {
    auto it = r.find(name);
    return it == r.end() ? std::string("<absent>") : std::string(it->value());
}

Response get(const Router& router, std::string target, std::string if_none_match = {}) {
    Request request{http::verb::get, target, 11};
    if (!if_none_match.empty()) request.set(http::field::if_none_match, if_none_match);
    return router(request).to_message();
}

}  // namespace

TEST_CASE("web assets: the page at /, assets and libraries under /ui/, nothing else",
          "[origin][web]") {
    onair::testing::TempDir dir("onair-web");
    dir.write("channel.html", "<!doctype html><title>channel</title>");
    dir.write("channel.js", "'use strict';");
    dir.write("control-room.css", "body {}");
    std::filesystem::create_directories(dir.path() / "lib" / "deeper");
    dir.write("lib/hls.min.js", "/* hls */");
    dir.write("lib/deeper/secret.txt", "not served");
    auto loaded = WebAssets::load(dir.path());
    REQUIRE(loaded);
    CHECK(loaded->size() == 4);
    Router router;
    loaded->add_routes(router, "channel.html");

    auto page = get(router, "/");
    REQUIRE(page.result() == http::status::ok);
    CHECK(std::string(page.body().view()) == "<!doctype html><title>channel</title>");
    CHECK(header(page, "Content-Type") == "text/html; charset=utf-8");
    CHECK(header(page, "Content-Security-Policy").starts_with("default-src 'self';"));
    CHECK(header(page, "X-Content-Type-Options") == "nosniff");
    CHECK(header(page, "Cache-Control") == "no-cache");
    CHECK(header(get(router, "/ui/channel.js"), "Content-Type") == "text/javascript");
    CHECK(header(get(router, "/ui/control-room.css"), "Content-Type") == "text/css");
    auto library = get(router, "/ui/lib/hls.min.js");
    REQUIRE(library.result() == http::status::ok);
    CHECK(std::string(library.body().view()) == "/* hls */");

    // Revalidated by its ETag: 304 while the bytes are the same.
    const auto etag = header(page, "ETag");
    CHECK(etag.size() == 18);
    CHECK(get(router, "/", etag).result() == http::status::not_modified);
    CHECK(get(router, "/", "\"other\"").result() == http::status::ok);

    // Missing, deeper or walking out: 404 or 400 with a JSON reason.
    auto missing = get(router, "/ui/nothing.js");
    CHECK(missing.result() == http::status::not_found);
    CHECK(boost::json::parse(missing.body().view()).as_object().at("reason").as_string() ==
          "no page or asset 'nothing.js'");
    CHECK(get(router, "/ui/lib/deeper/secret.txt").result() == http::status::not_found);
    CHECK(get(router, "/ui/..%2Fchannel.html").result() == http::status::bad_request);
    CHECK(get(router, "/ui/lib/..").result() == http::status::bad_request);
}

TEST_CASE("web assets: a folder that is not there is an error naming it", "[origin][web]") {
    auto loaded = WebAssets::load("/nonexistent/onair-web");
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().message == "/nonexistent/onair-web: no such folder");
}
