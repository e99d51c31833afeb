#include "origin/ingest_routes.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "core/log.hpp"
#include "origin/ingest_protocol.hpp"

namespace onair::origin {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kLog = "ingest";
constexpr std::size_t kMaxJsonBody = 64 * 1024;

Response bad_request(std::string_view reason) {
    return make_error(http::status::bad_request, "bad_request", reason);
}

Response not_found(std::string_view reason) {
    return make_error(http::status::not_found, "not_found", reason);
}

Response json_ok(http::status status, boost::json::object body) {
    return make_response(status, kMimeJson, "no-store",
                         SharedBuffer::from_string(boost::json::serialize(body)));
}

}  // namespace

IngestOptions IngestOptions::from_store(const StoreOptions& store, std::string token) {
    return {store.channel,    store.renditions, store.segment_length,
            std::move(token), store.container,  store.part_length};
}

IngestRoutes::IngestRoutes(IngestOptions options, core::SegmentSink& sink, HeldCopy held,
                           core::ChannelStatus& status, core::TimeAnchor& anchor)
    : options_(std::move(options)),
      sink_(sink),
      held_(std::move(held)),
      status_(status),
      anchor_(anchor),
      now_ms_([] {
          using namespace std::chrono;
          return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
      }) {
    add_routes(router_);
}

IngestRoutes::IngestRoutes(IngestOptions options, SegmentStore& store, core::ChannelStatus& status,
                           core::TimeAnchor& anchor)
    : IngestRoutes(
          std::move(options), store,
          [&store](std::string_view rendition, int64_t sequence, char pipeline) {
              return store.pipeline_copy(rendition, sequence, pipeline) != nullptr;
          },
          status, anchor) {}

void IngestRoutes::add_routes(Router& router) const {
    // Every answer is counted; a caller without the token is told nothing
    // about the channel (401 before the path's names are looked at).
    auto guarded = [this](auto answer) {
        return [this, answer](const Call& call) -> Reply {
            Response response =
                authorized(call.request) ? answer(call) : unauthorized(call.request);
            if (response.result_int() >= 400) ++rejected_;
            return response;
        };
    };
    router.add(http::verb::post, "/ingest/v1/{channel}/anchor", guarded([this](const Call& call) {
                   if (call.param(0) != options_.channel) return unknown_channel(call.param(0));
                   return lock_anchor(call.request);
               }));
    router.add(http::verb::put, "/ingest/v1/{channel}/{pipeline}/status",
               guarded([this](const Call& call) {
                   if (call.param(0) != options_.channel) return unknown_channel(call.param(0));
                   return put_status(call.request, call.param(1));
               }));
    router.add(http::verb::put, "/ingest/v1/{channel}/{pipeline}/{rendition}/{file}",
               guarded([this](const Call& call) {
                   if (call.param(0) != options_.channel) return unknown_channel(call.param(0));
                   if (auto part = parse_part_name(call.param(3)))
                       return push_part(call.request, call.param(1), call.param(2), *part);
                   return push_segment(call.request, call.param(1), call.param(2), call.param(3));
               }));
}

bool IngestRoutes::authorized(const Request& request) const {
    return bearer_matches(request, options_.token);
}

Response IngestRoutes::unauthorized(const Request& request) const {
    if (unauthorized_++ % 100 == 0)
        log::warn(kLog, "refused {} {}: no valid ingest token (refusals so far: {})",
                  request.method_string(), request.target(), unauthorized_.load());
    auto response = make_error(http::status::unauthorized, "unauthorized",
                               "ingest needs 'Authorization: Bearer' with the ingest token");
    response.set(http::field::www_authenticate, "Bearer realm=\"onair-ingest\"");
    return response;
}

Response IngestRoutes::unknown_channel(std::string_view channel) const {
    return not_found(fmt::format("unknown channel '{}'", channel));
}

core::PipelineRuntimeStatus* IngestRoutes::pipeline_entry(std::string_view name) const {
    if (name.size() != 1) return nullptr;
    for (auto& p : status_.pipelines)
        if (p->id == name[0]) return p.get();
    return nullptr;
}

std::optional<Response> IngestRoutes::wrong_names(std::string_view pipeline,
                                                  std::string_view rendition) const {
    if (pipeline != "a" && pipeline != "b") return bad_request("pipeline must be a or b");
    if (!pipeline_entry(pipeline))
        return not_found(fmt::format("pipeline {} is not configured for this channel", pipeline));
    if (std::find(options_.renditions.begin(), options_.renditions.end(), rendition) ==
        options_.renditions.end())
        return not_found(fmt::format("unknown rendition '{}'", rendition));
    return std::nullopt;
}

Response IngestRoutes::push_part(const Request& request, std::string_view pipeline,
                                 std::string_view rendition, PartName name) const {
    if (auto wrong = wrong_names(pipeline, rendition)) return std::move(*wrong);
    if (options_.part_length <= 0 || options_.container != core::Container::fmp4)
        return bad_request("this channel has no LL-HLS parts (hls.part is off)");
    auto part = ingest::read_part_headers(request.base());
    if (!part) return bad_request(part.error());
    const core::SegmentGrid grid(options_.segment_length, options_.part_length);
    if (grid.index_of(part->start) != name.sequence || grid.part_of(part->start) != name.index)
        return bad_request(fmt::format("part {}.{} does not match {} {} (part {}.{} of {} ticks)",
                                       name.sequence, name.index, ingest::kStart, part->start,
                                       grid.index_of(part->start), grid.part_of(part->start),
                                       options_.part_length));
    if (part->duration <= 0 || part->duration > 2 * options_.part_length)
        return bad_request(fmt::format("{} {} is not in (0, {}]", ingest::kDuration, part->duration,
                                       2 * options_.part_length));
    if (part->frames <= 0) return bad_request(fmt::format("{} must be positive", ingest::kFrames));
    const std::string& body = request.body();
    if (auto problem = ingest::cmaf_problem(body); !problem.empty()) return bad_request(problem);
    part->rendition = std::string(rendition);
    part->pipeline = pipeline[0];
    part->sequence = name.sequence;
    part->index = name.index;
    part->bytes = std::make_shared<const core::Bytes>(body.begin(), body.end());
    sink_.on_part(std::move(*part));
    boost::json::object answer;
    answer["sequence"] = name.sequence;
    answer["part"] = name.index;
    answer["stored"] = true;
    return json_ok(http::status::created, std::move(answer));
}

