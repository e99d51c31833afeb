// Live-to-VOD clips from a running channel, as a producer's tool and a
// player meet them: POST a clip, poll its job, play the VOD asset and the
// MP4; frame accuracy; the catalog across a restart; bad requests; and a
// clip that outlives the DVR segments it was cut from. Needs the real DVR
// and clip media (the channel runs the built-in test signal, 25 fps, 2 s
// segments, so frame times are known).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "itest-api-token";
constexpr double kFrame = 0.040;  // 25 fps
constexpr double kSegment = 2.0;

ChannelSpec harvest_spec(const TempDir& dir, std::string dvr_window = "10m") {
    ChannelSpec spec;
    spec.channel = "clips";
    spec.http_port = free_tcp_port();
    spec.input_url = "testsrc:?size=640x360&rate=25";
    spec.preset = "ultrafast";
    spec.extra_yaml = fmt::format(
        // max_queued: one test posts 20 clips at once.
        "data: {}\ndvr: {{window: {}}}\nclips: {{concurrency: 2, max_queued: 32, "
        "rendition: 360p}}\n",
        (dir.path() / "data").string(), dvr_window);
    spec.env = {{"ONAIR_API_TOKEN", kToken}};
    return spec;
}

fs::path data_dir(const TempDir& dir) {
    return dir.path() / "data";
}

HttpResult request(Onair& onair, std::string method, std::string target, std::string body = {},
                   bool with_token = true) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/json");
    if (with_token) r.headers.emplace_back("Authorization", std::string("Bearer ") + kToken);
    return http_request("127.0.0.1", onair.port(), r, std::chrono::seconds(10));
}

HttpResult post_clip(Onair& onair, const std::string& body, bool with_token = true) {
    return request(onair, "POST", fmt::format("/api/v1/channels/{}/clips", onair.spec().channel),
                   body, with_token);
}

boost::json::object parse_object(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return {};
    return v.as_object();
}

// The status code, or -1 when no answer came.
int status_of(const HttpResult& r) {
    return r ? r->status : -1;
}

