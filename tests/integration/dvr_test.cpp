// The DVR on a real channel: time-shifted playlists (a finished window as
// VOD, a window from a start on as EVENT) whose segments are real media,
// expiry of a 1 min window while the channel runs, and a restart of the
// whole process on the same data folder that goes on where it stopped.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
namespace fs = std::filesystem;

namespace {

// A time as a player may write it: epoch seconds with milliseconds.
std::string epoch(int64_t utc_ms) {
    return fmt::format("{}.{:03}", utc_ms / 1000, utc_ms % 1000);
}

struct Fetched {
    int status = 0;
    std::string body;
    MediaPlaylist playlist;
    std::vector<std::string> problems;  // the RFC checker's
};

// A media playlist through the RFC checker (`live`: no ENDLIST, no VOD).
Fetched fetch_media(Onair& onair, const std::string& target, bool live, bool uri_is_sequence) {
    Fetched out;
    auto r = onair.get(target);
    if (!r) {
        out.problems.push_back(target + ": " + r.error());
        return out;
    }
    out.status = r->status;
    out.body = r->body;
    if (r->status != 200) return out;
    out.playlist = parse_media_playlist(r->body);
    MediaCheckOptions options;
    options.live = live;
    options.uri_is_sequence = uri_is_sequence;
    out.problems = check_media_playlist(out.playlist, options);
    return out;
}

std::vector<std::string> uris_of(const MediaPlaylist& p) {
    std::vector<std::string> out;
    for (const auto& s : p.segments) out.push_back(s.uri);
    return out;
}

std::vector<std::string> discontinuities(const MediaPlaylist& p) {
    std::vector<std::string> out;
    for (const auto& s : p.segments)
        if (s.discontinuity) out.push_back(s.uri);
    return out;
}

int64_t sequence_of(const std::string& uri) {
    return std::stoll(uri.substr(0, uri.find('.')));
}

size_t files_in(const fs::path& folder) {
    std::error_code ec;
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(folder, ec)) n += e.path().extension() == ".ts";
    return n;
}

// Every segment of `p` downloaded and checked against its rung.
std::vector<std::string> check_segments(Onair& onair, const RungSpec& rung, const MediaPlaylist& p,
                                        const fs::path& dir) {
    std::vector<std::string> problems;
    for (const auto& segment : p.segments) {
        auto checked = check_segment(onair, rung, segment, dir);
        problems.insert(problems.end(), checked.problems.begin(), checked.problems.end());
    }
    return problems;
}

ChannelSpec small_channel(std::string extra_yaml) {
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    spec.extra_yaml = std::move(extra_yaml);
    return spec;
}

SenderOptions small_sender(int port, const fs::path& dir) {
    return {.mode = SenderMode::srt_caller,
            .port = port,
            .width = 640,
            .height = 360,
            .output_dir = dir};
}

}  // namespace