Response IngestRoutes::push_segment(const Request& request, std::string_view pipeline,
                                    std::string_view rendition, std::string_view file) const {
    if (auto wrong = wrong_names(pipeline, rendition)) return std::move(*wrong);
    auto parsed = parse_segment_name(file);
    if (!parsed || parsed->container != options_.container)
        return bad_request(fmt::format("segment names are <sequence number>{}",
                                       core::segment_extension(options_.container)));
    const int64_t sequence = parsed->sequence;

    auto meta = ingest::read_segment_headers(request.base());
    if (!meta) return bad_request(meta.error());
    const int64_t length = options_.segment_length;
    if (length <= 0)
        return make_error(http::status::internal_server_error, "internal_error",
                          "no segment length configured");
    if (int64_t expected = core::floor_div(meta->start, length); expected != sequence)
        return bad_request(fmt::format("sequence {} does not match {} {} (segment {} of {} ticks)",
                                       sequence, ingest::kStart, meta->start, expected, length));
    if (meta->duration <= 0 || meta->duration > 2 * length)
        return bad_request(
            fmt::format("{} {} is not in (0, {}]", ingest::kDuration, meta->duration, 2 * length));
    if (meta->frames <= 0) return bad_request(fmt::format("{} must be positive", ingest::kFrames));
    const std::string& body = request.body();
    const bool cmaf = options_.container == core::Container::fmp4;
    if (cmaf != bool(meta->init))
        return bad_request(
            cmaf ? fmt::format("a CMAF segment needs its init section in {}", ingest::kInit)
                 : fmt::format("an MPEG-TS segment has no {}", ingest::kInit));
    if (auto problem = cmaf ? ingest::cmaf_problem(body) : ingest::ts_problem(body);
        !problem.empty())
        return bad_request(problem);

    boost::json::object answer;
    answer["sequence"] = sequence;
    if (held_ && held_(rendition, sequence, pipeline[0])) {
        ++duplicates_;
        answer["stored"] = false;
        answer["reason"] = "duplicate";
        return json_ok(http::status::ok, std::move(answer));
    }
    core::Segment segment = std::move(*meta);
    segment.rendition = std::string(rendition);
    segment.pipeline = pipeline[0];
    segment.sequence = sequence;
    segment.container = options_.container;
    segment.bytes = std::make_shared<const core::Bytes>(body.begin(), body.end());
    sink_.on_segment(std::move(segment));
    ++stored_;
    answer["stored"] = true;
    return json_ok(http::status::created, std::move(answer));
}

Response IngestRoutes::lock_anchor(const Request& request) const {
    if (request.body().size() > kMaxJsonBody)
        return make_error(http::status::payload_too_large, "body_too_large",
                          fmt::format("an anchor query is at most {} bytes", kMaxJsonBody));
    auto query = ingest::parse_anchor_query(request.body());
    if (!query) return bad_request(query.error());
    boost::json::object answer;
    answer["offset"] = anchor_.lock(query->pts, query->now, query->lag, query->tolerance);
    return json_ok(http::status::ok, std::move(answer));
}

Response IngestRoutes::put_status(const Request& request, std::string_view pipeline) const {
    if (pipeline != "a" && pipeline != "b") return bad_request("pipeline must be a or b");
    core::PipelineRuntimeStatus* entry = pipeline_entry(pipeline);
    if (!entry)
        return not_found(fmt::format("pipeline {} is not configured for this channel", pipeline));
    if (request.body().size() > kMaxJsonBody)
        return make_error(http::status::payload_too_large, "body_too_large",
                          fmt::format("a status report is at most {} bytes", kMaxJsonBody));
    auto report = ingest::parse_status(request.body());
    if (!report) return bad_request(report.error());
    report->apply_to(*entry);
    reported_ms_[pipeline[0] - 'a'] = std::max<int64_t>(1, now_ms_());
    boost::json::object answer;
    answer["updated"] = true;
    return json_ok(http::status::ok, std::move(answer));
}

void IngestRoutes::expire_reports(int64_t now_ms, int64_t max_age_ms) const {
    for (char id : {'a', 'b'}) {
        auto& reported = reported_ms_[id - 'a'];
        int64_t last = reported.load();
        if (last == 0 || now_ms - last <= max_age_ms) continue;
        // Only if no report came in meanwhile.
        if (!reported.compare_exchange_strong(last, 0)) continue;
        core::PipelineRuntimeStatus* entry = pipeline_entry(std::string_view(&id, 1));
        if (!entry) continue;
        entry->input.state = core::InputState::stopped;
        entry->input.set_note(
            fmt::format("no status report from its encoder for {} s", (now_ms - last) / 1000));
        log::warn(kLog, "pipeline {}: its encoder stopped reporting ({} s ago)", id,
                  (now_ms - last) / 1000);
    }
}

}  // namespace onair::origin
