#include "origin/harvest.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <future>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include "core/durable.hpp"
#include "core/log.hpp"
#include "core/media_time.hpp"
#include "core/units.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLog = "harvest";
constexpr int kWorkerNice = 10;
constexpr std::string_view kMaster = "master.m3u8";
constexpr std::string_view kMediaPlaylist = "index.m3u8";
constexpr std::string_view kMp4 = "clip.mp4";
constexpr std::string_view kPartial = ".partial";
constexpr std::string_view kDeleted = ".deleted";
constexpr size_t kMaxTitle = 500;
constexpr size_t kMaxDescription = 5000;
constexpr size_t kMaxEvent = 200;
constexpr std::array<std::string_view, 8> kFields = {"id",    "start",       "end",   "last",
                                                     "title", "description", "event", "accuracy"};

int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// `text` as an unsigned decimal of exactly text.size() digits.
std::optional<int> number(std::string_view text) {
    if (!digits(text)) return std::nullopt;
    int value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

// "SS[.fff...]" fraction digits as milliseconds (beyond the third: dropped).
std::optional<int64_t> fraction_ms(std::string_view text) {
    if (!digits(text)) return std::nullopt;
    int64_t ms = 0;
    for (size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < text.size() ? text[i] - '0' : 0);
    return ms;
}

std::optional<int64_t> parse_epoch_seconds(std::string_view text) {
    auto dot = text.find('.');
    auto whole = text.substr(0, dot);
    if (!digits(whole) || whole.size() > 12) return std::nullopt;
    int64_t seconds = 0;
    std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
    int64_t ms = 0;
    if (dot != std::string_view::npos) {
        auto f = fraction_ms(text.substr(dot + 1));
        if (!f) return std::nullopt;
        ms = *f;
    }
    return seconds * 1000 + ms;
}

// Z, +HH:MM, +HHMM or +HH as minutes east of UTC.
std::optional<int> zone_minutes(std::string_view zone) {
    if (zone == "Z" || zone == "z") return 0;
    if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
    const int sign = zone[0] == '-' ? -1 : 1;
    std::string_view rest = zone.substr(1);
    std::optional<int> hours = number(rest.substr(0, 2)), minutes = 0;
    if (rest.size() == 5 && rest[2] == ':')
        minutes = number(rest.substr(3));
    else if (rest.size() == 4)
        minutes = number(rest.substr(2));
    else if (rest.size() != 2)
        return std::nullopt;
    if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    return sign * (*hours * 60 + *minutes);
}

std::optional<int64_t> parse_iso8601(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.fff][zone]
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    auto year = number(text.substr(0, 4)), month = number(text.substr(5, 2)),
         day = number(text.substr(8, 2)), hour = number(text.substr(11, 2)),
         minute = number(text.substr(14, 2)), second = number(text.substr(17, 2));
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    std::string_view rest = text.substr(19);
    int64_t ms = 0;
    if (rest.starts_with('.')) {
        auto end = rest.find_first_not_of("0123456789", 1);
        if (end == std::string_view::npos) return std::nullopt;  // no zone
        auto f = fraction_ms(rest.substr(1, end - 1));
        if (!f) return std::nullopt;
        ms = *f;
        rest = rest.substr(end);
    }
    auto zone = zone_minutes(rest);
    using namespace std::chrono;
    year_month_day date{std::chrono::year(*year), std::chrono::month(unsigned(*month)),
                        std::chrono::day(unsigned(*day))};
    if (!zone || !date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    const int64_t days_since_epoch = sys_days(date).time_since_epoch().count();
    const int64_t seconds =
        days_since_epoch * 86400 + *hour * 3600 + *minute * 60 + *second - int64_t(*zone) * 60;
    return seconds * 1000 + ms;
}

std::string when(int64_t utc_ms) {
    return format_program_date_time(utc_ms);
}

std::string quoted(std::string_view text) {
    constexpr size_t kShown = 40;
    if (text.size() > kShown) return fmt::format("\"{}...\"", text.substr(0, kShown));
    return fmt::format("\"{}\"", text);
}

// A time field: ISO 8601 text with a zone, epoch seconds as text or number.
std::optional<int64_t> time_value(const boost::json::value& v) {
    if (v.is_string()) return parse_utc_time(v.as_string());
    // Below 1e12 s (tens of thousands of years): no overflow in ms.
    constexpr int64_t kMaxSeconds = 1'000'000'000'000;
    if (v.is_int64() && v.as_int64() >= 0 && v.as_int64() < kMaxSeconds) return v.as_int64() * 1000;
    if (v.is_double() && v.as_double() >= 0 && v.as_double() < 1e12)
        return std::llround(v.as_double() * 1000);
    return std::nullopt;
}

// "60s", "1m30s", "90" (seconds) or a number of seconds, in ms.
std::optional<int64_t> duration_value(const boost::json::value& v) {
    if (v.is_string()) {
        auto d = core::parse_duration(v.as_string());
        if (!d) return std::nullopt;
        return std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
    }
    constexpr int64_t kMaxSeconds = int64_t(1) << 40;  // no overflow in ms
    if (v.is_int64() && v.as_int64() > -kMaxSeconds && v.as_int64() < kMaxSeconds)
        return v.as_int64() * 1000;
    if (v.is_double() && std::abs(v.as_double()) < 1e12) return std::llround(v.as_double() * 1000);
    return std::nullopt;
}

bool has_control_characters(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// An optional text field (absent or null: nullopt); a problem goes to `reasons`.
std::optional<std::string> text_field(const boost::json::object& body, std::string_view key,
                                      size_t max, bool one_line,
                                      std::vector<std::string>& reasons) {
    const auto* v = body.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
        reasons.push_back(fmt::format("\"{}\" must be a string", key));
        return std::nullopt;
    }
    std::string_view text = v->as_string();
    if (text.empty()) {
        reasons.push_back(fmt::format("\"{}\" must not be empty", key));
        return std::nullopt;
    }
    if (text.size() > max) {
        reasons.push_back(fmt::format("\"{}\" is longer than {} bytes", key, max));
        return std::nullopt;
    }
    if (one_line && has_control_characters(text)) {
        reasons.push_back(fmt::format("\"{}\" must be one line without control characters", key));
        return std::nullopt;
    }
    return std::string(text);
}

std::string generated_id(int64_t now_ms) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    // UTC time first, so generated ids sort by creation; then 32 random bits.
    std::string stamp = when(now_ms);  // 2026-11-22T04:48:00.123Z
    std::string compact;
    for (char c : stamp.substr(0, 19))
        if (c != '-' && c != ':') compact += c;
    return fmt::format("{}Z-{:08x}", compact, uint32_t(random()));
}

