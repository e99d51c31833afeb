#include "tools/remote_anchor.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "core/log.hpp"
#include "origin/ingest_protocol.hpp"

namespace onair::tools {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kLog = "anchor";

origin::HttpClientOptions client_options(std::chrono::milliseconds timeout) {
    origin::HttpClientOptions o;
    o.connect_timeout = timeout;
    o.write_timeout = timeout;
    o.read_timeout = timeout;
    o.total_timeout = timeout;
    o.body_limit = 64 * 1024;
    return o;
}

}  // namespace

RemoteTimeAnchor::RemoteTimeAnchor(RemoteAnchorOptions options, int64_t tolerance_ticks)
    : core::TimeAnchor(tolerance_ticks),
      options_(std::move(options)),
      client_(options_.origin.host, options_.origin.port, client_options(options_.timeout)) {}

int64_t RemoteTimeAnchor::lock(int64_t pts, int64_t now, int64_t lag, int64_t tolerance) {
    std::lock_guard guard(mutex_);
    auto request = origin::make_request(
        http::verb::post, origin::ingest::anchor_target(options_.channel),
        origin::SharedBuffer::from_string(origin::ingest::anchor_json({pts, now, lag, tolerance})),
        "application/json");
    request.set(http::field::authorization, "Bearer " + options_.token);
    std::string problem;
    if (auto response = client_.send(std::move(request)); !response) {
        problem = response.error().message;
    } else if (response->result_int() != 200) {
        problem = fmt::format("the origin answered {}: {}", response->result_int(),
                              response->body().substr(0, 200));
    } else if (auto offset = origin::ingest::parse_anchor_offset(response->body()); !offset) {
        problem = "the origin's answer is not an offset: " + offset.error();
    } else {
        if (warned_) log::info(kLog, "the origin's anchor answers again");
        warned_ = false;
        ++remote_;
        return *offset;
    }
    if (!warned_)
        log::warn(kLog,
                  "cannot use the origin's time anchor ({}); using a local one, so the other "
                  "pipeline may number segments differently until the origin answers",
                  problem);
    warned_ = true;
    ++local_;
    return core::TimeAnchor::lock(pts, now, lag, tolerance);
}

}  // namespace onair::tools