TEST_CASE("DVR: time-shift windows on a running channel and a 1 min window that expires",
          "[integration][dvr]") {
    TempDir dir("onair-dvr");
    ChannelSpec spec = small_channel("dvr: {window: 1m}\n");
    const int input_port = free_udp_port();
    spec.input_url = input_url_for(SenderMode::srt_caller, input_port);
    const fs::path dvr_folder = dir.path() / "data" / spec.channel / "dvr";  // the default
    INFO("origin port " << spec.http_port << ", files in " << dir.path().string());

    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    Process sender = start_sender(small_sender(input_port, dir.path()));
    REQUIRE(onair.wait_segments(6, std::chrono::seconds(45)));
    REQUIRE(onair.process().running());
    CHECK(fs::exists(dvr_folder / "index.sqlite"));

    auto live = onair.media("360p");
    REQUIRE(live);
    REQUIRE(live->segments.size() >= 6);
    const MediaSegment oldest = live->segments.front();
    REQUIRE(oldest.pdt_ms);
    const fs::path oldest_file = dvr_folder / "360p" / oldest.uri;
    CHECK(fs::exists(oldest_file));
    // The last segment of the VOD window below: once it goes, all of it has.
    const fs::path window_file = dvr_folder / "360p" / live->segments[3].uri;

    // A finished window: the 2nd to the 4th listed, as VOD.
    const MediaSegment& from = live->segments[1];
    const MediaSegment& to = live->segments[4];
    const std::string vod_query =
        fmt::format("start={}&end={}", epoch(*from.pdt_ms), epoch(*to.pdt_ms));
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name << ", window " << vod_query);
        auto vod = fetch_media(onair, onair.media_path(rung.name) + "?" + vod_query, false, true);
        INFO(vod.body);
        REQUIRE(vod.status == 200);
        INFO(join_lines(vod.problems));
        CHECK(vod.problems.empty());
        CHECK(vod.playlist.playlist_type == "VOD");
        CHECK(vod.playlist.endlist);
        CHECK(uris_of(vod.playlist) == std::vector<std::string>{live->segments[1].uri,
                                                                live->segments[2].uri,
                                                                live->segments[3].uri});
        auto problems = check_segments(onair, rung, vod.playlist, dir.path());
        INFO(join_lines(problems));
        CHECK(problems.empty());
    }
    // Through the master, as a player starts.
    auto master = onair.get(onair.master_path() + "?" + vod_query);
    REQUIRE(master);
    REQUIRE(master->status == 200);
    auto parsed_master = parse_master_playlist(master->body);
    INFO(master->body);
    CHECK(check_master_playlist(parsed_master).empty());
    REQUIRE(parsed_master.variants.size() == spec.ladder.size());
    for (const auto& v : parsed_master.variants) {
        CHECK(v.uri.ends_with("/index.m3u8?" + vod_query));
        auto followed =
            fetch_media(onair, fmt::format("/live/{}/{}", spec.channel, v.uri), false, true);
        CHECK(followed.status == 200);
        CHECK(followed.playlist.segments.size() == 3);
    }

    // From a start on, growing live: EVENT, no ENDLIST.
    const std::string event_target =
        onair.media_path("360p") + "?start=" + epoch(*live->segments[2].pdt_ms);
    ReloadTracker event_tracker("360p from a start");
    auto first_event = fetch_media(onair, event_target, true, true);
    REQUIRE(first_event.status == 200);
    INFO(first_event.body);
    CHECK(first_event.problems.empty());
    CHECK(first_event.playlist.playlist_type == "EVENT");
    CHECK_FALSE(first_event.playlist.endlist);
    CHECK(first_event.playlist.first_sequence() == live->segments[2].sequence);
    CHECK(event_tracker.add(first_event.playlist).empty());
    Fetched grown;
    auto grew = wait_until(
        "the time-shift EVENT playlist to grow by 2 segments",
        [&] {
            grown = fetch_media(onair, event_target, true, true);
            event_tracker.add(grown.playlist);
            return grown.status == 200 &&
                   grown.playlist.segments.size() >= first_event.playlist.segments.size() + 2;
        },
        std::chrono::seconds(15), std::chrono::milliseconds(1000));
    CHECK(grew);
    CHECK(grown.problems.empty());
    CHECK(grown.playlist.first_sequence() == live->segments[2].sequence);
    CHECK(event_tracker.violations().empty());
    {
        auto problems = check_segments(onair, spec.ladder[0], grown.playlist, dir.path());
        INFO(join_lines(problems));
        CHECK(problems.empty());
    }

    // Expiry: with a 1 min window the oldest file goes while the channel
    // runs on, and with it the windows over it; the live playlists never stop.
    PlaylistWatcher watcher(onair);
    auto expired = wait_until(
        "the DVR to delete the VOD window's segments (1 min window)",
        [&] {
            watcher.reload();
            return !fs::exists(window_file);
        },
        std::chrono::seconds(90), std::chrono::milliseconds(1000));
    REQUIRE(onair.process().running());
    CHECK(expired);
    INFO(watcher.problems_text());
    CHECK(watcher.problems().empty());
    CHECK_FALSE(fs::exists(oldest_file));
    CHECK_FALSE(fs::exists(dvr_folder / "234p" / oldest.uri));
    // About a minute of 2 s segments, and a few in flight.
    CHECK(files_in(dvr_folder / "360p") <= 34);
    CHECK(files_in(dvr_folder / "360p") >= 28);
    auto gone = onair.get(onair.media_path("360p") + "?" + vod_query);
    REQUIRE(gone);
    CHECK(gone->status == 404);
    CHECK_THAT(gone->body, Catch::Contains("\"reason\""));
    // A past window that begins before the oldest still held starts at what
    // is left. It ends where the live playlist begins: recorded, and past.
    auto live_now = onair.media("360p");
    REQUIRE(live_now);
    REQUIRE_FALSE(live_now->segments.empty());
    REQUIRE(live_now->segments.front().pdt_ms);
    auto rest = fetch_media(onair,
                            onair.media_path("360p") + "?start=" + epoch(*oldest.pdt_ms) +
                                "&end=" + epoch(*live_now->segments.front().pdt_ms),
                            false, true);
    INFO(rest.body);
    REQUIRE(rest.status == 200);
    CHECK(rest.playlist.playlist_type == "VOD");
    REQUIRE_FALSE(rest.playlist.segments.empty());
    CHECK(sequence_of(rest.playlist.segments.front().uri) > oldest.sequence);
    CHECK(*rest.playlist.segments.front().pdt_ms >= *oldest.pdt_ms + 2000);
    // A live window from there would have to drop its first segments, which
    // an EVENT playlist may not: 404, with the reason.
    auto live_from_gone = onair.get(onair.media_path("360p") + "?start=" + epoch(*oldest.pdt_ms));
    REQUIRE(live_from_gone);
    CHECK(live_from_gone->status == 404);
    CHECK_THAT(live_from_gone->body, Catch::Contains("start has left the DVR window"));

    auto exit = onair.stop();
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}