// A hard link to the DVR's file (the clip keeps it when the DVR expires
// it), or a copy where no link can be made (another file system).
core::Result<> link_or_copy(const fs::path& from, const fs::path& to) {
    std::error_code link_error, copy_error, exists_error;
    fs::create_hard_link(from, to, link_error);
    if (!link_error) return {};
    if (!fs::exists(from, exists_error)) return core::fail("gone from the DVR (expired)");
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, copy_error);
    if (!copy_error) return {};
    return core::fail(fmt::format("cannot link ({}) or copy ({}) {}", link_error.message(),
                                  copy_error.message(), from.string()));
}

core::Result<> write_text(const fs::path& file, std::string_view text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    out.close();
    if (!out) return core::fail(fmt::format("cannot write {}", file.string()));
    return {};
}

// RFC 8216 4.3.4.2: the largest bit rate of any run of contiguous segments
// lasting 0.5 to 1.5 target durations (so a short frame-trimmed end does
// not count alone); the average when the clip is shorter than that.
int64_t peak_bitrate(const std::vector<std::pair<int64_t, int64_t>>& sizes, int target_seconds,
                     int64_t average) {
    const int64_t target = int64_t(target_seconds) * core::kMediaClock;
    int64_t peak = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
        int64_t bytes = 0, ticks = 0;
        for (size_t j = i; j < sizes.size() && 2 * ticks <= 3 * target; ++j) {
            bytes += sizes[j].first;
            ticks += sizes[j].second;
            if (2 * ticks >= target && 2 * ticks <= 3 * target)
                peak = std::max(peak, bytes * 8 * core::kMediaClock / ticks);
        }
    }
    return peak > 0 ? peak : average;
}

core::Result<> error_with(std::string_view what, const core::Error& error) {
    return core::fail(fmt::format("{}: {}", what, error.message), error.code);
}

}  // namespace

