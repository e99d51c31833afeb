// The one router: its path, method and token rules on fake requests, and
// the conditional answers of prepared responses.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <string>

#include "origin/router.hpp"

using namespace onair::origin;
namespace http = boost::beast::http;

namespace {

struct Fixture {
    std::string token = "s3cret";
    std::string unset;
    std::atomic<int> calls{0};
    std::vector<std::string> params;
    std::string query;
    Router router;

    Fixture() {
        auto echo = [this](const Call& call) -> Reply {
            ++calls;
            params.assign(call.params.begin(), call.params.begin() + long(call.param_count));
            query = std::string(call.query);
            return make_response(http::status::ok, "text/plain", "no-store",
                                 SharedBuffer::from_string("hello"));
        };
        router.add(http::verb::get, "/live/{channel}/master.m3u8", echo);
        router.add(http::verb::get, "/live/{channel}/{rendition}/{file}", echo);
        router.add(http::verb::get, "/api/v1/things", echo);
        router.add(http::verb::post, "/api/v1/things", echo, Guard{&token});
        router.add(http::verb::delete_, "/api/v1/things/{id}", echo, Guard{&token});
        router.add(http::verb::post, "/api/v1/off", echo, Guard{&unset, "calls are off here"});
    }

    Response call(http::verb method, std::string target,
                  std::optional<std::string> authorization = std::nullopt) {
        Request request{method, target, 11};
        if (authorization) request.set(http::field::authorization, *authorization);
        return router(request).to_message();
    }
};

std::string header(const Response& r, http::field f) {
    return std::string(r[f]);
}

// A JSON error with `error` as its word and a reason.
void check_error(const Response& r, http::status status, std::string_view error) {
    INFO(r.body().view());
    CHECK(r.result() == status);
    CHECK(header(r, http::field::content_type) == "application/json");
    CHECK(header(r, http::field::access_control_allow_origin) == "*");
    auto json = boost::json::parse(r.body().view()).as_object();
    CHECK(json.at("error").as_string() == error);
    CHECK(!json.at("reason").as_string().empty());
}

}  // namespace

TEST_CASE("router: placeholders take one decoded segment each, the query stays raw", "[router]") {
    Fixture f;
    auto r = f.call(http::verb::get, "/live/demo/720p/12.ts?pipeline=a&x=%41");
    CHECK(r.result() == http::status::ok);
    CHECK(f.params == std::vector<std::string>{"demo", "720p", "12.ts"});
    CHECK(f.query == "pipeline=a&x=%41");
    CHECK(query_value(f.query, "pipeline") == "a");
    CHECK(query_value(f.query, "x") == "A");
    CHECK(query_value("flag&y=1", "flag") == "");
    CHECK_FALSE(query_value(f.query, "y"));
    CHECK_FALSE(query_value("x=%4", "x"));  // malformed encoding: not given

    f.call(http::verb::get, "/live/d%65mo/master.m3u8");
    CHECK(f.params == std::vector<std::string>{"demo"});
    // A literal segment must match as written, after decoding.
    CHECK(f.call(http::verb::get, "/live/demo/master%2Em3u8").result() == http::status::ok);
}

TEST_CASE("router: a path that could walk out of its place is refused before any route",
          "[router]") {
    Fixture f;
    for (std::string target : std::vector<std::string>{
             "/live/../master.m3u8", "/live/./x/y", "/live/demo/%2e%2E/x", "/live/a%2Fb/c/d",
             "/live/a%5Cb/c/d", "/live/a%00/c/d", "/live//master.m3u8", "/live/demo/",
             "/live/%zz/master.m3u8", "relative/path", "/" + std::string(Router::kMaxPath, 'a'),
             // Not printable ASCII, in the path or the query (found by fuzzing: a
             // handler's URL parser failed on it).
             "/live/demo/master.m3u8?x=\x94", "/live/d\xc3\xa9mo/master.m3u8",
             "/api/v1/things?a=b c"}) {
        INFO(target);
        for (auto method : {http::verb::get, http::verb::post, http::verb::options}) {
            auto r = f.call(method, target);
            check_error(r, http::status::bad_request, "bad_request");
        }
    }
    CHECK(f.calls == 0);
}

