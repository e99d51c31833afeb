// Fuzz target: an HTTP request as the origin's server reads it, through
// Beast's parser with the server's limits, to the router and every handler
// behind it (no socket): live playlists and segments, time-shift from the
// DVR, status, metrics, the switch, the clip API and VOD, ingest pushes,
// the control room's files. The first byte picks the channel: MPEG-TS with
// segments in its store and DVR, or CMAF with LL-HLS parts. Every request
// gets a reply, and a malformed one a 4xx, never a 500 or an exception.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "core/log.hpp"
#include "core/media_time.hpp"
#include "core/status.hpp"
#include "origin/clip_routes.hpp"
#include "origin/http_server.hpp"
#include "origin/ingest_routes.hpp"
#include "origin/routes.hpp"
#include "origin/web_assets.hpp"
#include "tests/origin/fakes.hpp"
#include "tests/origin/harvest_fakes.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
namespace http = boost::beast::http;

namespace {

constexpr const char* kToken = "fuzz-token";

// One channel's origin as `onair run` wires it.
struct Channel {
    HarvestHarness harvest;
    SegmentStore store;
    core::ChannelStatus status;
    core::TimeAnchor anchor{10 * kSecond};
    IngestRoutes ingest;
    std::unique_ptr<ClipRoutes> clips;
    WebAssets web;
    Routes routes;

    explicit Channel(StoreOptions options)
        : store(std::move(options)),
          ingest(
              IngestOptions::from_store(store.options(), kToken), store,
              [this](std::string_view r, int64_t s, char p) {
                  return store.pipeline_copy(r, s, p) != nullptr;
              },
              status, anchor),
          web(load_web(harvest.dir.path())),
          routes(store, status, [] { return kBaseMs + 3600 * 1000; }) {
        status.channel = "demo";
        status.add('a', "udp://127.0.0.1:5000");
        status.add('b', "udp://127.0.0.1:5002");
        harvest.dvr.add_range(kBaseSequence, 30);
        harvest.max_waiting = 4;
        harvest.start(1);
        clips = std::make_unique<ClipRoutes>(*harvest.service, kToken);
        routes.set_api_token(kToken);
        routes.set_ingest(ingest);
        routes.set_clips(*clips);
        routes.set_web(web);
        routes.set_dvr(&harvest.dvr);
    }

    static WebAssets load_web(const fs::path& folder) {
        write_all(folder / "web" / "channel.html", "<!doctype html><title>demo</title>");
        write_all(folder / "web" / "lib" / "hls.min.js", "// hls.js");
        auto web = WebAssets::load(folder / "web");
        if (!web) __builtin_trap();
        return std::move(*web);
    }
};

Channel& ts_channel() {
    static Channel* channel = [] {
        auto* c = new Channel(options(5, {"720p", "360p"}));
        for (int64_t n = 0; n < 8; ++n) {
            for (const char* rendition : {"720p", "360p"}) {
                c->store.on_segment(segment(rendition, kBaseSequence + n, 'a'));
                c->store.on_segment(segment(rendition, kBaseSequence + n, 'b'));
            }
        }
        return c;
    }();
    return *channel;
}

Channel& cmaf_channel() {
    static Channel* channel = [] {
        StoreOptions o = options(5, {"720p", "360p"});
        o.container = core::Container::fmp4;
        o.segment_length = 2 * kSecond;
        o.part_length = kSecond / 2;
        o.part_hold_back = 3 * o.part_length;
        return new Channel(std::move(o));
    }();
    return *channel;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    log::configure(log::Format::text, log::Level::error);
    ts_channel();
    cmaf_channel();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    Channel& channel = data[0] & 1 ? cmaf_channel() : ts_channel();

    // The server's parser and limits (HttpServerOptions' defaults).
    const HttpServerOptions limits;
    http::request_parser<http::string_body> parser;
    parser.header_limit(limits.header_limit);
    parser.body_limit(limits.ingest_body_limit);
    parser.eager(true);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(data + 1, size - 1), ec);
    if (ec || !parser.is_done()) return 0;  // 400, 413, 431, or more to read
    Request request = parser.release();
    const bool ingest =
        (request.method() == http::verb::put || request.method() == http::verb::post) &&
        request.target().starts_with("/ingest/");
    if (!ingest && request.body().size() > limits.body_limit) return 0;  // 413

    Reply reply;
    try {
        reply = channel.routes(request);
    } catch (...) {
        __builtin_trap();  // the server would answer 500 "internal_error"
    }
    if (reply.pending()) return 0;  // a blocking reload, held until its part comes
    if (reply.status() < 200 || reply.status() == 500) __builtin_trap();
    (void)reply.to_message();
    return 0;
}