bool valid_clip_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::optional<int64_t> parse_utc_time(std::string_view text) {
    if (!text.empty() && (digits(text.substr(0, 1))) && text.find('-') == std::string_view::npos)
        return parse_epoch_seconds(text);
    return parse_iso8601(text);
}

std::expected<ClipRequest, std::vector<std::string>> parse_clip_request(
    const boost::json::value& value, const std::optional<DvrWindow>& window) {
    std::vector<std::string> reasons;
    if (!value.is_object())
        return std::unexpected(std::vector<std::string>{
            "the body must be a JSON object such as {\"start\": \"2026-11-22T04:48:00Z\", \"end\": "
            "\"2026-11-22T04:49:00Z\", \"title\": \"...\"}"});
    const auto& body = value.as_object();
    ClipRequest request;

    for (const auto& [key, unused] : body) {
        if (std::find(kFields.begin(), kFields.end(), key) != kFields.end()) continue;
        auto hint = core::closest_match(key, kFields);
        reasons.push_back(hint.empty() ? fmt::format("unknown field {}", quoted(key))
                                       : fmt::format("unknown field {} (did you mean \"{}\"?)",
                                                     quoted(key), hint));
    }

    if (const auto* id = body.if_contains("id"); id && !id->is_null()) {
        if (id->is_string() && valid_clip_id(id->as_string()))
            request.id = std::string(id->as_string());
        else
            reasons.push_back(
                "\"id\" must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-' (or left out)");
    }

    const auto* title = body.if_contains("title");
    if (!title || title->is_null())
        reasons.push_back("\"title\" is required");
    else if (auto t = text_field(body, "title", kMaxTitle, true, reasons))
        request.title = std::move(*t);
    request.description = text_field(body, "description", kMaxDescription, false, reasons);
    request.event = text_field(body, "event", kMaxEvent, true, reasons);

    if (const auto* a = body.if_contains("accuracy"); a && !a->is_null()) {
        auto accuracy = a->is_string() ? parse_clip_accuracy(a->as_string()) : std::nullopt;
        if (accuracy)
            request.accuracy = *accuracy;
        else
            reasons.push_back("\"accuracy\" must be \"segment\" (the default) or \"frame\"");
    }

    // The range: start and end, or the last so long of what the DVR holds.
    const auto* start = body.if_contains("start");
    const auto* end = body.if_contains("end");
    const auto* last = body.if_contains("last");
    std::optional<int64_t> start_ms, end_ms;
    if (last && (start || end)) {
        reasons.push_back("give either \"last\" or \"start\" and \"end\", not both");
    } else if (last) {
        auto length = duration_value(*last);
        if (!length || *length <= 0)
            reasons.push_back(
                "\"last\" must be a duration such as \"60s\", \"5m\" or 60 (seconds)");
        else if (*length > kMaxClipMs)
            reasons.push_back(
                fmt::format("\"last\" is {}; a clip lasts at most 24h",
                            core::format_duration(std::chrono::milliseconds(*length))));
        else if (window) {
            end_ms = core::media_to_utc_ms(window->last);
            start_ms = *end_ms - *length;
        }
    } else {
        constexpr std::string_view kTimeForm =
            "ISO 8601 with a zone (2026-11-22T04:48:00Z, 2026-11-22T05:48:00+01:00) or epoch "
            "seconds";
        if (!start)
            reasons.push_back("\"start\" is required (or \"last\", such as \"60s\")");
        else if (!(start_ms = time_value(*start)))
            reasons.push_back(fmt::format("\"start\" must be {}", kTimeForm));
        if (!end)
            reasons.push_back("\"end\" is required");
        else if (!(end_ms = time_value(*end)))
            reasons.push_back(fmt::format("\"end\" must be {}", kTimeForm));
    }

    if (start_ms && end_ms) {
        if (*start_ms >= *end_ms)
            reasons.push_back(fmt::format("\"start\" ({}) must be before \"end\" ({})",
                                          when(*start_ms), when(*end_ms)));
        else if (*end_ms - *start_ms > kMaxClipMs)
            reasons.push_back(
                fmt::format("the clip would last {}; at most 24h",
                            core::format_duration(std::chrono::milliseconds(*end_ms - *start_ms))));
    }
    if ((start_ms || end_ms || last) && !window) {
        reasons.push_back("the DVR holds no segments yet");
    } else if (window) {
        if (end_ms && core::utc_ms_to_media(*end_ms) > window->last)
            reasons.push_back(
                fmt::format("\"end\" ({}) is after the newest recorded segment, which ends at {}",
                            when(*end_ms), when(core::media_to_utc_ms(window->last))));
        if (start_ms && core::utc_ms_to_media(*start_ms) < window->first)
            reasons.push_back(fmt::format(
                "\"start\" ({}) is before the DVR window, whose oldest segment starts at {}",
                when(*start_ms), when(core::media_to_utc_ms(window->first))));
    }

    if (!reasons.empty()) return std::unexpected(std::move(reasons));
    request.start_ms = *start_ms;
    request.end_ms = *end_ms;
    return request;
}

