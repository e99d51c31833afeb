// Signed playback URLs: the token a CDN would check (its HMAC against an
// independent implementation, openssl's), every way a token is refused,
// and a signed channel through its Routes: 403 with a reason, playlists
// that carry the token on to every URI (LL-HLS tags too, held blocking
// reloads included), the API and ingest untouched.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <fmt/format.h>

#include "core/status.hpp"
#include "fakes.hpp"
#include "origin/playback_signing.hpp"
#include "origin/routes.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace http = boost::beast::http;
using Verdict = PlaybackSigner::Verdict;

namespace {

constexpr int64_t kNow = 1799990000;  // Unix seconds
constexpr int64_t kExpiry = 1800000000;

// A channel whose routes need signed URLs, its clock at kNow.
struct SignedChannel {
    SegmentStore store;
    core::ChannelStatus status;
    Routes routes{store, status, [] { return kNow * 1000; }};
    PlaybackSigner signer{"s3cret"};

    explicit SignedChannel(StoreOptions options) : store(std::move(options)) {
        status.channel = "demo";
        status.add('a', "udp://127.0.0.1:5000");
        routes.set_playback_signer(&signer);
    }
};

}  // namespace

TEST_CASE("playback token: the EdgeAuth form with the HMAC openssl computes", "[origin][signing]") {
    PlaybackSigner signer("s3cret");
    // printf 'exp=1800000000~acl=/live/demo/*' | openssl dgst -sha256 -hmac s3cret -hex
    CHECK(signer.sign("/live/demo/*", kExpiry) ==
          "exp=1800000000~acl=/live/demo/*~hmac="
          "dfbe5fdbda50295e2730dcbeb0deb14333df0e9e272df727a5740328b56bd349");
}

TEST_CASE("playback token: opens what its acl names until it expires, nothing else",
          "[origin][signing]") {
    PlaybackSigner signer("s3cret");
    const std::string token = signer.sign("/live/demo/*", kExpiry);
    CHECK(signer.check(token, "/live/demo/master.m3u8", kNow).verdict == Verdict::ok);
    CHECK(signer.check(token, "/live/demo/720p/123.ts", kNow).verdict == Verdict::ok);
    auto outside = signer.check(token, "/live/other/master.m3u8", kNow);
    CHECK(outside.verdict == Verdict::outside);
    CHECK(outside.reason == "the token opens /live/demo/*, not /live/other/master.m3u8");
    auto expired = signer.check(token, "/live/demo/master.m3u8", kExpiry + 5);
    CHECK(expired.verdict == Verdict::expired);
    CHECK(expired.reason == "the token expired 5 s ago");
    CHECK(signer.check(token, "/live/demo/master.m3u8", kExpiry).verdict == Verdict::expired);

    // An acl without '*' opens that one path.
    const std::string one = signer.sign("/vod/goal/clip.mp4", kExpiry);
    CHECK(signer.check(one, "/vod/goal/clip.mp4", kNow).verdict == Verdict::ok);
    CHECK(signer.check(one, "/vod/goal/clip.mp4x", kNow).verdict == Verdict::outside);

    // Several paths, '!' between them.
    const std::string two = signer.sign("/live/demo/*!/vod/*", kExpiry);
    CHECK(signer.check(two, "/live/demo/master.m3u8", kNow).verdict == Verdict::ok);
    CHECK(signer.check(two, "/vod/goal/clip.mp4", kNow).verdict == Verdict::ok);
    CHECK(signer.check(two, "/live/other/master.m3u8", kNow).verdict == Verdict::outside);

    CHECK(signer.check(std::nullopt, "/live/demo/master.m3u8", kNow).verdict == Verdict::missing);
    CHECK(signer.check("", "/live/demo/master.m3u8", kNow).verdict == Verdict::missing);
}

