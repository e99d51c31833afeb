#include "origin/routes.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <charconv>

#include <chrono>

#include "core/media_time.hpp"
#include "origin/status_report.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kPlaylistCache = "max-age=1";
constexpr std::string_view kSegmentCache = "max-age=86400, immutable";
// A finished time-shift window changes only as the DVR expires it.
constexpr std::string_view kVodCache = "max-age=60";

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
    auto read = [&](std::string_view pattern, Reply (Routes::*answer)(const Call&) const) {
        router_.add(http::verb::get, pattern,
                    [this, answer](const Call& call) { return (this->*answer)(call); });
    };
    read("/healthz", &Routes::healthz);
    read("/metrics", &Routes::metrics);
    read("/api/v1/channels/{channel}", &Routes::channel_status);
    router_.add(
        http::verb::post, "/api/v1/channels/{channel}/switch",
        [this](const Call& call) { return switch_pipeline(call); }, Guard{&api_token_});
    read("/thumbs/{channel}/{file}", &Routes::thumbnail);
    read("/live/{channel}/master.m3u8", &Routes::master);
    read("/live/{channel}/{rendition}/index.m3u8", &Routes::media_playlist);
    read("/live/{channel}/{rendition}/{file}", &Routes::segment);
}

Reply Routes::operator()(const Request& request) const {
    if (signer_ && (request.method() == http::verb::get || request.method() == http::verb::head)) {
        const std::string_view target = request.target();
        if (target.starts_with("/live/") || target.starts_with("/vod/"))
            return signed_playback(request);
    }
    return router_(request);
}

// A playlist's reply with the token added to its URIs; anything else as it is.
Reply Routes::signed_playback(const Request& request) const {
    const std::string_view target = request.target();
    const auto mark = target.find('?');
    const std::string_view path = target.substr(0, mark);
    const std::string_view query = mark == std::string_view::npos ? "" : target.substr(mark + 1);
    const auto token = query_value(query, kTokenParameter);
    auto check = signer_->check(token, path, now_ms_() / 1000);
    if (check.verdict != PlaybackSigner::Verdict::ok)
        return make_error(http::status::forbidden, "forbidden", check.reason);

    auto carry_token = [query = fmt::format("{}={}", kTokenParameter, *token)](Reply reply) {
        Response message = reply.to_message();
        if (message.result() != http::status::ok ||
            message[http::field::content_type] != kMimePlaylist)
            return reply;
        const auto& body = message.body();
        std::string text = with_query_on_uris(
            std::string_view(static_cast<const char*>(body.data()), body.size()), query);
        message.body() = SharedBuffer::from_string(std::move(text));
        message.prepare_payload();
        // No validators: a 304 would keep a player on the URIs of an older token.
        message.erase(http::field::etag);
        message.erase(http::field::last_modified);
        return Reply(std::move(message));
    };
    // A HEAD is answered as its GET would be, with that GET's Content-Length
    // (the router would strip the body before the token is added to it).
    const bool head = request.method() == http::verb::head;
    Reply reply;
    if (head) {
        Request get = request;
        get.method(http::verb::get);
        reply = router_(get);
    } else {
        reply = router_(request);
    }
    auto pending = reply.pending();
    if (!pending) {
        Reply carried = carry_token(std::move(reply));
        if (!head) return carried;
        Response message = carried.to_message();
        strip_body(message);
        return message;
    }
    // A held blocking reload: its playlist gets the token when it comes.
    auto carried = std::make_shared<PendingReply>();
    pending->on_complete(
        [carried, carry_token](Reply done) { carried->complete(carry_token(std::move(done))); });
    return carried;
}

bool Routes::known_channel(std::string_view channel) const {
    return channel == store_.options().channel;
}

Reply Routes::master(const Call& call) const {
    const auto channel = call.param(0);
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    if (!call.query.empty()) {
        auto shift = parse_timeshift(call.request.target());
        if (!shift) return bad_request(shift.error().message);
        if (*shift) return timeshift_master(**shift);
    }
    auto playlist = store_.live_master();
    if (!playlist) return not_ready("no segments yet");
    return answer_conditional(call.request, playlist);
}