boost::json::object clip_json(const ClipRecord& r) {
    auto optional_text = [](const std::optional<std::string>& v) -> boost::json::value {
        if (!v) return nullptr;
        return boost::json::string(*v);
    };
    auto url = [](const std::string& path) -> boost::json::value {
        if (path.empty()) return nullptr;
        return boost::json::string("/vod/" + path);
    };
    boost::json::object json;
    json["id"] = r.id;
    json["channel"] = r.channel;
    json["title"] = r.title;
    json["description"] = optional_text(r.description);
    json["event"] = optional_text(r.event);
    json["start"] = when(r.start_ms);
    json["end"] = when(r.end_ms);
    json["accuracy"] = to_string(r.accuracy);
    json["rendition"] = r.rendition;
    json["status"] = to_string(r.status);
    json["message"] = r.message.empty() ? boost::json::value(nullptr)
                                        : boost::json::value(boost::json::string(r.message));
    json["created"] = when(r.created_ms);
    json["finished"] = r.finished_ms ? boost::json::value(boost::json::string(when(*r.finished_ms)))
                                     : boost::json::value(nullptr);
    json["duration"] = r.duration_ms ? boost::json::value(double(*r.duration_ms) / 1000.0)
                                     : boost::json::value(nullptr);
    json["master"] = url(r.master);
    json["mp4"] = url(r.mp4);
    return json;
}

HarvestOptions HarvestOptions::from_config(const core::ChannelConfig& config) {
    HarvestOptions o;
    o.channel = config.channel;
    o.ladder = config.ladder;
    o.encoder = config.encoder;
    o.mp4_rendition = config.clips.rendition;
    o.folder = fs::path(config.data_dir) / "clips";
    o.concurrency = config.clips.concurrency;
    return o;
}

HarvestService::HarvestService(HarvestOptions options, ClipCatalog& catalog, const Dvr* dvr,
                               core::ClipCutter* media, Notify notify)
    : options_(std::move(options)),
      catalog_(catalog),
      dvr_(dvr),
      media_(media),
      notify_(std::move(notify)) {
    if (options_.mp4_rendition.empty() && !options_.ladder.empty())
        options_.mp4_rendition = options_.ladder.front().name;
    if (!options_.now_ms) options_.now_ms = system_now_ms;
}

HarvestService::~HarvestService() {
    stop();
}

int64_t HarvestService::now_ms() const {
    return options_.now_ms();
}

core::Result<> HarvestService::start() {
    std::error_code ec;
    fs::create_directories(options_.folder, ec);
    if (ec)
        return core::fail(fmt::format("clip store {}: {}", options_.folder.string(), ec.message()));
    sweep();
    if (auto ok = recover(); !ok) return ok;
    {
        std::lock_guard lock(mutex_);
        accepting_ = true;
    }
    for (int i = 0; i < std::max(1, options_.concurrency); ++i)
        workers_.emplace_back([this](std::stop_token stop) { work(stop); });
    return {};
}

void HarvestService::stop() {
    {
        std::lock_guard lock(mutex_);
        accepting_ = false;
    }
    for (auto& worker : workers_) worker.request_stop();
    workers_.clear();  // joins
    std::lock_guard lock(mutex_);
    if (!queue_.empty()) {
        log::info(kLog, "stopped with {} task(s) waiting; their clips resume at the next start",
                  queue_.size());
        queue_.clear();
    }
    idle_.notify_all();
}