std::string text(const boost::json::value& v) {
    return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

// POSTs until the DVR holds enough for it (400 until then): the answer.
HttpResponse post_when_held(Onair& onair, const std::string& body,
                            std::chrono::seconds timeout = std::chrono::seconds(90)) {
    HttpResponse last;
    auto posted = wait_until(
        "the DVR to hold the clip's range (POST answering 202)",
        [&] {
            auto r = post_clip(onair, body);
            if (!r) return false;
            last = *r;
            return r->status == 202 || r->status == 409;
        },
        timeout, std::chrono::milliseconds(1000));
    INFO(last.status << " " << last.body);
    REQUIRE(posted);
    REQUIRE(last.status == 202);
    return last;
}

// Polls GET /api/v1/clips/ID until the job is no longer in_progress.
boost::json::object wait_job(Onair& onair, const std::string& id,
                             std::chrono::seconds timeout = std::chrono::seconds(90)) {
    boost::json::object job;
    auto done = wait_until(
        fmt::format("clip {} to finish", id),
        [&] {
            auto r = onair.get("/api/v1/clips/" + id);
            if (!r || r->status != 200) return false;
            job = parse_object(r->body);
            return job.contains("status") && job.at("status") != "in_progress";
        },
        timeout, std::chrono::milliseconds(300));
    INFO(boost::json::serialize(job));
    REQUIRE(done);
    return job;
}

fs::path fetch(Onair& onair, const std::string& target, const fs::path& file) {
    auto r = onair.get(target, std::chrono::seconds(20));
    INFO(target);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    std::ofstream(file, std::ios::binary).write(r->body.data(), std::streamsize(r->body.size()));
    return file;
}

ino_t inode_of(const fs::path& file) {
    struct stat st {};
    return ::stat(file.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The offsets of the top-level boxes of an MP4 file, by type.
std::map<std::string, size_t> top_level_boxes(const std::string& bytes) {
    std::map<std::string, size_t> out;
    size_t at = 0;
    while (at + 8 <= bytes.size()) {
        uint64_t size = 0;
        for (int i = 0; i < 4; ++i) size = size << 8 | uint8_t(bytes[at + size_t(i)]);
        std::string type = bytes.substr(at + 4, 4);
        if (size == 1 && at + 16 <= bytes.size()) {
            size = 0;
            for (int i = 8; i < 16; ++i) size = size << 8 | uint8_t(bytes[at + size_t(i)]);
        } else if (size == 0) {
            size = bytes.size() - at;
        }
        out.emplace(type, at);
        if (size < 8) break;
        at += size;
    }
    return out;
}

// The VOD media playlist of a clip's rendition, checked as a player would.
MediaPlaylist vod_playlist(Onair& onair, const std::string& id, const std::string& rendition) {
    auto r = onair.get(fmt::format("/vod/{}/{}/index.m3u8", id, rendition));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    INFO(r->body);
    auto playlist = parse_media_playlist(r->body);
    MediaCheckOptions options;
    options.live = false;
    options.uri_is_sequence = true;
    auto problems = check_media_playlist(playlist, options);
    INFO(join_lines(problems));
    CHECK(problems.empty());
    CHECK(playlist.endlist);
    CHECK(playlist.playlist_type == "VOD");
    REQUIRE_FALSE(playlist.segments.empty());
    return playlist;
}

double total_duration(const MediaPlaylist& p) {
    double d = 0;
    for (const auto& s : p.segments) d += s.duration;
    return d;
}

}  // namespace

TEST_CASE("harvest: the last 30 s of a running channel become a VOD asset and an MP4",
          "[integration][harvest]") {
    TempDir dir("onair-harvest");
    Onair onair(harvest_spec(dir), dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.wait_segments(2, std::chrono::seconds(45)));

    auto posted = post_when_held(onair, R"({"id": "last30", "last": "30s", "title": "Last 30"})");
    auto accepted = parse_object(posted.body);
    CHECK(accepted.at("status") == "in_progress");
    CHECK(posted.header("Location") == "/api/v1/clips/last30");
    auto job = wait_job(onair, "last30");
    INFO(boost::json::serialize(job));
    REQUIRE(job.at("status") == "succeeded");
    CHECK(job.at("master") == "/vod/last30/master.m3u8");

    auto master_text = onair.get("/vod/last30/master.m3u8");
    REQUIRE(master_text);
    REQUIRE(master_text->status == 200);
    auto master = parse_master_playlist(master_text->body);
    INFO(master_text->body);
    CHECK(check_master_playlist(master).empty());
    REQUIRE(master.variants.size() == onair.spec().ladder.size());

    for (const auto& rung : onair.spec().ladder) {
        INFO("rung " << rung.name);
        auto playlist = vod_playlist(onair, "last30", rung.name);
        CHECK(std::abs(total_duration(playlist) - 30.0) <= kSegment);
        // The clip's segments are the DVR's: the same file (a hard link), or
        // the same bytes once the DVR's copy is gone.
        for (const auto& segment : playlist.segments) {
            auto clip_file = data_dir(dir) / "clips" / "last30" / rung.name / segment.uri;
            auto dvr_file = data_dir(dir) / "dvr" / rung.name / segment.uri;
            REQUIRE(fs::exists(clip_file));
            if (fs::exists(dvr_file)) CHECK(inode_of(clip_file) == inode_of(dvr_file));
            auto served = onair.get(fmt::format("/vod/last30/{}/{}", rung.name, segment.uri));
            REQUIRE(served);
            CHECK(served->status == 200);
            CHECK(served->body == read_file(clip_file));
        }
    }

    auto mp4 = fetch(onair, "/vod/last30/clip.mp4", dir / "last30.mp4");
    auto probed = probe(mp4.string(), dir.path());
    INFO(probed.summary());
    CHECK(probed.clean());
    REQUIRE(probed.video());
    REQUIRE(probed.audio());
    CHECK(probed.video()->width == 640);
    REQUIRE(probed.format_duration);
    CHECK(std::abs(*probed.format_duration - 30.0) <= kSegment);
    auto boxes = top_level_boxes(read_file(mp4));
    REQUIRE(boxes.contains("moov"));
    REQUIRE(boxes.contains("mdat"));
    CHECK(boxes["moov"] < boxes["mdat"]);  // plays while it downloads

    HttpRequest ranged;
    ranged.target = "/vod/last30/clip.mp4";
    ranged.headers = {{"Range", "bytes=100-199"}};
    auto part = http_request("127.0.0.1", onair.port(), ranged);
    REQUIRE(part);
    CHECK(part->status == 206);
    CHECK(part->header("Content-Range").value_or("") ==
          fmt::format("bytes 100-199/{}", fs::file_size(mp4)));
    CHECK(part->body == read_file(mp4).substr(100, 100));

    auto exit = onair.stop();
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}

TEST_CASE("harvest: frame accuracy starts on the frame at T1 and keeps exactly the frames to T2",
          "[integration][harvest]") {
    TempDir dir("onair-harvest-frame");
    Onair onair(harvest_spec(dir), dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.wait_segments(8, std::chrono::seconds(60)));
    auto live = onair.media("360p");
    REQUIRE(live);
    REQUIRE(live->segments.size() >= 8);
    // T1 between frames 10 and 11 of segment a, T2 between frames 5 and 6 of a + 3.
    const auto& a = live->segments[live->segments.size() - 6];
    const auto& b = live->segments[live->segments.size() - 3];
    REQUIRE(a.pdt_ms);
    REQUIRE(b.pdt_ms);
    const int64_t t1 = *a.pdt_ms + 420, t2 = *b.pdt_ms + 220;
    const int expected_frames =
        int(std::lround(double(*b.pdt_ms - *a.pdt_ms) / 1000 / kFrame)) - 11 + 6;
    auto r = post_clip(onair, fmt::format(R"({{"id": "exact", "start": {:.3f}, "end": {:.3f},
                                              "title": "exact", "accuracy": "frame"}})",
                                          t1 / 1000.0, t2 / 1000.0));
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 202);
    auto job = wait_job(onair, "exact", std::chrono::seconds(120));
    INFO(boost::json::serialize(job));
    REQUIRE(job.at("status") == "succeeded");

    // The frame at T1, as the DVR recorded it.
    auto dvr_first = probe((data_dir(dir) / "dvr" / "360p" / a.uri).string(), dir.path());
    REQUIRE(dvr_first.video_frames.size() > 11);
    const double t1_pts = *dvr_first.video_frames[11].pts_time;

    auto playlist = vod_playlist(onair, "exact", "360p");
    CHECK(std::abs(total_duration(playlist) - (t2 - t1) / 1000.0) <= kFrame);
    int hls_frames = 0;
    std::optional<double> hls_first_pts;
    for (const auto& segment : playlist.segments) {
        auto file = fetch(onair, fmt::format("/vod/exact/360p/{}", segment.uri),
                          dir / fmt::format("exact-{}", segment.uri));
        auto p = probe(file.string(), dir.path());
        INFO(segment.uri << ": " << p.summary());
        CHECK(p.clean());
        REQUIRE_FALSE(p.video_frames.empty());
        CHECK(p.video_frames.front().key_frame);
        if (!hls_first_pts) hls_first_pts = p.video_frames.front().pts_time;
        hls_frames += int(p.video_frames.size());
    }
    REQUIRE(hls_first_pts);
    CHECK(std::abs(*hls_first_pts - t1_pts) < 0.001);
    CHECK(hls_frames == expected_frames);

    auto mp4 = probe(fetch(onair, "/vod/exact/clip.mp4", dir / "exact.mp4").string(), dir.path());
    INFO(mp4.summary());
    CHECK(mp4.clean());
    REQUIRE(mp4.audio());
    REQUIRE_FALSE(mp4.video_frames.empty());
    CHECK(int(mp4.video_frames.size()) == expected_frames);
    CHECK(mp4.video_frames.front().key_frame);
    // No leading gap: the first frame is where the MP4 starts.
    CHECK(std::abs(*mp4.video_frames.front().pts_time) < kFrame / 2);
    auto duration = mp4.video_duration();
    REQUIRE(duration);
    CHECK(std::abs(*duration - expected_frames * kFrame) < kFrame / 2);

    REQUIRE(onair.stop());
}

