#include "tests/integration/onair_fixture.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <regex>

#include <fmt/format.h>

namespace onair::testing {

std::string onair_binary() {
    return ONAIR_BINARY;
}

Process start_encoder(const std::filesystem::path& file, char pipeline, int origin_port,
                      const TempDir& dir, int generation, const std::string& token) {
    ProcessOptions o;
    o.argv = {onair_binary(),
              "encode",
              file.string(),
              "--pipeline",
              std::string(1, pipeline),
              "--origin",
              fmt::format("http://127.0.0.1:{}", origin_port)};
    o.env = {{"ONAIR_INGEST_TOKEN", token}};
    o.output_dir = dir.path();
    o.working_dir = dir.path();
    o.name = fmt::format("encode-{}-{}", pipeline, generation);
    return Process(std::move(o));
}

std::string promtool_problems(const std::string& metrics, const TempDir& dir) {
    const auto file = dir.write("metrics.txt", metrics);
    auto result = run_to_completion(
        ProcessOptions{.argv = {"sh", "-c", "promtool check metrics < '" + file.string() + "'"},
                       .output_dir = dir.path(),
                       .name = "promtool"},
        std::chrono::seconds(30));
    if (result.status && result.status->success() && result.out.empty() && result.err.empty())
        return {};
    return fmt::format("promtool: {}\n{}{}",
                       result.status ? result.status->describe() : "timed out", result.out,
                       result.err);
}

std::set<std::string> dashboard_metric_names() {
    std::ifstream in(std::string(ONAIR_SOURCE_DIR) + "/docs/grafana/onair-channels.json");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    std::set<std::string> names;
    static const std::regex metric("onair_[a-z_]+");
    for (std::sregex_iterator it(text.begin(), text.end(), metric), end; it != end; ++it)
        names.insert(it->str());
    return names;
}

bool said_line(const Process& script, std::string_view word) {
    const auto out = script.read_stdout();
    const std::string line = std::string(word) + "\n";
    return out.starts_with(line) || out.find("\n" + line) != std::string::npos;
}

std::string channel_yaml(const ChannelSpec& s) {
    std::string out = fmt::format("channel: {}\ninputs:\n  a: {}\n", s.channel, s.input_url);
    if (!s.input_b_url.empty()) out += fmt::format("  b: {}\n", s.input_b_url);
    out += "timecode: pts\nladder:\n";
    for (const auto& r : s.ladder)
        out += fmt::format("  - {{name: {}, width: {}, height: {}, bitrate: {}}}\n", r.name,
                           r.width, r.height, r.bitrate);
    out += fmt::format(
        "audio: {{bitrate: 128k}}\nencoder: {{preset: {}, gop: {}}}\nhls: {{segment: {}, window: "
        "{}, container: {}{}}}\norigin: {{listen: 127.0.0.1:{}{}}}\n",
        s.preset, s.gop, s.segment, s.window, s.container,
        s.part.empty() ? std::string() : ", part: " + s.part, s.http_port,
        s.origin_extra.empty() ? std::string() : ", " + s.origin_extra);
    return out + s.extra_yaml;
}

std::string input_url_for(SenderMode mode, int port) {
    switch (mode) {
        case SenderMode::srt_caller:
            return fmt::format("srt://0.0.0.0:{}?mode=listener&latency=200", port);
        case SenderMode::srt_listener:
            return fmt::format("srt://127.0.0.1:{}?mode=caller&latency=200", port);
        case SenderMode::udp:
            return fmt::format("udp://127.0.0.1:{}", port);
        case SenderMode::rtp:
            return fmt::format("rtp://127.0.0.1:{}", port);
    }
    return {};
}

namespace {

ProcessOptions onair_options(const ChannelSpec& spec, const TempDir& dir,
                             const std::filesystem::path& file) {
    ProcessOptions o;
    o.argv = {onair_binary(), spec.command, file.string()};
    o.env = spec.env;
    o.output_dir = dir.path();
    o.working_dir = dir.path();
    o.name = "onair";
    return o;
}

}  // namespace

Onair::Onair(ChannelSpec spec, const TempDir& dir)
    : spec_(std::move(spec)),
      file_(dir.write("channel.yaml", channel_yaml(spec_))),
      process_(onair_options(spec_, dir, file_)) {}

HttpResult Onair::get(const std::string& target, std::chrono::milliseconds timeout) {
    return http_get("127.0.0.1", spec_.http_port, target, timeout);
}

std::string Onair::master_path() const {
    return fmt::format("/live/{}/master.m3u8", spec_.channel);
}

std::string Onair::media_path(const std::string& rendition) const {
    return fmt::format("/live/{}/{}/index.m3u8", spec_.channel, rendition);
}

std::string Onair::segment_path(const std::string& rendition, const std::string& uri) const {
    if (uri.starts_with("/")) return uri;
    return fmt::format("/live/{}/{}/{}", spec_.channel, rendition, uri);
}

std::optional<boost::json::object> Onair::healthz() {
    auto r = get("/healthz", std::chrono::seconds(3));
    if (!r || r->status != 200) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(r->body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.as_object();
}

std::optional<boost::json::object> Onair::channel_status() {
    auto r = get(fmt::format("/api/v1/channels/{}", spec_.channel), std::chrono::seconds(3));
    if (!r || r->status != 200) return std::nullopt;
    boost::system::error_code ec;
    auto v = boost::json::parse(r->body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.as_object();
}

std::optional<boost::json::object> Onair::pipeline_status(const std::string& id) {
    auto h = healthz();
    if (!h) return std::nullopt;
    auto* pipelines = h->if_contains("pipelines");
    if (!pipelines || !pipelines->is_object()) return std::nullopt;
    auto* p = pipelines->as_object().if_contains(id);
    if (!p || !p->is_object()) return std::nullopt;
    return p->as_object();
}

std::optional<MediaPlaylist> Onair::media(const std::string& rendition) {
    auto r = get(media_path(rendition), std::chrono::seconds(3));
    if (!r || r->status != 200) return std::nullopt;
    return parse_media_playlist(r->body);
}

WaitResult Onair::wait_ready(std::chrono::milliseconds timeout) {
    return wait_until(
        fmt::format("onair's /healthz on port {} to answer 200", spec_.http_port),
        [&] {
            if (!process_.running()) return true;  // no point waiting; the caller checks
            return healthz().has_value();
        },
        timeout, std::chrono::milliseconds(100));
}

WaitResult Onair::wait_segments(size_t count, std::chrono::milliseconds timeout) {
    return wait_until(
        fmt::format("every rung's playlist to list at least {} segments", count),
        [&] {
            if (!process_.running()) return true;
            for (const auto& rung : spec_.ladder) {
                auto p = media(rung.name);
                if (!p || p->segments.size() < count) return false;
            }
            return true;
        },
        timeout, std::chrono::milliseconds(500));
}

std::optional<ExitStatus> Onair::stop(std::chrono::milliseconds timeout) {
    process_.signal(SIGINT);
    return process_.wait_for(timeout);
}

PlaylistWatcher::PlaylistWatcher(Onair& onair) : onair_(onair) {
    for (const auto& rung : onair_.spec().ladder)
        trackers_.emplace(rung.name, ReloadTracker(rung.name));
}

bool PlaylistWatcher::reload() {
    bool all = true;
    MediaCheckOptions options;
    options.uri_is_sequence = true;
    for (auto& [name, tracker] : trackers_) {
        auto r = onair_.get(onair_.media_path(name), std::chrono::seconds(3));
        if (!r) {
            problems_.push_back(fmt::format("{}: reload failed: {}", name, r.error()));
            all = false;
            continue;
        }
        if (r->status != 200) {
            problems_.push_back(
                fmt::format("{}: reload answered {}: {}", name, r->status, r->body));
            all = false;
            continue;
        }
        auto playlist = parse_media_playlist(r->body);
        for (auto& v : check_media_playlist(playlist, options))
            problems_.push_back(fmt::format("{} reload {}: {}", name, tracker.reloads() + 1, v));
        for (auto& v : tracker.add(playlist)) problems_.push_back(v);
        latest_[name] = std::move(playlist);
        latest_text_[name] = r->body;
    }
    ++reloads_;
    return all;
}

std::string PlaylistWatcher::problems_text() const {
    return join_lines(problems_);
}

std::optional<int64_t> PlaylistWatcher::last_sequence() const {
    std::optional<int64_t> out;
    for (const auto& [name, playlist] : latest_) {
        auto last = playlist.last_sequence();
        if (!last) return std::nullopt;
        out = out ? std::min(*out, *last) : *last;
    }
    if (latest_.size() != trackers_.size()) return std::nullopt;
    return out;
}

SegmentCheck check_segment(Onair& onair, const RungSpec& rung, const MediaSegment& segment,
                           const std::filesystem::path& dir) {
    SegmentCheck out;
    out.sequence = segment.sequence;
    out.uri = segment.uri;
    auto problem = [&](std::string text) {
        out.problems.push_back(
            fmt::format("{} segment {} ({}): {}", rung.name, segment.sequence, segment.uri, text));
    };
    auto r = onair.get(onair.segment_path(rung.name, segment.uri), std::chrono::seconds(10));
    if (!r) {
        problem("fetch failed: " + r.error());
        return out;
    }
    if (r->status != 200) {
        problem(fmt::format("HTTP {}: {}", r->status, r->body.substr(0, 200)));
        return out;
    }
    auto type = r->header("Content-Type").value_or("");
    if (type.find("video/mp2t") == std::string::npos &&
        type.find("video/MP2T") == std::string::npos)
        problem(fmt::format("Content-Type is \"{}\", not video/mp2t", type));
    auto file = dir / fmt::format("{}-{}.ts", rung.name, segment.sequence);
    {
        std::ofstream f(file, std::ios::binary);
        f.write(r->body.data(), static_cast<std::streamsize>(r->body.size()));
    }
    out.sps = find_avc_sps(r->body);
    out.probe = probe(file.string(), dir);
    const auto& p = out.probe;
    if (!p.clean()) problem("ffprobe is not clean: " + p.summary());
    auto* video = p.video();
    if (!video) {
        problem("no video stream: " + p.summary());
        return out;
    }
    if (video->codec_name != "h264") problem("video codec is " + video->codec_name);
    if (video->width != rung.width || video->height != rung.height)
        problem(fmt::format("video is {}x{}, the rung is {}x{}", video->width, video->height,
                            rung.width, rung.height));
    if (p.video_frames.empty()) {
        problem("no video frames decoded");
    } else if (!p.video_frames.front().key_frame || p.video_frames.front().pict_type != "I") {
        problem(fmt::format("the first video frame is {} (key_frame={}), not an I key frame",
                            p.video_frames.front().pict_type, p.video_frames.front().key_frame));
    }
    auto* audio = p.audio();
    if (!audio)
        problem("no audio stream");
    else if (audio->codec_name != "aac")
        problem("audio codec is " + audio->codec_name);
    else if (p.audio_frames == 0)
        problem("no audio frames decoded");
    auto duration = p.video_duration();
    auto frame = p.frame_duration();
    if (!duration || !frame) {
        problem("cannot measure the video duration: " + p.summary());
    } else if (std::abs(*duration - segment.duration) > *frame + 0.0005) {
        problem(fmt::format("EXTINF {} but the video lasts {:.4f} s ({} frames of {:.4f} s)",
                            segment.duration_text, *duration, p.video_frames.size(), *frame));
    }
    if (auto nal = first_slice_nal_type(r->body); nal != 5)
        problem(nal ? fmt::format("the first coded slice has nal_unit_type {}, not 5 (IDR)", *nal)
                    : std::string("no H.264 slice found in the TS"));
    if (!out.sps) {
        problem("no H.264 SPS found in the TS");
    } else {
        if (out.sps->profile_idc != profile_idc_from_name(video->profile))
            problem(fmt::format("SPS profile_idc {} but ffprobe says \"{}\"", out.sps->profile_idc,
                                video->profile));
        if (out.sps->level_idc != video->level)
            problem(fmt::format("SPS level_idc {} but ffprobe says level {}", out.sps->level_idc,
                                video->level));
    }
    return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

Recorder::Recorder(Onair& onair, const TempDir& dir)
    : file(dir.path() / "recording.ts"),
      process(ProcessOptions{
          .argv = {"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i",
                   fmt::format("http://127.0.0.1:{}{}", onair.port(), onair.master_path()), "-map",
                   "0:v:0", "-map", "0:a:0", "-c", "copy", "-f", "mpegts", file.string()},
          .output_dir = dir.path(),
          .name = "recorder"}) {}

void Recorder::finish_and_check(const TempDir& dir, double at_least_seconds, double frame) {
    process.signal(SIGINT);
    auto exit = process.wait_for(std::chrono::seconds(15));
    REQUIRE(exit);
    auto probed = probe(file.string(), dir.path(), std::chrono::seconds(60));
    INFO(probed.summary());
    REQUIRE(probed.video_frames.size() > 25);
    double worst = 0, first = 0, last = 0;
    int backwards = 0;
    bool started = false;
    double previous = 0;
    // Stopping the recorder cuts its last GOP short: judge what came before.
    double end = 0;
    for (const auto& f : probed.video_frames)
        if (f.pts_time) end = std::max(end, *f.pts_time);
    for (const auto& f : probed.video_frames) {
        if (!f.pts_time || *f.pts_time > end - 1.0) continue;
        if (!started) {
            first = *f.pts_time;
            started = true;
        } else {
            double step = *f.pts_time - previous;
            if (step <= 0) ++backwards;
            worst = std::max(worst, step);
        }
        previous = last = *f.pts_time;
    }
    INFO("recording from " << first << " s to " << last << " s, largest step " << worst << " s");
    CHECK(worst <= frame * 1.5);
    CHECK(backwards == 0);
    CHECK(last - first >= at_least_seconds);
    CHECK(probed.audio_frames > 0);
}

}  // namespace onair::testing