// What an interrupted run left: half-built assets and folders renamed away
// by a DELETE. Names with a '.' are never a clip's (ids have none).
void HarvestService::sweep() const {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.folder, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.ends_with(kPartial) && name.find(kDeleted) == std::string::npos) continue;
        std::error_code removed;
        fs::remove_all(entry.path(), removed);
        if (removed)
            log::warn(kLog, "cannot remove {}: {}", entry.path().string(), removed.message());
    }
}

core::Result<> HarvestService::recover() {
    auto unfinished = catalog_.unfinished();
    if (!unfinished) return error_with("clip catalog", unfinished.error());
    const auto held = window();
    for (auto& clip : *unfinished) {
        // Never a half asset: whatever the last run built is built again.
        std::error_code ec;
        fs::remove_all(asset_folder(clip.id), ec);
        const int64_t from = core::utc_ms_to_media(clip.start_ms);
        const int64_t to = core::utc_ms_to_media(clip.end_ms);
        if (dvr_ && held && held->first <= from && to <= held->last) {
            log::info(kLog, "clip {}: interrupted by a stop; cutting it again", clip.id);
            enqueue([this, clip](std::stop_token stop) { run_job(clip, stop); });
        } else {
            finish(std::move(clip),
                   dvr_ ? "interrupted by a stop, and the DVR no longer holds its range"
                        : "interrupted by a stop, and no DVR to cut it again from",
                   0);
        }
    }
    return {};
}

std::optional<DvrWindow> HarvestService::window() const {
    if (!dvr_ || options_.ladder.empty()) return std::nullopt;
    DvrWindow w{INT64_MIN, INT64_MAX};
    for (const auto& rung : options_.ladder) {
        auto span = dvr_->span(rung.name);
        if (!span) return std::nullopt;
        w.first = std::max(w.first, span->first);
        w.last = std::min(w.last, span->second);
    }
    if (w.first >= w.last) return std::nullopt;
    return w;
}

std::expected<ClipRecord, SubmitRefusal> HarvestService::submit(const boost::json::value& body) {
    using Kind = SubmitRefusal::Kind;
    auto refuse = [](Kind kind, std::string reason) {
        return std::unexpected(SubmitRefusal{kind, {std::move(reason)}});
    };
    if (!dvr_)
        return refuse(Kind::unavailable, "clips are cut from the DVR, and this origin runs none");
    auto request = parse_clip_request(body, window());
    if (!request) return std::unexpected(SubmitRefusal{Kind::invalid, std::move(request.error())});
    {
        std::lock_guard lock(mutex_);
        if (!accepting_) return refuse(Kind::unavailable, "the origin is not taking clip jobs now");
        if (queue_.size() >= options_.max_waiting)
            return refuse(Kind::unavailable,
                          fmt::format("{} clip jobs are waiting; try again later", queue_.size()));
    }

    ClipRecord clip;
    clip.channel = options_.channel;
    clip.title = std::move(request->title);
    clip.description = std::move(request->description);
    clip.event = std::move(request->event);
    clip.start_ms = request->start_ms;
    clip.end_ms = request->end_ms;
    clip.accuracy = request->accuracy;
    clip.rendition = options_.mp4_rendition;
    clip.created_ms = now_ms();
    for (int attempt = 0;; ++attempt) {
        clip.id = request->id ? *request->id : generated_id(clip.created_ms);
        auto inserted = catalog_.insert(clip);
        if (!inserted) {
            log::error(kLog, "clip catalog: {}", inserted.error().message);
            return refuse(Kind::error, "the clip catalog cannot be written");
        }
        if (*inserted) break;
        if (request->id)
            return refuse(Kind::duplicate, fmt::format("a clip with id \"{}\" exists", clip.id));
        if (attempt == 3) return refuse(Kind::error, "no free clip id found");
    }
    log::info(kLog, "clip {}: queued, {} to {} ({} accuracy)", clip.id, when(clip.start_ms),
              when(clip.end_ms), to_string(clip.accuracy));
    enqueue([this, clip](std::stop_token stop) { run_job(clip, stop); });
    return clip;
}

