#pragma once
// Runs the onair binary under test (ONAIR_BINARY) on one channel file and
// talks to its origin: the channel YAML the integration tests use, the
// child process, /healthz, playlists and segments over HTTP, and a watcher
// that reloads every media playlist through the RFC checker and a
// ReloadTracker. Used from the test's main thread.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/support/ffprobe.hpp"
#include "tests/support/hls.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sender.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace onair::testing {

std::string onair_binary();

struct RungSpec {
    std::string name;
    int width = 0;
    int height = 0;
    std::string bitrate;
};

// Small on purpose: two rungs keep a loaded 2-core machine steady.
struct ChannelSpec {
    std::string channel = "itest";
    std::string input_url;
    std::string input_b_url;  // empty: one pipeline
    std::string extra_yaml;   // appended as written (failover:, input_loss: ...)
    std::vector<RungSpec> ladder = {{"360p", 640, 360, "800k"}, {"234p", 416, 234, "300k"}};
    std::string preset = "veryfast";
    std::string gop = "1s";
    std::string segment = "2s";
    double segment_seconds = 2.0;
    std::string window = "20s";
    std::string container = "ts";  // hls.container
    std::string part;              // hls.part; empty: not written
    int http_port = 0;
    std::string origin_extra;     // more keys of origin:, "key: value, key: value"
    std::string command = "run";  // or "origin": the origin alone (process mode)
    std::vector<std::pair<std::string, std::string>> env{};  // added to onair's environment
};

std::string channel_yaml(const ChannelSpec& spec);

// One `onair encode` process for `pipeline` of the channel file `file`,
// pushing to the origin on 127.0.0.1:origin_port with the ingest token.
// `generation` tells restarts apart in its log's name.
Process start_encoder(const std::filesystem::path& file, char pipeline, int origin_port,
                      const TempDir& dir, int generation, const std::string& token);

// What `promtool check metrics` (Debian's prometheus package) says of a
// /metrics text: empty when it passes, else its words.
std::string promtool_problems(const std::string& metrics, const TempDir& dir);
// The onair_* metric names the Grafana dashboard in docs/grafana queries.
std::set<std::string> dashboard_metric_names();

// Whether a script printed `word` as a line of its own on stdout.
bool said_line(const Process& script, std::string_view word);

// onair's input URL for a sender of this mode on `port`.
std::string input_url_for(SenderMode mode, int port);

class Onair {
  public:
    // Writes DIR/channel.yaml and starts `onair COMMAND` (run) on it.
    Onair(ChannelSpec spec, const TempDir& dir);

    Process& process() { return process_; }
    const ChannelSpec& spec() const { return spec_; }
    int port() const { return spec_.http_port; }

    HttpResult get(const std::string& target,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
    std::string master_path() const;
    std::string media_path(const std::string& rendition) const;
    std::string segment_path(const std::string& rendition, const std::string& uri) const;

    // /healthz parsed; nullopt when it does not answer 200 with a JSON object.
    std::optional<boost::json::object> healthz();
    // /api/v1/channels/CHANNEL parsed (inputs, pipelines, failover).
    std::optional<boost::json::object> channel_status();
    // pipelines.a (or `id`) from /healthz.
    std::optional<boost::json::object> pipeline_status(const std::string& id = "a");
    // The media playlist of a rendition, when it answers 200.
    std::optional<MediaPlaylist> media(const std::string& rendition);

    // Until /healthz answers 200.
    WaitResult wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // Until every rung's media playlist lists at least `count` segments.
    WaitResult wait_segments(size_t count, std::chrono::milliseconds timeout);

    // SIGINT, then waits for the exit.
    std::optional<ExitStatus> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  private:
    ChannelSpec spec_;
    std::filesystem::path file_;
    Process process_;
};

// Reloads every rung's media playlist: each reload goes through the RFC
// checker and the rung's ReloadTracker; every problem is kept.
class PlaylistWatcher {
  public:
    explicit PlaylistWatcher(Onair& onair);

    // One round of reloads; false if some playlist could not be fetched.
    bool reload();
    const std::vector<std::string>& problems() const { return problems_; }
    std::string problems_text() const;
    ReloadTracker& tracker(const std::string& rendition) { return trackers_.at(rendition); }
    // The latest reload of a rung.
    const MediaPlaylist& latest(const std::string& rendition) const {
        return latest_.at(rendition);
    }
    const std::string& latest_text(const std::string& rendition) const {
        return latest_text_.at(rendition);
    }
    // The smallest last sequence number across rungs (nullopt before any).
    std::optional<int64_t> last_sequence() const;
    size_t reloads() const { return reloads_; }

  private:
    Onair& onair_;
    std::map<std::string, ReloadTracker> trackers_;
    std::map<std::string, MediaPlaylist> latest_;
    std::map<std::string, std::string> latest_text_;
    std::vector<std::string> problems_;
    size_t reloads_ = 0;
};

struct SegmentCheck {
    int64_t sequence = 0;
    std::string uri;
    std::vector<std::string> problems;  // empty: the segment is good
    std::optional<AvcSps> sps;
    ProbeResult probe;
};

// Fetches one listed segment and checks it against its rung: HTTP 200 with a
// TS content type; ffprobe clean; H.264 at the rung's size starting with an
// IDR (first slice NAL type 5, first decoded frame an I key frame); AAC audio
// present; |EXTINF - real duration| <= one frame; an SPS whose profile and
// level agree with ffprobe's.
SegmentCheck check_segment(Onair& onair, const RungSpec& rung, const MediaSegment& segment,
                           const std::filesystem::path& dir);

std::string join_lines(const std::vector<std::string>& lines);

// The input's state ("connected", "stalled", ...) from a pipeline's /healthz object.
inline std::string state_of(const boost::json::object& pipeline) {
    return std::string(pipeline.at("input").at("state").as_string());
}

// Records what a player gets from the master playlist (-c copy, ffmpeg's own
// HLS reader), then says whether any timestamp jumps by more than a frame.
struct Recorder {
    std::filesystem::path file;
    Process process;

    Recorder(Onair& onair, const TempDir& dir);
    // Stops it and checks the recording: at least `at_least_seconds`, no
    // video step over 1.5 frames of `frame` seconds, none backwards, audio.
    void finish_and_check(const TempDir& dir, double at_least_seconds, double frame);
};

}  // namespace onair::testing