Reply Routes::media_playlist(const Call& call) const {
    const auto channel = call.param(0);
    const auto rendition = call.param(1);
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    if (!store_.has_rendition(rendition))
        return not_found(fmt::format("unknown rendition '{}'", rendition));
    if (!call.query.empty() && store_.low_latency())
        if (auto held = low_latency_playlist(call, rendition)) return std::move(*held);
    if (!call.query.empty()) {
        auto shift = parse_timeshift(call.request.target());
        if (!shift) return bad_request(shift.error().message);
        auto which = query_value(call.query, "pipeline");
        if (*shift) {
            if (which) return bad_request("pipeline and start/end do not go together");
            return timeshift_media(rendition, **shift);
        }
        if (which) {
            if (*which != "a" && *which != "b") return bad_request("pipeline must be a or b");
            auto listing = store_.pipeline_listing(rendition, (*which)[0]);
            if (!listing)
                return not_found(
                    fmt::format("pipeline {} has no segment of rendition '{}'", *which, rendition));
            return text(kMimePlaylist, kPlaylistCache, render_media_playlist(*listing));
        }
    }
    auto playlist = store_.live_playlist(rendition);
    if (!playlist) return not_ready(fmt::format("no segments yet for rendition '{}'", rendition));
    return answer_conditional(call.request, playlist);
}

// LL-HLS: _HLS_msn=M[&_HLS_part=P] holds the request until the playlist
// has part P of segment M (or all of M); _HLS_skip=YES|v2 asks for the delta
// update. Nullopt when the query has none of them.
std::optional<Reply> Routes::low_latency_playlist(const Call& call,
                                                  std::string_view rendition) const {
    const auto msn_text = query_value(call.query, "_HLS_msn");
    const auto part_text = query_value(call.query, "_HLS_part");
    const auto skip_text = query_value(call.query, "_HLS_skip");
    if (!msn_text && !part_text && !skip_text) return std::nullopt;
    if (skip_text && *skip_text != "YES" && *skip_text != "v2")
        return bad_request("_HLS_skip is YES or v2");
    const bool skip = bool(skip_text);
    if (part_text && !msn_text) return bad_request("_HLS_part needs _HLS_msn");
    int64_t msn = 0;
    int part = -1;
    auto number = [](const std::string& text, auto& out) {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc() && end == text.data() + text.size() && out >= 0;
    };
    if (msn_text && !number(*msn_text, msn))
        return bad_request("_HLS_msn is a media sequence number");
    if (part_text && !number(*part_text, part)) return bad_request("_HLS_part is a part number");
    if (!msn_text) {
        auto now = store_.blocking_playlist(rendition, 0, -1, skip);
        if (!now.prepared() && !now.pending())
            return not_ready(fmt::format("no segments yet for rendition '{}'", rendition));
        return now;
    }
    // RFC 8216bis 6.2.5.2: more than two segments ahead of the newest is an error.
    const int64_t newest = store_.last_msn(rendition);
    if (newest < 0) return not_ready(fmt::format("no segments yet for rendition '{}'", rendition));
    if (msn > newest + 2)
        return bad_request(
            fmt::format("_HLS_msn {} is more than two segments past the newest ({})", msn, newest));
    auto reply = store_.blocking_playlist(rendition, msn, part, skip);
    if (!reply.prepared() && !reply.pending())
        return not_ready(fmt::format("no segments yet for rendition '{}'", rendition));
    return reply;
}

Reply Routes::segment(const Call& call) const {
    const auto channel = call.param(0);
    const auto rendition = call.param(1);
    const auto file = call.param(2);
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    if (!store_.has_rendition(rendition))
        return not_found(fmt::format("unknown rendition '{}'", rendition));
    const auto container = store_.options().container;
    const std::string pipeline =
        call.query.empty() ? std::string() : query_value(call.query, "pipeline").value_or("");
    if (!pipeline.empty() && pipeline != "a" && pipeline != "b")
        return bad_request("pipeline must be a or b");
    if (auto id = core::parse_init_file_name(file); !id.empty()) return init_section(rendition, id);
    if (auto part = parse_part_name(file); part && store_.low_latency()) {
        auto reply = store_.hinted_part(rendition, part->sequence, part->index);
        if (reply.prepared() || reply.pending()) return reply;
        return not_found(fmt::format("part {} of segment {} of rendition '{}' is not listed",
                                     part->index, part->sequence, rendition));
    }
    auto name = parse_segment_name(file);
    if (!name || name->container != container) {
        if (!name && name.error() == SegmentNameProblem::too_long)
            return bad_request("sequence number too long");
        return not_found(fmt::format(
            "segment names are <sequence number>{}{}", core::segment_extension(container),
            container == core::Container::fmp4 ? ", init sections init-<id>.mp4" : ""));
    }
    const int64_t sequence = name->sequence;
    // ?pipeline=a|b: that pipeline's own copy, for monitoring each encoder.
    if (!pipeline.empty()) {
        auto copy = store_.pipeline_copy(rendition, sequence, pipeline[0]);
        if (!copy)
            return not_found(fmt::format("pipeline {} has no segment {} of rendition '{}'",
                                         pipeline, sequence, rendition));
        return make_response(http::status::ok, segment_media_type(container), "no-store",
                             SharedBuffer::from_bytes(std::move(copy)));
    }
    if (auto live = store_.live_segment(rendition, sequence)) return live;
    // Gone from the live store (or from before a restart): the recording,
    // mapped rather than copied into memory (its pages are read as the
    // socket write needs them). Expiry unlinks the file, which leaves a
    // mapping whole.
    if (const Dvr* dvr = dvr_.load())
        if (auto recorded = dvr->find(std::string(rendition), sequence))
            if (auto mapped = SharedBuffer::map_file(recorded->file))
                return make_response(http::status::ok, segment_media_type(container), kSegmentCache,
                                     std::move(*mapped));
    return not_found(fmt::format("segment {} of rendition '{}' is not held", sequence, rendition));
}