core::Result<HarvestService::Removal> HarvestService::remove(std::string_view id) {
    std::lock_guard assets(assets_mutex_);
    auto clip = catalog_.get(id);
    if (!clip) return std::unexpected(clip.error());
    if (!*clip) return Removal::not_found;
    if ((*clip)->status == ClipStatus::in_progress) return Removal::running;
    // Renamed away first: a crash after it leaves a record whose files are
    // gone (DELETE again works), never files no record owns.
    const fs::path folder = asset_folder(id);
    fs::path trash;
    std::error_code ec;
    if (fs::exists(folder, ec)) {
        trash = options_.folder / fmt::format("{}{}.{}-{}", id, kDeleted, now_ms(), ++deletions_);
        fs::rename(folder, trash, ec);
        if (ec)
            return core::fail(fmt::format("cannot remove {}: {}", folder.string(), ec.message()));
    }
    auto removed = catalog_.remove(id);
    if (!removed) {
        if (!trash.empty()) fs::rename(trash, folder, ec);
        return std::unexpected(removed.error());
    }
    if (!trash.empty())
        enqueue([trash](std::stop_token) {
            std::error_code e;
            fs::remove_all(trash, e);
            if (e) log::warn(kLog, "cannot remove {}: {}", trash.string(), e.message());
        });
    log::info(kLog, "clip {}: deleted", id);
    return *removed ? Removal::removed : Removal::not_found;
}

bool HarvestService::wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && running_ == 0; });
}