TEST_CASE("harvest: 20 clips over 3 events are listed by event and still play after a restart",
          "[integration][harvest]") {
    TempDir dir("onair-harvest-catalog");
    const auto spec = harvest_spec(dir);
    const std::vector<std::string> events = {"final", "semi", "press"};
    std::map<std::string, std::vector<std::string>> by_event;  // in time order
    std::optional<Onair> onair(std::in_place, spec, dir);
    REQUIRE(onair->wait_ready());
    REQUIRE(onair->wait_segments(10, std::chrono::seconds(60)));
    auto live = onair->media("360p");
    REQUIRE(live);
    REQUIRE(live->segments.size() >= 10);
    const int64_t first_ms = *live->segments.front().pdt_ms;
    for (int i = 0; i < 20; ++i) {
        // Overlapping 4 s clips, each starting half a second after the one before.
        const int64_t start = first_ms + i * 500;
        const std::string id = fmt::format("c{:02}", i);
        auto r = post_clip(*onair, fmt::format(R"({{"id": "{}", "start": {:.3f}, "end": {:.3f},
                                                   "title": "Clip {}", "event": "{}"}})",
                                               id, start / 1000.0, (start + 4000) / 1000.0, i,
                                               events[size_t(i) % 3]));
        REQUIRE(r);
        INFO(r->body);
        REQUIRE(r->status == 202);
        by_event[events[size_t(i) % 3]].push_back(id);
    }
    for (int i = 0; i < 20; ++i)
        REQUIRE(wait_job(*onair, fmt::format("c{:02}", i)).at("status") == "succeeded");

    auto listing = [&](Onair& o, const std::string& event) {
        std::vector<std::string> ids;
        std::string target = fmt::format("/api/v1/clips?event={}&limit=3", event);
        for (int page = 0; page < 20; ++page) {
            auto r = o.get(target);
            REQUIRE(r);
            REQUIRE(r->status == 200);
            auto json = parse_object(r->body);
            for (const auto& c : json.at("clips").as_array()) ids.push_back(text(c.at("id")));
            if (json.at("next_cursor").is_null()) break;
            target = fmt::format("/api/v1/clips?event={}&limit=3&cursor={}", event,
                                 text(json.at("next_cursor")));
        }
        return ids;
    };
    for (const auto& event : events) CHECK(listing(*onair, event) == by_event[event]);

    REQUIRE(onair->stop());
    onair.reset();
    onair.emplace(spec, dir);
    REQUIRE(onair->wait_ready());
    for (const auto& event : events) CHECK(listing(*onair, event) == by_event[event]);
    for (int i : {0, 9, 19}) {
        const std::string id = fmt::format("c{:02}", i);
        INFO(id);
        auto job = onair->get("/api/v1/clips/" + id);
        REQUIRE(job);
        CHECK(parse_object(job->body).at("status") == "succeeded");
        auto playlist = vod_playlist(*onair, id, "360p");
        fetch(*onair, fmt::format("/vod/{}/360p/{}", id, playlist.segments.front().uri),
              dir / (id + ".ts"));
        auto mp4 =
            probe(fetch(*onair, fmt::format("/vod/{}/clip.mp4", id), dir / (id + ".mp4")).string(),
                  dir.path());
        INFO(mp4.summary());
        CHECK(mp4.clean());
        CHECK(mp4.video());
        CHECK(mp4.audio());
    }
    REQUIRE(onair->stop());
}