TEST_CASE("router: an unknown path is 404 with a JSON reason, whatever the method", "[router]") {
    Fixture f;
    for (std::string target : std::vector<std::string>{
             "/", "/nope", "/live/demo", "/api/v1/things/1/2", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n"}) {
        INFO(target);
        check_error(f.call(http::verb::get, target), http::status::not_found, "not_found");
        check_error(f.call(http::verb::put, target), http::status::not_found, "not_found");
    }
    CHECK(f.calls == 0);
}

TEST_CASE("router: HEAD is GET without the body, OPTIONS is the preflight, others 405",
          "[router]") {
    Fixture f;
    auto get = f.call(http::verb::get, "/api/v1/things");
    auto head = f.call(http::verb::head, "/api/v1/things");
    CHECK(head.result() == http::status::ok);
    CHECK(head.body().size() == 0);
    CHECK(header(head, http::field::content_length) == "5");
    CHECK(header(head, http::field::content_type) == header(get, http::field::content_type));
    // HEAD of an error keeps the error's headers, without its body.
    auto missing = f.call(http::verb::head, "/nope");
    CHECK(missing.result() == http::status::not_found);
    CHECK(missing.body().size() == 0);

    auto options = f.call(http::verb::options, "/api/v1/things");
    CHECK(options.result() == http::status::no_content);
    CHECK(header(options, http::field::allow) == "GET, HEAD, POST, OPTIONS");
    CHECK(header(options, http::field::access_control_allow_methods) == "GET, HEAD, POST, OPTIONS");
    CHECK(header(options, http::field::access_control_allow_origin) == "*");
    // Preflights need no token, even on a guarded route.
    CHECK(f.call(http::verb::options, "/api/v1/things/7").result() == http::status::no_content);

    auto put = f.call(http::verb::put, "/api/v1/things");
    check_error(put, http::status::method_not_allowed, "method_not_allowed");
    CHECK(header(put, http::field::allow) == "GET, HEAD, POST, OPTIONS");
    auto patch = f.call(http::verb::patch, "/live/demo/master.m3u8");
    CHECK(header(patch, http::field::allow) == "GET, HEAD, OPTIONS");
    const int before = f.calls;
    f.call(http::verb::post, "/live/demo/720p/1.ts");
    CHECK(f.calls == before);
}

TEST_CASE("router: a guarded route needs the token as Bearer, compared whole", "[router]") {
    Fixture f;
    auto refused = [&](std::optional<std::string> authorization) {
        auto r = f.call(http::verb::post, "/api/v1/things", authorization);
        check_error(r, http::status::unauthorized, "unauthorized");
        CHECK(header(r, http::field::www_authenticate) == "Bearer");
        CHECK(r.body().view().find("s3cret") == std::string_view::npos);
    };
    refused(std::nullopt);
    refused("Bearer s3cre");
    refused("Bearer s3cretX");
    refused("Bearer S3CRET");
    refused("Basic s3cret");
    refused("Bearers3cret");
    refused("s3cret");
    refused("Bearer");
    CHECK(f.calls == 0);
    // The scheme is case-insensitive and may be followed by several blanks.
    for (std::string ok : std::vector<std::string>{"Bearer s3cret", "bearer s3cret",
                                                   "BEARER  s3cret", "Bearer s3cret "}) {
        INFO(ok);
        CHECK(f.call(http::verb::post, "/api/v1/things", ok).result() == http::status::ok);
    }
    CHECK(f.call(http::verb::delete_, "/api/v1/things/9", "Bearer s3cret").result() ==
          http::status::ok);
    CHECK(f.params == std::vector<std::string>{"9"});
    // Reading needs no token.
    CHECK(f.call(http::verb::get, "/api/v1/things").result() == http::status::ok);

    // No token configured: refused with the route's own reason, whatever is sent.
    auto off = f.call(http::verb::post, "/api/v1/off", "Bearer ");
    check_error(off, http::status::forbidden, "forbidden");
    CHECK(boost::json::parse(off.body().view()).at("reason").as_string() == "calls are off here");
    // A token set after the route was added is the one checked.
    f.token = "changed";
    CHECK(f.call(http::verb::post, "/api/v1/things", "Bearer s3cret").result() ==
          http::status::unauthorized);
    CHECK(f.call(http::verb::post, "/api/v1/things", "Bearer changed").result() ==
          http::status::ok);
}

TEST_CASE("router: the first pattern added that matches answers", "[router]") {
    Router router;
    std::string which;
    auto named = [&](std::string name) {
        return [&which, name](const Call&) -> Reply {
            which = name;
            return make_error(http::status::ok, "ok", name);
        };
    };
    router.add(http::verb::get, "/x/literal", named("literal"));
    router.add(http::verb::get, "/x/{any}", named("any"));
    router(Request{http::verb::get, "/x/literal", 11});
    CHECK(which == "literal");
    router(Request{http::verb::get, "/x/other", 11});
    CHECK(which == "any");
}

// --- conditional requests ------------------------------------------------

TEST_CASE("HTTP dates: IMF-fixdate both ways, nothing else taken", "[router][http]") {
    CHECK(http_date(784111777000) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(http_date(784111777999) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777000);
    CHECK(parse_http_date(http_date(1795322880000)) == 1795322880000);
    CHECK_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    CHECK_FALSE(parse_http_date("Sun Nov  6 08:49:37 1994"));
    CHECK_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
    CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
    CHECK_FALSE(parse_http_date(""));
}

TEST_CASE("a prepared response answers 304 to its own validators, 200 otherwise",
          "[router][http]") {
    const int64_t changed = 1795322880250;  // .250 s into its second
    auto resource =
        PreparedResponse::make(make_response(http::status::ok, kMimePlaylist, "max-age=1",
                                             SharedBuffer::from_string("#EXTM3U\n")),
                               {"\"abc\"", changed, true});
    auto ask = [&](std::optional<std::string> none_match, std::optional<std::string> since) {
        Request request{http::verb::get, "/x", 11};
        if (none_match) request.set(http::field::if_none_match, *none_match);
        if (since) request.set(http::field::if_modified_since, *since);
        return answer_conditional(request, resource).to_message();
    };
    auto full = ask(std::nullopt, std::nullopt);
    CHECK(full.result() == http::status::ok);
    CHECK(header(full, http::field::etag) == "\"abc\"");
    CHECK(header(full, http::field::last_modified) == http_date(changed));
    CHECK(full.body().view() == "#EXTM3U\n");

    for (std::string matching :
         std::vector<std::string>{"\"abc\"", "W/\"abc\"", "\"x\", \"abc\"", "*"}) {
        INFO(matching);
        auto r = ask(matching, std::nullopt);
        CHECK(r.result() == http::status::not_modified);
        CHECK(r.body().size() == 0);
        CHECK(header(r, http::field::etag) == "\"abc\"");
        CHECK(header(r, http::field::cache_control) == "max-age=1");
        CHECK(header(r, http::field::access_control_allow_origin) == "*");
        CHECK(header(r, http::field::content_length).empty());
    }
    CHECK(ask("\"abd\"", std::nullopt).result() == http::status::ok);
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    CHECK(ask("\"old\"", http_date(changed + 5000)).result() == http::status::ok);
    // By date: not before the change's second.
    CHECK(ask(std::nullopt, http_date(changed)).result() == http::status::not_modified);
    CHECK(ask(std::nullopt, http_date(changed - 1000)).result() == http::status::ok);
    CHECK(ask(std::nullopt, "yesterday").result() == http::status::ok);

    // A version made in the same second as the one before cannot be told
    // apart by date: never 304 by date, only by ETag.
    auto twin = PreparedResponse::make(make_response(http::status::ok, kMimePlaylist, "max-age=1",
                                                     SharedBuffer::from_string("#EXTM3U\n#2\n")),
                                       {"\"def\"", changed + 500, false});
    Request request{http::verb::get, "/x", 11};
    request.set(http::field::if_modified_since, http_date(changed));
    CHECK(answer_conditional(request, twin).status() == 200);
    request.set(http::field::if_none_match, "\"def\"");
    CHECK(answer_conditional(request, twin).status() == 304);

    // Without validators there is no 304.
    auto plain = PreparedResponse::make(
        make_response(http::status::ok, kMimeJson, "no-store", SharedBuffer::from_string("{}")));
    Request any{http::verb::get, "/x", 11};
    any.set(http::field::if_none_match, "*");
    CHECK(answer_conditional(any, plain).status() == 200);
}