TEST_CASE("playback token: a changed expiry, path, signature or secret is refused",
          "[origin][signing]") {
    PlaybackSigner signer("s3cret");
    const std::string token = signer.sign("/live/demo/*", kExpiry);
    auto replaced = [&](std::string_view from, std::string_view to) {
        std::string t = token;
        t.replace(t.find(from), from.size(), to);
        return t;
    };
    const std::string path = "/live/demo/master.m3u8";
    CHECK(signer.check(replaced("exp=1800000000", "exp=1900000000"), path, kNow).verdict ==
          Verdict::forged);
    CHECK(signer.check(replaced("acl=/live/demo/*", "acl=/live/*"), path, kNow).verdict ==
          Verdict::forged);
    CHECK(signer.check(replaced("hmac=d", "hmac=e"), path, kNow).verdict == Verdict::forged);
    CHECK(signer.check(token.substr(0, token.size() - 1), path, kNow).verdict == Verdict::forged);
    CHECK(PlaybackSigner("other").check(token, path, kNow).verdict == Verdict::forged);
    for (const char* bad : {"exp=x~acl=/live/*~hmac=00", "acl=/live/*~exp=1800000000~hmac=00",
                            "exp=1800000000~hmac=00", "garbage", "exp=1800000000~acl=/live/*"}) {
        INFO(bad);
        CHECK(signer.check(std::string(bad), path, kNow).verdict == Verdict::malformed);
    }
}

TEST_CASE("playlists carry the query on to every URI they name", "[origin][signing]") {
    const std::string playlist =
        "#EXTM3U\n"
        "#EXT-X-MAP:URI=\"init-ab.mp4\"\n"
        "#EXTINF:2.000,\n"
        "10.m4s\n"
        "#EXT-X-PART:DURATION=0.50000,URI=\"11.0.m4s\",INDEPENDENT=YES\n"
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"11.1.m4s\"\n"
        "#EXT-X-RENDITION-REPORT:URI=\"../480p/index.m3u8\",LAST-MSN=11,LAST-PART=0\n"
        "720p/index.m3u8?start=1&end=2\n";
    CHECK(with_query_on_uris(playlist, "token=T") ==
          "#EXTM3U\n"
          "#EXT-X-MAP:URI=\"init-ab.mp4?token=T\"\n"
          "#EXTINF:2.000,\n"
          "10.m4s?token=T\n"
          "#EXT-X-PART:DURATION=0.50000,URI=\"11.0.m4s?token=T\",INDEPENDENT=YES\n"
          "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"11.1.m4s?token=T\"\n"
          "#EXT-X-RENDITION-REPORT:URI=\"../480p/index.m3u8?token=T\",LAST-MSN=11,LAST-PART=0\n"
          "720p/index.m3u8?start=1&end=2&token=T\n");
}

