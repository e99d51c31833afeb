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
constexpr std::size_t kMaxSequenceDigits = 18;
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

Response method_not_allowed(std::string_view allow) {
    auto response = make_error(http::status::method_not_allowed, "method_not_allowed",
                               fmt::format("allowed: {}", allow));
    response.set(http::field::allow, allow);
    return response;
}

// Compares in time that depends only on the length of `given`, so the
// answer's timing tells nothing about how much of a guess was right.
bool same_secret(std::string_view given, std::string_view secret) {
    if (secret.empty()) return false;
    unsigned char diff = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
    return diff == 0;
}

bool plain_segment(std::string_view segment) {
    if (segment.empty() || segment == "." || segment == "..") return false;
    return std::none_of(segment.begin(), segment.end(),
                        [](char c) { return c == '/' || c == '\\' || c == '\0'; });
}

}  // namespace

IngestOptions IngestOptions::from_store(const StoreOptions& store, std::string token) {
    return {store.channel, store.renditions, store.segment_length, std::move(token)};
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
      }) {}

IngestRoutes::IngestRoutes(IngestOptions options, SegmentStore& store, core::ChannelStatus& status,
                           core::TimeAnchor& anchor)
    : IngestRoutes(
          std::move(options), store,
          [&store](std::string_view rendition, int64_t sequence, char pipeline) {
              return store.pipeline_copy(rendition, sequence, pipeline) != nullptr;
          },
          status, anchor) {}

bool IngestRoutes::handles(std::string_view target) {
    return target.starts_with(ingest::kPrefix);
}

Response IngestRoutes::operator()(const Request& request) const {
    Response response = route(request);
    if (response.result_int() >= 400) ++rejected_;
    return response;
}

bool IngestRoutes::authorized(const Request& request) const {
    auto it = request.find(http::field::authorization);
    if (it == request.end()) return false;
    std::string_view value(it->value().data(), it->value().size());
    constexpr std::string_view kScheme = "Bearer ";
    if (value.size() < kScheme.size() ||
        !boost::beast::iequals(value.substr(0, kScheme.size()), kScheme))
        return false;
    return same_secret(value.substr(kScheme.size()), options_.token);
}

core::PipelineRuntimeStatus* IngestRoutes::pipeline_entry(std::string_view name) const {
    if (name.size() != 1) return nullptr;
    for (auto& p : status_.pipelines)
        if (p->id == name[0]) return p.get();
    return nullptr;
}

Response IngestRoutes::route(const Request& request) const {
    // Nothing about the channel is told to a caller without the token.
    if (!authorized(request)) {
        if (unauthorized_++ % 100 == 0)
            log::warn(kLog, "refused {} {}: no valid ingest token (refusals so far: {})",
                      request.method_string(), request.target(), unauthorized_.load());
        auto response = make_error(http::status::unauthorized, "unauthorized",
                                   "ingest needs 'Authorization: Bearer' with the ingest token");
        response.set(http::field::www_authenticate, "Bearer realm=\"onair-ingest\"");
        return response;
    }
    auto target = request.target();
    auto parsed =
        boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
    if (!parsed) return bad_request("the request target is not an absolute path");
    std::vector<std::string> path;
    for (std::string segment : parsed->segments()) {
        if (!plain_segment(segment)) return bad_request("malformed path segment");
        path.push_back(std::move(segment));
    }
    if (path.size() < 4 || path[0] != "ingest" || path[1] != "v1") return not_found("no such path");
    if (path[2] != options_.channel) return not_found(fmt::format("unknown channel '{}'", path[2]));

    const http::verb method = request.method();
    if (path.size() == 4 && path[3] == "anchor") {
        if (method != http::verb::post) return method_not_allowed("POST");
        return lock_anchor(request);
    }
    if (path.size() == 5 && path[4] == "status") {
        if (method != http::verb::put) return method_not_allowed("PUT");
        return put_status(request, path);
    }
    if (path.size() == 6) {
        if (method != http::verb::put) return method_not_allowed("PUT");
        return push_segment(request, path);
    }
    return not_found("no such path");
}

Response IngestRoutes::push_segment(const Request& request,
                                    const std::vector<std::string>& path) const {
    const std::string& pipeline = path[3];
    const std::string& rendition = path[4];
    std::string_view file = path[5];
    if (pipeline != "a" && pipeline != "b") return bad_request("pipeline must be a or b");
    if (!pipeline_entry(pipeline))
        return not_found(fmt::format("pipeline {} is not configured for this channel", pipeline));
    if (std::find(options_.renditions.begin(), options_.renditions.end(), rendition) ==
        options_.renditions.end())
        return not_found(fmt::format("unknown rendition '{}'", rendition));

    std::string_view digits = file.ends_with(".ts") ? file.substr(0, file.size() - 3) : "";
    bool decimal =
        !digits.empty() && digits.size() <= kMaxSequenceDigits &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        (digits.size() == 1 || digits[0] != '0');
    if (!decimal) return bad_request("segment names are <sequence number>.ts");
    int64_t sequence = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), sequence);

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
    if (auto problem = ingest::ts_problem(body); !problem.empty()) return bad_request(problem);

    boost::json::object answer;
    answer["sequence"] = sequence;
    if (held_ && held_(rendition, sequence, pipeline[0])) {
        ++duplicates_;
        answer["stored"] = false;
        answer["reason"] = "duplicate";
        return json_ok(http::status::ok, std::move(answer));
    }
    core::Segment segment = std::move(*meta);
    segment.rendition = rendition;
    segment.pipeline = pipeline[0];
    segment.sequence = sequence;
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

Response IngestRoutes::put_status(const Request& request,
                                  const std::vector<std::string>& path) const {
    const std::string& pipeline = path[3];
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