TEST_CASE("DVR: after a restart of the whole process the live playlist goes on from the recording",
          "[integration][dvr]") {
    TempDir dir("onair-dvr-restart");
    const fs::path data = dir.path() / "channel-data";
    ChannelSpec spec = small_channel(fmt::format("data: {}\n", data.string()));
    const int input_port = free_udp_port();
    spec.input_url = input_url_for(SenderMode::srt_caller, input_port);
    INFO("origin port " << spec.http_port << ", files in " << dir.path().string());

    // First run: a few segments, then a clean stop.
    std::map<std::string, MediaPlaylist> before;
    {
        Onair onair(spec, dir);
        REQUIRE(onair.wait_ready());
        Process sender = start_sender(small_sender(input_port, dir.path()));
        REQUIRE(onair.wait_segments(4, std::chrono::seconds(45)));
        PlaylistWatcher watcher(onair);
        REQUIRE(watcher.reload());
        CHECK(watcher.problems().empty());
        auto exit = onair.stop();
        REQUIRE(exit);
        CHECK(exit->describe() == "exit 0");
        // What it listed last (the flushed last segments may follow it).
        for (const auto& rung : spec.ladder) before[rung.name] = watcher.latest(rung.name);
    }
    REQUIRE(fs::exists(data / "dvr" / "index.sqlite"));
    for (const auto& rung : spec.ladder)
        for (const auto& s : before[rung.name].segments)
            CHECK(fs::exists(data / "dvr" / rung.name / s.uri));

    // Second run on the same data folder: the recording is listed at once.
    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    std::map<std::string, int64_t> last_recorded;
    std::map<std::string, ReloadTracker> trackers;
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name);
        auto restored = fetch_media(onair, onair.media_path(rung.name), true, true);
        INFO(restored.body);
        REQUIRE(restored.status == 200);
        CHECK(restored.problems.empty());
        auto listed = uris_of(restored.playlist);
        REQUIRE_FALSE(listed.empty());
        // It continues what the first run listed.
        for (const auto& uri : uris_of(before[rung.name]))
            if (sequence_of(uri) >= sequence_of(listed.front()))
                CHECK(std::find(listed.begin(), listed.end(), uri) != listed.end());
        CHECK(discontinuities(restored.playlist).empty());
        last_recorded[rung.name] = sequence_of(listed.back());
        trackers.emplace(rung.name, ReloadTracker(rung.name));
        CHECK(trackers.at(rung.name).add(restored.playlist).empty());
        auto problems = check_segments(onair, rung, restored.playlist, dir.path());
        INFO(join_lines(problems));
        CHECK(problems.empty());
    }

    // New media: after the real gap, exactly one discontinuity.
    Process sender = start_sender(small_sender(input_port, dir.path()));
    std::map<std::string, Fetched> after;
    auto resumed = wait_until(
        "every rung to list 3 new segments after the restart",
        [&] {
            bool all = true;
            for (const auto& rung : spec.ladder) {
                auto f = fetch_media(onair, onair.media_path(rung.name), true, false);
                if (f.status == 200) trackers.at(rung.name).add(f.playlist);
                size_t fresh = 0;
                for (const auto& s : f.playlist.segments)
                    fresh += sequence_of(s.uri) > last_recorded[rung.name];
                all = all && fresh >= 3;
                after[rung.name] = std::move(f);
            }
            return all;
        },
        std::chrono::seconds(45), std::chrono::milliseconds(1000));
    REQUIRE(onair.process().running());
    REQUIRE(resumed);
    std::map<std::string, std::string> first_new;
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name);
        const auto& f = after[rung.name];
        INFO(f.body);
        INFO(join_lines(f.problems));
        CHECK(f.problems.empty());
        CHECK(trackers.at(rung.name).violations().empty());
        auto uris = uris_of(f.playlist);
        auto gap = std::find_if(uris.begin(), uris.end(), [&](const std::string& u) {
            return sequence_of(u) > last_recorded[rung.name];
        });
        REQUIRE(gap != uris.begin());  // recorded segments still lead
        REQUIRE(gap != uris.end());
        // A real gap in time before it.
        const auto& resumed_at = f.playlist.segments[size_t(gap - uris.begin())];
        const auto& stopped_at = f.playlist.segments[size_t(gap - uris.begin()) - 1];
        REQUIRE((resumed_at.pdt_ms && stopped_at.pdt_ms));
        CHECK(*resumed_at.pdt_ms > *stopped_at.pdt_ms + int64_t(stopped_at.duration * 1000) + 40);
        first_new[rung.name] = *gap;
        CHECK(discontinuities(f.playlist) == std::vector<std::string>{*gap});
        auto problems = check_segments(onair, rung, f.playlist, dir.path());
        INFO(join_lines(problems));
        CHECK(problems.empty());
    }

    // A time-shift window across the restart: the discontinuity at the gap only.
    const auto& p = after["360p"].playlist;
    const std::string query = fmt::format("start={}&end={}", epoch(*p.segments.front().pdt_ms),
                                          epoch(*p.segments.back().pdt_ms));
    for (const auto& rung : spec.ladder) {
        INFO("rung " << rung.name << ", window " << query);
        auto shifted = fetch_media(onair, onair.media_path(rung.name) + "?" + query, false, false);
        INFO(shifted.body);
        REQUIRE(shifted.status == 200);
        INFO(join_lines(shifted.problems));
        CHECK(shifted.problems.empty());
        CHECK(shifted.playlist.playlist_type == "VOD");
        CHECK(discontinuities(shifted.playlist) == std::vector<std::string>{first_new[rung.name]});
    }

    auto exit = onair.stop();
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
}
