#include "origin/routes.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>
#include <charconv>
#include <chrono>

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPlaylistCache = "max-age=1";
constexpr std::string_view kSegmentCache = "max-age=86400";
constexpr std::size_t kMaxSequenceDigits = 18;

int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Response bad_request(std::string_view reason) {
    return make_error(http::status::bad_request, "bad_request", reason);
}

Response not_found(std::string_view reason) {
    return make_error(http::status::not_found, "not_found", reason);
}

Response not_ready(std::string_view reason) {
    auto response = make_error(http::status::service_unavailable, "not_ready", reason);
    response.set(http::field::retry_after, "2");
    return response;
}

Response text(std::string_view content_type, std::string_view cache, std::string body) {
    return make_response(http::status::ok, content_type, cache,
                         SharedBuffer::from_string(std::move(body)));
}

// Why a decoded path segment is refused, or empty when it is fine.
std::string_view segment_problem(std::string_view segment) {
    if (segment.empty()) return "empty path segment";
    if (segment == "." || segment == "..") return "dot segment in path";
    for (char c : segment) {
        if (c == '/') return "encoded slash in path segment";
        if (c == '\\') return "backslash in path segment";
        if (c == '\0') return "NUL byte in path segment";
    }
    return {};
}

boost::json::object input_json(const core::PipelineRuntimeStatus& p, int64_t now_ms) {
    const core::InputStatus& in = p.input;
    boost::json::object json;
    json["url"] = p.input_description;
    json["state"] = core::to_string(in.state.load());
    json["bitrate"] = in.bitrate.load();
    json["bytes"] = in.bytes.load();
    int64_t last = in.last_packet_utc_ms.load();
    if (last > 0)
        json["last_packet_age_ms"] = std::max<int64_t>(0, now_ms - last);
    else
        json["last_packet_age_ms"] = nullptr;
    json["continuity_errors"] = in.continuity_errors.load();
    json["garbage_bytes"] = in.garbage_bytes.load();
    json["rtp_lost"] = in.rtp_lost.load();
    json["connects"] = in.connects.load();
    json["note"] = in.note();
    return json;
}

boost::json::object pipeline_json(const core::PipelineRuntimeStatus& p, int64_t now_ms) {
    const core::PipelineStatus& s = p.pipeline;
    boost::json::object json;
    json["input"] = input_json(p, now_ms);
    json["segments"] = s.segments.load();
    json["last_sequence"] = s.last_sequence.load();
    json["filling"] = s.filling.load();
    json["fill_frames"] = s.fill_frames.load();
    json["timeline_jumps"] = s.timeline_jumps.load();
    json["frames_in"] = s.frames_in.load();
    json["decode_errors"] = s.decode_errors.load();
    return json;
}

}  // namespace

Routes::Routes(SegmentStore& store, const core::ChannelStatus& status, NowMs now_ms)
    : store_(store), status_(status), now_ms_(now_ms ? std::move(now_ms) : NowMs(system_now_ms)) {
    const std::vector<http::verb> read = {http::verb::get, http::verb::head};
    constexpr std::string_view read_allow = "GET, HEAD, OPTIONS";
    routes_ = {
        {{"healthz"}, read, read_allow, &Routes::healthz},
        {{"live", "{channel}", "master.m3u8"}, read, read_allow, &Routes::master},
        {{"live", "{channel}", "{rendition}", "index.m3u8"},
         read,
         read_allow,
         &Routes::media_playlist},
        {{"live", "{channel}", "{rendition}", "{file}"}, read, read_allow, &Routes::segment},
    };
}

Response Routes::operator()(const Request& request) const {
    Response response = route(request);
    if (request.method() == http::verb::head) strip_body(response);
    return response;
}

