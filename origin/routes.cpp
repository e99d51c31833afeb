#include "origin/routes.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>
#include <charconv>

#include <chrono>

#include "core/media_time.hpp"
#include "origin/status_report.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPlaylistCache = "max-age=1";
constexpr std::string_view kSegmentCache = "max-age=86400";
// A finished time-shift window changes only as the DVR expires it.
constexpr std::string_view kVodCache = "max-age=60";
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

Response refused(const TimeShiftRefusal& refusal) {
    if (refusal.status == http::status::service_unavailable) return not_ready(refusal.reason);
    if (refusal.status == http::status::bad_request) return bad_request(refusal.reason);
    return not_found(refusal.reason);
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

// /vod/..., /api/v1/clips..., /api/v1/channels/CHANNEL/clips
bool is_clip_path(const std::vector<std::string>& s) {
    if (!s.empty() && s[0] == "vod") return true;
    if (s.size() >= 3 && s[0] == "api" && s[1] == "v1" && s[2] == "clips") return true;
    return s.size() == 5 && s[0] == "api" && s[1] == "v1" && s[2] == "channels" && s[4] == "clips";
}

// The value of ?pipeline=, when the target has one.
std::optional<std::string> pipeline_param(const Request& request) {
    auto target = request.target();
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!parsed) return std::nullopt;
    auto params = parsed->params();
    auto it = params.find("pipeline");
    if (it == params.end()) return std::nullopt;
    return (*it).has_value ? std::string((*it).value) : std::string();
}

boost::json::object pipeline_json(const core::PipelineRuntimeStatus& p, int64_t now_ms) {
    boost::json::object json;
    json["input"] = input_status_json(p, now_ms);
    core::for_each_pipeline_figure(
        [&](const core::Figure& f, const auto& value) {
            if (f.shown_in(core::kInHealthz)) json[f.name] = core::figure_value(value);
        },
        p.pipeline);
    return json;
}

}  // namespace