TEST_CASE("a signed channel: 403 with a reason without a good token; playlists carry it",
          "[origin][signing]") {
    SignedChannel channel(options(5, {"720p", "480p"}));
    auto& [store, status, routes, signer] = channel;
    for (int64_t n = 0; n < 4; ++n)
        for (const char* r : {"720p", "480p"}) store.on_segment(segment(r, n));
    auto get = [&](const std::string& target) {
        return routes(Request{http::verb::get, target, 11}).to_message();
    };
    const std::string token = signer.sign("/live/demo/*", kExpiry);

    auto refused = get("/live/demo/master.m3u8");
    CHECK(refused.result() == http::status::forbidden);
    auto json = boost::json::parse(refused.body().view()).as_object();
    CHECK(json["error"] == "forbidden");
    CHECK(std::string(json["reason"].as_string()).starts_with("this channel's playback needs"));
    CHECK(get("/live/demo/720p/1.ts").result() == http::status::forbidden);
    CHECK(get("/live/demo/720p/1.ts?token=" + signer.sign("/live/other/*", kExpiry)).result() ==
          http::status::forbidden);
    CHECK(get("/live/demo/720p/1.ts?token=" + signer.sign("/live/demo/*", kNow - 1)).result() ==
          http::status::forbidden);

    auto master = get("/live/demo/master.m3u8?token=" + token);
    REQUIRE(master.result() == http::status::ok);
    CHECK(master.find(http::field::etag) == master.end());  // no 304s on an older token
    std::vector<std::string> variants = uris(master.body().view());
    REQUIRE(variants.size() == 2);
    for (const auto& uri : variants) CHECK(uri.ends_with("/index.m3u8?token=" + token));
    auto media = get("/live/demo/" + variants[0]);
    REQUIRE(media.result() == http::status::ok);
    auto segments = uris(media.body().view());
    REQUIRE(segments.size() == 4);
    for (const auto& uri : segments) CHECK(uri.ends_with(".ts?token=" + token));
    // A HEAD says the length of the playlist a GET gets, token and all.
    auto head = routes(Request{http::verb::head, "/live/demo/" + variants[0], 11}).to_message();
    CHECK(head.result() == http::status::ok);
    CHECK(head[http::field::content_length] == std::to_string(media.body().size()));
    CHECK(head.body().size() == 0);
    auto bytes = get("/live/demo/720p/" + segments[0]);
    CHECK(bytes.result() == http::status::ok);
    CHECK(bytes.body().size() == 1000);

    // Not playback: the API and health answer as before.
    CHECK(get("/api/v1/channels/demo").result() == http::status::ok);
    CHECK(get("/healthz").result() == http::status::ok);
}

TEST_CASE("a signed LL-HLS channel: a held blocking reload carries the token when it comes",
          "[origin][signing][llhls]") {
    TestClock clock;
    SignedChannel channel([&] {
        auto o = options(8, {"720p"}, clock);
        o.segment_length = 2 * kSecond;
        o.container = core::Container::fmp4;
        o.part_length = kSecond / 2;
        return o;
    }());
    auto& [store, status, routes, signer] = channel;
    const std::string token = signer.sign("/live/demo/*", kExpiry);
    auto init = core::InitSection::of(core::Bytes(700, 7));
    auto part = [&](int64_t sequence, int k) {
        core::Part p;
        p.rendition = "720p";
        p.sequence = sequence;
        p.index = k;
        p.start = kBaseUtcMs * 90 + sequence * 2 * kSecond + k * kSecond / 2;
        p.duration = kSecond / 2;
        p.frames = 15;
        p.independent = k == 0;
        p.bytes = std::make_shared<const core::Bytes>(100, uint8_t(k));
        p.init = init;
        store.on_part(std::move(p));
    };
    for (int k = 0; k < 4; ++k) part(10, k);
    core::Segment s = FakeSegment{"720p"}.make();
    s.sequence = 10;
    s.start = kBaseUtcMs * 90 + 10 * 2 * kSecond;
    s.duration = 2 * kSecond;
    s.container = core::Container::fmp4;
    s.init = init;
    s.parts = 4;
    store.on_segment(std::move(s));
    part(11, 0);

    auto held = routes(
        Request{http::verb::get,
                "/live/demo/720p/index.m3u8?token=" + token + "&_HLS_msn=11&_HLS_part=1", 11});
    REQUIRE(held.pending());
    CHECK_FALSE(held.pending()->result());
    part(11, 1);
    REQUIRE(held.pending()->result());
    std::string body(held.to_message().body().view());
    CHECK(body.find("URI=\"11.1.m4s?token=" + token + "\"") != std::string::npos);
    CHECK(body.find("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"11.2.m4s?token=" + token + "\"") !=
          std::string::npos);
    CHECK(body.find("#EXT-X-MAP:URI=\"init-") != std::string::npos);
    CHECK(body.find(".mp4?token=" + token + "\"") != std::string::npos);
    // Without the token the same reload is refused at once, not held.
    auto refused = routes(Request{http::verb::get, "/live/demo/720p/index.m3u8?_HLS_msn=12", 11});
    CHECK_FALSE(refused.pending());
    CHECK(refused.to_message().result() == http::status::forbidden);
}