TEST_CASE("harvest: bad requests get their status codes and every reason",
          "[integration][harvest]") {
    TempDir dir("onair-harvest-bad");
    Onair onair(harvest_spec(dir), dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.wait_segments(3, std::chrono::seconds(45)));
    const std::string good = R"({"id": "ok", "last": "4s", "title": "ok"})";

    auto no_token = post_clip(onair, good, false);
    REQUIRE(no_token);
    CHECK(no_token->status == 401);
    CHECK(no_token->header("WWW-Authenticate") == "Bearer");
    auto other = request(onair, "POST", "/api/v1/channels/nope/clips", good);
    REQUIRE(other);
    CHECK(other->status == 404);

    auto bad = post_clip(onair, R"({"id": "../etc", "start": "2020-01-01T00:00:00Z",
                                    "end": "2019-01-01T00:00:00Z", "accuracy": "exact"})");
    REQUIRE(bad);
    INFO(bad->body);
    CHECK(bad->status == 400);
    auto json = parse_object(bad->body);
    CHECK(json.at("error") == "bad_request");
    // id, title, accuracy, start >= end, start before the DVR window
    CHECK(json.at("reasons").as_array().size() == 5);
    CHECK_THAT(text(json.at("reason")), Catch::Contains("before the DVR window"));

    auto future = post_clip(onair, R"({"last": "23h", "title": "too much"})");
    REQUIRE(future);
    CHECK(future->status == 400);
    CHECK_THAT(future->body, Catch::Contains("before the DVR window"));

    REQUIRE(status_of(post_clip(onair, good)) == 202);
    auto again = post_clip(onair, good);
    REQUIRE(again);
    CHECK(again->status == 409);

    for (std::string target :
         {"/vod/..%2F..%2Fchannel.yaml/master.m3u8", "/vod/%2e%2e/clip.mp4", "/api/v1/clips/a.b"}) {
        auto r = onair.get(target);
        REQUIRE(r);
        INFO(target << ": " << r->body);
        CHECK(r->status == 400);
    }
    CHECK(status_of(onair.get("/api/v1/clips?limit=9999")) == 400);
    CHECK(status_of(request(onair, "DELETE", "/api/v1/clips/nothing")) == 404);
    CHECK(status_of(request(onair, "DELETE", "/api/v1/clips/ok", {}, false)) == 401);
    REQUIRE(wait_job(onair, "ok").at("status") == "succeeded");
    CHECK(status_of(request(onair, "DELETE", "/api/v1/clips/ok")) == 204);
    CHECK(status_of(onair.get("/vod/ok/master.m3u8")) == 404);
    REQUIRE(onair.stop());
}