// A recorded segment's thumbnail (SEQ.jpg), kept with the DVR.
Reply Routes::thumbnail(const Call& call) const {
    const auto channel = call.param(0);
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    const auto file = call.param(1);
    int64_t sequence = 0;
    const auto digits = file.substr(0, file.size() < 4 ? 0 : file.size() - 4);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), sequence);
    if (!file.ends_with(".jpg") || digits.empty() || ec != std::errc() ||
        end != digits.data() + digits.size() || digits.front() == '0')
        return not_found(fmt::format("thumbnails are named <sequence number>.jpg, not '{}'", file));
    if (const Dvr* dvr = dvr_.load(); dvr && !dvr->folder().empty())
        if (auto mapped = SharedBuffer::map_file(thumbnail_file(dvr->folder(), sequence)))
            return make_response(http::status::ok, "image/jpeg", kSegmentCache, std::move(*mapped));
    return not_found(fmt::format("no thumbnail of segment {}", sequence));
}

// An fmp4 rendition's init section: from the live store, else from the recording.
Reply Routes::init_section(std::string_view rendition, std::string_view id) const {
    if (auto live = store_.live_init(rendition, id)) return live;
    if (const Dvr* dvr = dvr_.load())
        if (auto file = dvr->init_file(rendition, id))
            if (auto mapped = SharedBuffer::map_file(*file))
                return make_response(http::status::ok, kMimeMp4, kSegmentCache, std::move(*mapped));
    return not_found(fmt::format("no init section {} of rendition '{}'", id, rendition));
}

std::optional<DvrFigures> Routes::dvr_figures() const {
    const Dvr* dvr = dvr_.load();
    if (!dvr) return std::nullopt;
    return DvrFigures{dvr->segments_on_disk(), dvr->bytes_on_disk(), dvr->expired(),
                      dvr->dropped(),          dvr->extent(),        dvr->health()};
}

std::optional<HttpFigures> Routes::http_figures() const {
    if (!http_figures_) return std::nullopt;
    return http_figures_();
}

Response Routes::timeshift_master(const TimeShiftWindow& window) const {
    const Dvr* dvr = dvr_.load();
    if (!dvr) return not_found("this origin keeps no DVR");
    const int64_t now = core::utc_ms_to_media(now_ms_());
    auto variants = timeshift_variants(*dvr, store_.options().renditions, window, now,
                                       store_.options().segment_length);
    if (!variants) return refused(variants.error());
    return text(kMimePlaylist, kPlaylistCache, render_master_playlist(*variants));
}

Response Routes::timeshift_media(std::string_view rendition, const TimeShiftWindow& window) const {
    const Dvr* dvr = dvr_.load();
    if (!dvr) return not_found("this origin keeps no DVR");
    const int64_t now = core::utc_ms_to_media(now_ms_());
    auto listing = timeshift_listing(*dvr, rendition, window, now, store_.options().segment_length);
    if (!listing) return refused(listing.error());
    const bool vod = listing->type == PlaylistType::vod;
    return text(kMimePlaylist, vod ? kVodCache : kPlaylistCache, render_media_playlist(*listing));
}

Reply Routes::channel_status(const Call& call) const {
    const auto channel = call.param(0);
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
    return make_response(
        http::status::ok, kMimeJson, "no-store",
        SharedBuffer::from_string(channel_status_json(status_, store_.failover_status(), now_ms_(),
                                                      dvr_figures(), http_figures())));
}

Reply Routes::metrics(const Call&) const {
    return make_response(
        http::status::ok, kMimePrometheus, "no-store",
        SharedBuffer::from_string(prometheus_metrics(status_, store_.failover_status(), now_ms_(),
                                                     dvr_figures(), http_figures())));
}

Reply Routes::switch_pipeline(const Call& call) const {
    const auto channel = call.param(0);
    if (!known_channel(channel)) return not_found(fmt::format("unknown channel '{}'", channel));
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
    return channel_status(call);
}

Reply Routes::healthz(const Call&) const {
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