Response Routes::route(const Request& request) const {
    auto target = request.target();
    if (ingest_ && target.starts_with("/ingest/")) return ingest_(request);
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!parsed) return bad_request("the request target is not an absolute path");
    if (parsed->encoded_path().size() > kMaxPath)
        return bad_request(fmt::format("path longer than {} bytes", kMaxPath));

    std::vector<std::string> segments;
    for (std::string segment : parsed->segments()) {
        if (auto problem = segment_problem(segment); !problem.empty()) return bad_request(problem);
        segments.push_back(std::move(segment));
    }

    for (const Route& entry : routes_) {
        if (entry.pattern.size() != segments.size()) continue;
        Call call{request, {}};
        bool match = true;
        for (std::size_t i = 0; i < segments.size() && match; ++i) {
            std::string_view p = entry.pattern[i];
            if (p.starts_with('{'))
                call.params.push_back(segments[i]);
            else
                match = p == segments[i];
        }
        if (!match) continue;

        const http::verb method = request.method();
        if (method == http::verb::options) {
            Response response{http::status::no_content, 11};
            response.set(http::field::access_control_allow_origin, "*");
            response.set(http::field::access_control_allow_methods, entry.allow);
            response.set(http::field::access_control_allow_headers,
                         "*, Authorization, Content-Type, Range");
            response.set(http::field::access_control_max_age, "600");
            response.set(http::field::allow, entry.allow);
            response.set(http::field::cache_control, "no-store");
            return response;  // 204: no Content-Length (RFC 9110, 8.6)
        }
        if (std::find(entry.methods.begin(), entry.methods.end(), method) == entry.methods.end()) {
            auto response = make_error(http::status::method_not_allowed, "method_not_allowed",
                                       fmt::format("allowed: {}", entry.allow));
            response.set(http::field::allow, entry.allow);
            return response;
        }
        return (this->*entry.answer)(call);
    }
    return not_found("no such path");
}

bool Routes::known_channel(std::string_view channel) const {
    return channel == store_.options().channel;
}

Response Routes::master(const Call& call) const {
    const std::string& channel = call.params[0];
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    auto playlist = store_.master_playlist();
    if (!playlist) return not_ready("no segments yet");
    return text(kMimePlaylist, kPlaylistCache, std::move(*playlist));
}

Response Routes::media_playlist(const Call& call) const {
    const std::string& channel = call.params[0];
    const std::string& rendition = call.params[1];
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    if (!store_.has_rendition(rendition))
        return not_found(fmt::format("unknown rendition '{}'", rendition));
    auto playlist = store_.media_playlist(rendition);
    if (!playlist) return not_ready(fmt::format("no segments yet for rendition '{}'", rendition));
    return text(kMimePlaylist, kPlaylistCache, std::move(*playlist));
}

Response Routes::segment(const Call& call) const {
    const std::string& channel = call.params[0];
    const std::string& rendition = call.params[1];
    std::string_view file = call.params[2];
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    if (!store_.has_rendition(rendition))
        return not_found(fmt::format("unknown rendition '{}'", rendition));
    if (!file.ends_with(".ts")) return not_found("no such path");
    std::string_view digits = file.substr(0, file.size() - 3);
    bool decimal = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
    // One spelling per segment: no sign, no leading zeros.
    if (!decimal || (digits.size() > 1 && digits[0] == '0'))
        return not_found("segment names are <sequence number>.ts");
    if (digits.size() > kMaxSequenceDigits) return bad_request("sequence number too long");
    int64_t sequence = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
    // ?pipeline=a|b: that pipeline's own copy, for monitoring each encoder.
    auto parsed = boost::urls::parse_origin_form(call.request.target());
    if (parsed) {
        auto params = parsed->params();
        if (auto it = params.find("pipeline"); it != params.end()) {
            std::string which = (*it).has_value ? std::string((*it).value) : std::string();
            if (which != "a" && which != "b") return bad_request("pipeline must be a or b");
            auto copy = store_.pipeline_copy(rendition, sequence, which[0]);
            if (!copy)
                return not_found(fmt::format("pipeline {} has no segment {} of rendition '{}'",
                                             which, sequence, rendition));
            return make_response(http::status::ok, kMimeTs, "no-store",
                                 SharedBuffer::from_bytes(std::move(copy)));
        }
    }
    auto bytes = store_.segment(rendition, sequence);
    if (!bytes)
        return not_found(
            fmt::format("segment {} of rendition '{}' is not held", sequence, rendition));
    return make_response(http::status::ok, kMimeTs, kSegmentCache,
                         SharedBuffer::from_bytes(std::move(bytes)));
}

Response Routes::healthz(const Call&) const {
    const int64_t now = now_ms_();
    boost::json::object pipelines;
    for (const auto& p : status_.pipelines)
        pipelines[std::string(1, p->id)] = pipeline_json(*p, now);
    boost::json::object json;
    json["status"] = "ok";
    json["channel"] = status_.channel.empty() ? store_.options().channel : status_.channel;
    json["pipelines"] = std::move(pipelines);
    return make_response(http::status::ok, kMimeJson, "no-store",
                         SharedBuffer::from_string(boost::json::serialize(json)));
}

}  // namespace onair::origin