void HarvestService::enqueue(Task task) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void HarvestService::work(std::stop_token stop) {
    // Clips wait for the live channel, never the other way round: this thread,
    // and the decoder and x264 threads it starts (which inherit it), run only
    // on what the pipelines leave of the CPU.
    if (::setpriority(PRIO_PROCESS, ::gettid(), kWorkerNice) != 0)
        log::warn(kLog, "cannot lower the clip workers' priority: {}", std::strerror(errno));
    for (;;) {
        Task task;
        {
            std::unique_lock lock(mutex_);
            if (!wake_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
            task = std::move(queue_.front());
            queue_.pop_front();
            ++running_;
        }
        task(stop);
        {
            std::lock_guard lock(mutex_);
            --running_;
        }
        idle_.notify_all();
    }
}

void HarvestService::run_job(ClipRecord clip, std::stop_token stop) {
    const fs::path partial = options_.folder / (clip.id + std::string(kPartial));
    std::error_code ec;
    fs::remove_all(partial, ec);
    log::info(kLog, "clip {}: cutting", clip.id);
    auto made = make_asset(clip, partial, stop);
    if (!made) {
        fs::remove_all(partial, ec);
        if (stop.stop_requested()) {
            log::info(kLog, "clip {}: stopped; it is cut again at the next start", clip.id);
            return;
        }
        finish(std::move(clip), made.error().message, 0, stop);
        return;
    }
    // On the disk, then whole under its name (one rename), then the record
    // says so: not even a power loss leaves a half asset listed as succeeded.
    if (auto synced = core::sync_tree(partial); !synced) {
        fs::remove_all(partial, ec);
        finish(std::move(clip), synced.error().message, 0, stop);
        return;
    }
    {
        // Not held for finish(): a DELETE meanwhile sees in_progress (409).
        std::lock_guard assets(assets_mutex_);
        const fs::path folder = asset_folder(clip.id);
        fs::remove_all(folder, ec);  // only ever a leftover of a run that died before recording it
        fs::rename(partial, folder, ec);
    }
    if (!ec)
        if (auto synced = core::sync_path(options_.folder); !synced)
            log::warn(kLog, "clip {}: {}", clip.id, synced.error().message);
    if (ec) {
        std::error_code ignored;
        fs::remove_all(partial, ignored);
        finish(std::move(clip), fmt::format("cannot move the asset in place: {}", ec.message()), 0,
               stop);
        return;
    }
    clip.master = fmt::format("{}/{}", clip.id, kMaster);
    clip.mp4 = fmt::format("{}/{}", clip.id, kMp4);
    finish(std::move(clip), {}, *made, stop);
}

void HarvestService::finish(ClipRecord clip, const std::string& error, int64_t duration_ticks,
                            std::stop_token stop) {
    clip.status = error.empty() ? ClipStatus::succeeded : ClipStatus::failed;
    clip.message = error;
    clip.finished_ms = now_ms();
    if (error.empty()) {
        clip.duration_ms = core::media_to_utc_ms(duration_ticks);
    } else {
        clip.master.clear();
        clip.mp4.clear();
    }
    // A busy or briefly full disk should not leave the job in_progress until
    // the next start: a few tries, backing off (each after SQLite's own busy
    // wait), before giving up on it; none once the service is stopping.
    auto recorded = catalog_.update(clip);
    for (auto pause = std::chrono::milliseconds(100);
         !recorded && !stop.stop_requested() && pause <= std::chrono::milliseconds(400);
         pause *= 2) {
        log::warn(kLog, "clip {}: cannot record its outcome ({}), again in {} ms", clip.id,
                  recorded.error().message, pause.count());
        std::this_thread::sleep_for(pause);
        recorded = catalog_.update(clip);
    }
    if (!recorded) {
        log::error(kLog, "clip {}: cannot record its outcome: {}", clip.id,
                   recorded.error().message);
        return;  // still in_progress in the catalog: cut again at the next start
    }
    if (error.empty())
        log::info(kLog, "clip {}: succeeded, {:.3f} s", clip.id, double(duration_ticks) / 90000);
    else
        log::warn(kLog, "clip {}: failed: {}", clip.id, error);
    notify(clip);
}

void HarvestService::notify(const ClipRecord& clip) const {
    if (!notify_) return;
    // Shaped like the cloud packagers' harvest-job notification.
    boost::json::object json;
    json["event"] = "harvest_job";
    json["job"] = clip_json(clip);
    notify_(boost::json::serialize(json));
}

core::Result<int64_t> HarvestService::make_asset(const ClipRecord& clip, const fs::path& partial,
                                                 std::stop_token stop) const {
    if (!dvr_) return core::fail("no DVR");
    if (!media_) return core::fail("no clip media");
    auto stopped = [&] { return stop.stop_requested(); };
    std::error_code ec;
    fs::create_directories(partial, ec);
    if (ec) return core::fail(fmt::format("cannot create {}: {}", partial.string(), ec.message()));
    const int64_t from = core::utc_ms_to_media(clip.start_ms);
    const int64_t to = core::utc_ms_to_media(clip.end_ms);

    struct Rendition {
        const core::Rung* rung = nullptr;
        std::vector<DvrSegment> recorded;
        std::vector<core::ClipSegmentFile> files;  // in the partial folder
    };
    std::vector<Rendition> renditions;
    for (const auto& rung : options_.ladder) {
        Rendition r{&rung, dvr_->range(rung.name, from, to), {}};
        if (r.recorded.empty())
            return core::fail(fmt::format("the DVR holds no segment of {} from {} to {}", rung.name,
                                          when(clip.start_ms), when(clip.end_ms)));
        // The range was checked at the request; a job that waited in the
        // queue, or resumed after a restart, may find its head expired since
        // (window or disk budget). A head missing for a gap in the recording
        // (a restart) is no reason to fail: that time was never recorded.
        auto span = dvr_->span(rung.name);
        if (r.recorded.front().start > from && span && from < span->first)
            return core::fail(fmt::format(
                "the DVR no longer holds {} from {}: expired before the job ran (it holds from {})",
                rung.name, when(clip.start_ms), when(core::media_to_utc_ms(span->first))));
        const fs::path folder = partial / rung.name;
        fs::create_directory(folder, ec);
        if (ec)
            return core::fail(fmt::format("cannot create {}: {}", folder.string(), ec.message()));
        for (const auto& s : r.recorded) {
            if (stopped()) return core::fail("stopped");  // a day's clip links 14,400 files
            fs::path file = folder / segment_uri(s.sequence);
            if (auto ok = link_or_copy(s.file, file); !ok)
                return core::fail(
                    fmt::format("{} segment {}: {}", rung.name, s.sequence, ok.error().message));
            r.files.push_back({std::move(file), s.sequence, s.start, s.duration});
        }
        if (stopped()) return core::fail("stopped");
        renditions.push_back(std::move(r));
    }

    std::optional<core::ClipCut> cut;
    if (clip.accuracy == ClipAccuracy::frame) cut = core::ClipCut{from, to};
    auto mp4 = std::find_if(renditions.begin(), renditions.end(),
                            [&](const Rendition& r) { return r.rung->name == clip.rendition; });
    if (mp4 == renditions.end())
        return core::fail(
            fmt::format("the MP4's rendition {} is not in the ladder", clip.rendition));
    if (cut) {
        // The renditions' ends are re-encoded side by side: their codecs run
        // single-threaded (cheaper in CPU than frame threads, and CPU is what
        // the live pipelines leave little of), and together use every core.
        // Trimmed ends are written aside, then renamed over the links:
        // writing into a link would change the DVR's file too.
        std::vector<std::future<core::Result<std::vector<core::ClipSegmentFile>>>> trims;
        for (auto& r : renditions) {
            const fs::path scratch = partial / ".trim" / r.rung->name;
            fs::create_directories(scratch, ec);
            trims.push_back(std::async(std::launch::async, [this, &r, &cut, scratch] {
                return media_->trim_segments(r.files, *cut, *r.rung, options_.encoder, scratch);
            }));
        }
        for (size_t i = 0; i < renditions.size(); ++i) {
            auto& r = renditions[i];
            auto trimmed = trims[i].get();
            if (!trimmed)
                return core::fail(fmt::format("{}: {}", r.rung->name, trimmed.error().message));
            if (trimmed->empty())
                return core::fail(fmt::format("{}: no frame in the range", r.rung->name));
            const fs::path folder = partial / r.rung->name;
            std::set<fs::path> kept;
            for (auto& t : *trimmed) {
                fs::path place = folder / segment_uri(t.sequence);
                if (t.file != place) {
                    fs::rename(t.file, place, ec);
                    if (ec)
                        return core::fail(fmt::format("{} segment {}: {}", r.rung->name, t.sequence,
                                                      ec.message()));
                    t.file = place;
                }
                kept.insert(place);
            }
            for (const auto& f : r.files)
                if (!kept.contains(f.file)) fs::remove(f.file, ec);
            r.files = std::move(*trimmed);
            if (stopped()) return core::fail("stopped");
        }
        fs::remove_all(partial / ".trim", ec);
    }
    // From the rendition's clip segments, trimmed already: the boundary GOPs
    // are re-encoded once, for the HLS asset and the MP4 alike.
    if (auto ok = media_->write_mp4(mp4->files, std::nullopt, *mp4->rung, options_.encoder,
                                    partial / kMp4);
        !ok)
        return core::fail(fmt::format("{}: {}", kMp4, ok.error().message));
    if (stopped()) return core::fail("stopped");

    std::vector<Variant> variants;
    int64_t duration = 0;
    for (const auto& r : renditions) {
        std::map<int64_t, bool> discontinuity;
        for (const auto& s : r.recorded) discontinuity[s.sequence] = s.discontinuity;
        MediaPlaylist playlist;
        playlist.type = PlaylistType::vod;
        playlist.end_list = true;
        playlist.media_sequence = r.files.front().sequence;
        playlist.target_duration = 1;
        std::vector<std::pair<int64_t, int64_t>> sizes;
        int64_t bytes = 0, ticks = 0;
        for (size_t i = 0; i < r.files.size(); ++i) {
            const auto& f = r.files[i];
            // A gap before the clip's first segment is none of the player's business.
            playlist.segments.push_back({f.sequence, core::media_to_utc_ms(f.start), f.duration,
                                         i > 0 && discontinuity[f.sequence],
                                         segment_uri(f.sequence)});
            playlist.target_duration =
                std::max(playlist.target_duration, rounded_seconds(f.duration));
            const auto size = int64_t(fs::file_size(f.file, ec));
            if (ec) return core::fail(fmt::format("{}: {}", f.file.string(), ec.message()));
            sizes.emplace_back(size, f.duration);
            bytes += size;
            ticks += f.duration;
        }
        const fs::path folder = partial / r.rung->name;
        if (auto ok = write_text(folder / kMediaPlaylist, render_media_playlist(playlist)); !ok)
            return std::unexpected(ok.error());
        const DvrSegment& first = r.recorded.front();
        const int64_t average = ticks > 0 ? bytes * 8 * core::kMediaClock / ticks : 0;
        variants.push_back({fmt::format("{}/{}", r.rung->name, kMediaPlaylist),
                            peak_bitrate(sizes, playlist.target_duration, average), average,
                            first.codecs, first.width, first.height, first.frame_rate});
        if (r.rung->name == clip.rendition) duration = ticks;
    }
    if (auto ok = write_text(partial / kMaster, render_master_playlist(variants)); !ok)
        return std::unexpected(ok.error());
    return duration;
}

}  // namespace onair::origin