TEST_CASE("harvest: a clip keeps playing after the DVR expired the segments it was cut from",
          "[integration][harvest]") {
    TempDir dir("onair-harvest-expiry");
    Onair onair(harvest_spec(dir, "1m"), dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.wait_segments(5, std::chrono::seconds(45)));
    post_when_held(onair, R"({"id": "kept", "last": "8s", "title": "kept"})");
    REQUIRE(wait_job(onair, "kept").at("status") == "succeeded");
    auto playlist = vod_playlist(onair, "kept", "360p");
    std::map<std::string, std::string> bytes;
    for (const auto& s : playlist.segments) {
        auto r = onair.get("/vod/kept/360p/" + s.uri);
        REQUIRE(r);
        REQUIRE(r->status == 200);
        bytes[s.uri] = r->body;
    }
    const auto& first = playlist.segments.front();
    const fs::path dvr_first = data_dir(dir) / "dvr" / "360p" / first.uri;
    auto expired = wait_until(
        "the DVR to expire the clip's first segment (a 1 min window)",
        [&] {
            auto live = onair.get(onair.segment_path("360p", first.uri));
            return !fs::exists(dvr_first) && live && live->status == 404;
        },
        std::chrono::seconds(150), std::chrono::seconds(2));
    REQUIRE(expired);
    REQUIRE(onair.process().running());

    // The clip: unchanged, byte for byte, and still a clean MP4.
    auto again = vod_playlist(onair, "kept", "360p");
    CHECK(again.segments.size() == playlist.segments.size());
    for (const auto& [uri, content] : bytes) {
        auto r = onair.get("/vod/kept/360p/" + uri);
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->body == content);
    }
    auto segment = probe(
        fetch(onair, "/vod/kept/360p/" + first.uri, dir / "kept-first.ts").string(), dir.path());
    CHECK(segment.clean());
    auto mp4 = probe(fetch(onair, "/vod/kept/clip.mp4", dir / "kept.mp4").string(), dir.path());
    CHECK(mp4.clean());
    // A new clip of the expired range is refused.
    auto late =
        post_clip(onair, fmt::format(R"({{"start": {:.3f}, "end": {:.3f}, "title": "late"}})",
                                     *first.pdt_ms / 1000.0, *first.pdt_ms / 1000.0 + 2));
    REQUIRE(late);
    CHECK(late->status == 400);
    CHECK_THAT(late->body, Catch::Contains("before the DVR window"));
    REQUIRE(onair.stop());
}