Routes::Routes(SegmentStore& store, const core::ChannelStatus& status, NowMs now_ms)
    : store_(store), status_(status), now_ms_(now_ms ? std::move(now_ms) : NowMs(system_now_ms)) {
    const std::vector<http::verb> read = {http::verb::get, http::verb::head};
    constexpr std::string_view read_allow = "GET, HEAD, OPTIONS";
    const std::vector<http::verb> post = {http::verb::post};
    routes_ = {
        {{"healthz"}, read, read_allow, &Routes::healthz},
        {{"metrics"}, read, read_allow, &Routes::metrics},
        {{"api", "v1", "channels", "{channel}"}, read, read_allow, &Routes::channel_status},
        {{"api", "v1", "channels", "{channel}", "switch"},
         post,
         "POST, OPTIONS",
         &Routes::switch_pipeline},
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
    if (clips_ && is_clip_path(segments)) return clips_(request);

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
        if (method == http::verb::options) return make_preflight(entry.allow);
        if (std::find(entry.methods.begin(), entry.methods.end(), method) == entry.methods.end())
            return make_not_allowed(entry.allow);
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
    auto shift = parse_timeshift(call.request.target());
    if (!shift) return bad_request(shift.error().message);
    if (*shift) return timeshift_master(**shift);
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
    auto shift = parse_timeshift(call.request.target());
    if (!shift) return bad_request(shift.error().message);
    if (*shift) {
        if (pipeline_param(call.request))
            return bad_request("pipeline and start/end do not go together");
        return timeshift_media(rendition, **shift);
    }
    if (auto which = pipeline_param(call.request)) {
        if (*which != "a" && *which != "b") return bad_request("pipeline must be a or b");
        auto listing = store_.pipeline_listing(rendition, (*which)[0]);
        if (!listing)
            return not_found(
                fmt::format("pipeline {} has no segment of rendition '{}'", *which, rendition));
        return text(kMimePlaylist, kPlaylistCache, render_media_playlist(*listing));
    }
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
    if (auto which = pipeline_param(call.request)) {
        if (*which != "a" && *which != "b") return bad_request("pipeline must be a or b");
        auto copy = store_.pipeline_copy(rendition, sequence, (*which)[0]);
        if (!copy)
            return not_found(fmt::format("pipeline {} has no segment {} of rendition '{}'", *which,
                                         sequence, rendition));
        return make_response(http::status::ok, kMimeTs, "no-store",
                             SharedBuffer::from_bytes(std::move(copy)));
    }
    if (auto bytes = store_.segment(rendition, sequence))
        return make_response(http::status::ok, kMimeTs, kSegmentCache,
                             SharedBuffer::from_bytes(std::move(bytes)));
    // Gone from the live store (or from before a restart): the recording,
    // mapped rather than copied into memory (its pages are read as the
    // socket write needs them). Expiry unlinks the file, which leaves a
    // mapping whole.
    if (dvr_)
        if (auto recorded = dvr_->find(rendition, sequence))
            if (auto mapped = SharedBuffer::map_file(recorded->file))
                return make_response(http::status::ok, kMimeTs, kSegmentCache, std::move(*mapped));
    return not_found(fmt::format("segment {} of rendition '{}' is not held", sequence, rendition));
}

std::optional<DvrFigures> Routes::dvr_figures() const {
    if (!dvr_) return std::nullopt;
    return DvrFigures{dvr_->segments_on_disk(), dvr_->bytes_on_disk(), dvr_->expired(),
                      dvr_->dropped(), dvr_->extent()};
}

Response Routes::timeshift_master(const TimeShiftWindow& window) const {
    if (!dvr_) return not_found("this origin keeps no DVR");
    const int64_t now = core::utc_ms_to_media(now_ms_());
    auto variants = timeshift_variants(*dvr_, store_.options().renditions, window, now);
    if (!variants) return refused(variants.error());
    return text(kMimePlaylist, kPlaylistCache, render_master_playlist(*variants));
}

Response Routes::timeshift_media(const std::string& rendition,
                                 const TimeShiftWindow& window) const {
    if (!dvr_) return not_found("this origin keeps no DVR");
    const int64_t now = core::utc_ms_to_media(now_ms_());
    auto listing =
        timeshift_listing(*dvr_, rendition, window, now, store_.options().segment_length);
    if (!listing) return refused(listing.error());
    const bool vod = listing->type == PlaylistType::vod;
    return text(kMimePlaylist, vod ? kVodCache : kPlaylistCache, render_media_playlist(*listing));
}

Response Routes::channel_status(const Call& call) const {
    const std::string& channel = call.params[0];
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    return make_response(http::status::ok, kMimeJson, "no-store",
                         SharedBuffer::from_string(channel_status_json(
                             status_, store_.failover_status(), now_ms_(), dvr_figures())));
}

Response Routes::metrics(const Call&) const {
    return make_response(http::status::ok, kMimePrometheus, "no-store",
                         SharedBuffer::from_string(prometheus_metrics(
                             status_, store_.failover_status(), now_ms_(), dvr_figures())));
}

std::optional<Response> Routes::refuse_control(const Request& request) const {
    return refuse_without_bearer(request, api_token_);
}

Response Routes::switch_pipeline(const Call& call) const {
    const std::string& channel = call.params[0];
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    if (auto refused = refuse_control(call.request)) return std::move(*refused);
    boost::system::error_code ec;
    auto body = boost::json::parse(call.request.body(), ec);
    if (ec || !body.is_object())
        return bad_request("the body must be a JSON object such as {\"to\": \"b\"}");
    const auto* to = body.as_object().if_contains("to");
    if (!to || !to->is_string() || (to->as_string() != "a" && to->as_string() != "b"))
        return bad_request("\"to\" must be \"a\" or \"b\"");
    const char pipeline = to->as_string()[0];
    if (!status_.find(pipeline))
        return bad_request(fmt::format("channel '{}' has no pipeline {}", channel, pipeline));
    if (!store_.manual_switch(pipeline))
        return bad_request(fmt::format("cannot switch to pipeline {}", pipeline));
    return make_response(http::status::ok, kMimeJson, "no-store",
                         SharedBuffer::from_string(channel_status_json(
                             status_, store_.failover_status(), now_ms_(), dvr_figures())));
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