// One fmp4 channel serves every check of CMAF: the live playlists and what
// they list, a time-shifted window, a frame-accurate clip (HLS and MP4) and
// the live window brought back from the DVR after a restart.
TEST_CASE(
    "CMAF: an fmp4 channel's init sections and .m4s segments, live, time-shifted, clipped "
    "and after a restart",
    "[integration][harvest][fmp4]") {
    TempDir dir("onair-cmaf");
    auto spec = harvest_spec(dir);
    spec.container = "fmp4";
    std::optional<Onair> onair(std::in_place, spec, dir);
    REQUIRE(onair->wait_ready());
    REQUIRE(onair->wait_segments(8, std::chrono::seconds(60)));

    // A CMAF segment as a player gets it: its init section, then the segment.
    auto fetch_cmaf = [&](const std::string& base, const MediaSegment& s, const std::string& name) {
        auto init = onair->get(base + s.map_uri);
        auto media = onair->get(base + s.uri);
        REQUIRE(init);
        REQUIRE(media);
        INFO(base << s.map_uri << " " << init->status << ", " << s.uri << " " << media->status);
        REQUIRE(init->status == 200);
        REQUIRE(media->status == 200);
        CHECK(init->header("Content-Type") == "video/mp4");
        CHECK(media->header("Content-Type") == "video/mp4");
        const auto file = dir.path() / name;
        std::ofstream(file, std::ios::binary) << init->body << media->body;
        return file;
    };

    std::map<std::string, MediaPlaylist> live;
    for (const auto& rung : spec.ladder) {
        auto r = onair->get(onair->media_path(rung.name));
        REQUIRE(r);
        REQUIRE(r->status == 200);
        INFO(r->body);
        auto playlist = parse_media_playlist(r->body);
        MediaCheckOptions rules;
        rules.uri_is_sequence = true;  // SEQ.m4s under an EXT-X-MAP
        auto problems = check_media_playlist(playlist, rules);
        INFO(join_lines(problems));
        CHECK(problems.empty());
        CHECK(playlist.version == 6);
        REQUIRE(playlist.segments.size() >= 8);
        const auto& newest = playlist.segments.back();
        CHECK(newest.map_uri.starts_with("init-"));
        for (const auto& s : playlist.segments) CHECK(s.map_uri == newest.map_uri);
        auto init = onair->get(onair->segment_path(rung.name, newest.map_uri));
        REQUIRE(init);
        CHECK(init->header("Cache-Control") == "max-age=86400, immutable");
        // What ffprobe reads from init + segment: the rung, both streams, the
        // EXTINF's length, and times that are the media time (the PDT).
        auto probed = probe(fetch_cmaf(onair->segment_path(rung.name, ""), newest,
                                       fmt::format("live-{}.mp4", rung.name))
                                .string(),
                            dir.path());
        INFO(probed.summary());
        CHECK(probed.clean());
        REQUIRE(probed.video());
        CHECK(probed.video()->width == rung.width);
        CHECK(probed.audio());
        REQUIRE_FALSE(probed.video_frames.empty());
        CHECK(probed.video_frames.front().key_frame);
        REQUIRE(probed.video_frames.front().pts_time);
        REQUIRE(newest.pdt_ms);
        CHECK(std::abs(*probed.video_frames.front().pts_time - *newest.pdt_ms / 1000.0) < 0.002);
        CHECK(std::abs(double(probed.video_frames.size()) * kFrame - newest.duration) <= kFrame);
        live[rung.name] = playlist;
    }
    // A wrong container's name is no segment of this channel.
    auto ts_name = onair->get(
        onair->segment_path("360p", fmt::format("{}.ts", live["360p"].segments.back().sequence)));
    REQUIRE(ts_name);
    CHECK(ts_name->status == 404);

    // Time-shift: three recorded segments as a VOD playlist with EXT-X-MAP,
    // played by FFmpeg's own HLS reader.
    const auto& window = live["360p"].segments;
    const auto& first = window[window.size() - 7];
    const auto& last = window[window.size() - 5];
    const std::string shifted = fmt::format("{}?start={:.3f}&end={:.3f}", onair->media_path("360p"),
                                            *first.pdt_ms / 1000.0, (*last.pdt_ms + 1000) / 1000.0);
    auto replay_text = onair->get(shifted);
    REQUIRE(replay_text);
    INFO(replay_text->body);
    REQUIRE(replay_text->status == 200);
    auto replay = parse_media_playlist(replay_text->body);
    CHECK(replay.playlist_type == "VOD");
    REQUIRE(replay.segments.size() == 3);
    CHECK(replay.segments.front().map_uri == first.map_uri);
    auto played = probe(fmt::format("http://127.0.0.1:{}{}", onair->port(), shifted), dir.path(),
                        std::chrono::seconds(60));
    INFO(played.summary());
    CHECK(played.clean());
    CHECK(played.audio());
    CHECK(std::abs(double(played.video_frames.size()) * kFrame - 3 * kSegment) <= 2 * kFrame);

    // A frame-accurate clip: T1 11 frames into one segment, T2 6 frames into
    // the third after it.
    const int64_t t1 = *first.pdt_ms + 420, t2 = *window[window.size() - 4].pdt_ms + 220;
    const int expected_frames =
        int(std::lround(double(*window[window.size() - 4].pdt_ms - *first.pdt_ms) / 1000 /
                        kFrame)) -
        11 + 6;
    auto posted = post_clip(*onair, fmt::format(R"({{"id": "cmaf", "start": {:.3f}, "end": {:.3f},
                                                    "title": "cmaf", "accuracy": "frame"}})",
                                                t1 / 1000.0, t2 / 1000.0));
    REQUIRE(posted);
    INFO(posted->body);
    REQUIRE(posted->status == 202);
    auto job = wait_job(*onair, "cmaf", std::chrono::seconds(120));
    INFO(boost::json::serialize(job));
    REQUIRE(job.at("status") == "succeeded");
    auto clip = vod_playlist(*onair, "cmaf", "360p");
    CHECK(clip.version == 6);
    int clip_frames = 0;
    for (const auto& s : clip.segments) {
        REQUIRE_FALSE(s.map_uri.empty());
        auto p =
            probe(fetch_cmaf("/vod/cmaf/360p/", s, "clip-" + s.uri + ".mp4").string(), dir.path());
        INFO(s.uri << ": " << p.summary());
        CHECK(p.clean());
        REQUIRE_FALSE(p.video_frames.empty());
        CHECK(p.video_frames.front().key_frame);
        clip_frames += int(p.video_frames.size());
    }
    CHECK(clip_frames == expected_frames);
    auto mp4 = probe(fetch(*onair, "/vod/cmaf/clip.mp4", dir / "cmaf.mp4").string(), dir.path());
    INFO(mp4.summary());
    CHECK(mp4.clean());
    CHECK(mp4.audio());
    CHECK(int(mp4.video_frames.size()) == expected_frames);

    // hls.js in headless Chromium plays both, start to end: the time-shifted
    // window from its first frame's PROGRAM-DATE-TIME, the clip for exactly
    // its frames.
    Process player(ProcessOptions{
        .argv = {"node", ONAIR_HLS_PLAYER,
                 fmt::format("http://127.0.0.1:{}{}", onair->port(), shifted), "60", "vod",
                 fmt::format("http://127.0.0.1:{}/vod/cmaf/master.m3u8", onair->port())},
        .output_dir = dir.path(),
        .name = "player"});
    auto exit = player.wait_for(std::chrono::seconds(150));
    INFO(player.report());
    INFO(player.read_stderr());
    REQUIRE(exit);
    REQUIRE(exit->success());
    std::vector<boost::json::object> runs;
    std::istringstream out(player.read_stdout());
    for (std::string line; std::getline(out, line);)
        if (line.starts_with("{")) runs.push_back(boost::json::parse(line).as_object());
    REQUIRE(runs.size() == 2);
    const double expected_seconds[] = {3 * kSegment, expected_frames * kFrame};
    const int64_t expected_first_ms[] = {*first.pdt_ms, t1};
    for (int i = 0; i < 2; ++i) {
        INFO(boost::json::serialize(runs[i]));
        CHECK(runs[i].at("ended").as_bool());
        CHECK(runs[i].at("errors").as_array().empty());
        CHECK(runs[i].at("stalls").as_int64() == 0);
        CHECK(std::abs(runs[i].at("duration").to_number<double>() - expected_seconds[i]) <=
              2 * kFrame);
        CHECK(std::abs(runs[i].at("played").to_number<double>() - expected_seconds[i]) <=
              2 * kFrame);
        REQUIRE(runs[i].at("first_date_ms").is_number());
        CHECK(std::abs(runs[i].at("first_date_ms").to_number<double>() -
                       double(expected_first_ms[i])) <= 1000 * kFrame);
    }

    // The DVR keeps .m4s files beside their init section; after a restart the
    // live window comes back from it, EXT-X-MAP and all.
    const auto recorded_last = live["360p"].segments.back();
    CHECK(fs::exists(data_dir(dir) / "dvr" / "360p" / recorded_last.uri));
    CHECK(fs::exists(data_dir(dir) / "dvr" / "360p" / recorded_last.map_uri));
    REQUIRE(onair->stop());
    onair.emplace(spec, dir);
    REQUIRE(onair->wait_ready());
    auto resumed = onair->media("360p");
    REQUIRE(resumed);
    auto kept = std::find_if(resumed->segments.begin(), resumed->segments.end(),
                             [&](const MediaSegment& s) { return s.uri == recorded_last.uri; });
    REQUIRE(kept != resumed->segments.end());
    CHECK(kept->map_uri == recorded_last.map_uri);
    auto again = probe(fetch_cmaf(onair->segment_path("360p", ""), *kept, "resumed.mp4").string(),
                       dir.path());
    INFO(again.summary());
    CHECK(again.clean());
    REQUIRE(onair->stop());
}
