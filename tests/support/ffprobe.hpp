#pragma once
// What ffprobe says about one media file or URL, for checking segments:
// streams, decoded video frames (pts, key frame, picture type), the number
// of audio frames, and ffprobe's stderr under -v error. ffprobe exits 0 on
// damaged input, so clean() also requires an empty stderr. Runs ffprobe as a
// child process (see process.hpp); call from the test's main thread.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/process.hpp"

namespace onair::testing {

struct ProbeStream {
    int index = 0;
    std::string codec_type;  // "video", "audio", "data"
    std::string codec_name;  // "h264", "aac"
    std::string profile;     // "High", "Main", "Constrained Baseline", "LC"
    int level = 0;           // H.264 level_idc (31 for 3.1); 0 when not given
    int width = 0;
    int height = 0;
    double frame_rate = 0;  // avg_frame_rate, else r_frame_rate; 0 when unknown
    int sample_rate = 0;
    int channels = 0;
};

struct ProbeFrame {
    std::optional<double> pts_time;
    std::optional<double> duration_time;
    bool key_frame = false;
    std::string pict_type;  // "I", "P", "B"
};

struct ProbeResult {
    std::string target;                // file or URL probed
    std::string command;               // for messages
    std::optional<ExitStatus> status;  // nullopt: timed out
    std::string errors;                // stderr (-v error)
    std::string parse_error;           // when stdout was not the JSON expected
    std::vector<ProbeStream> streams;
    std::vector<ProbeFrame> video_frames;  // of the first video stream, in output order
    int audio_frames = 0;
    std::optional<double> format_duration;

    bool clean() const {
        return status && status->success() && errors.empty() && parse_error.empty();
    }
    const ProbeStream* video() const;
    const ProbeStream* audio() const;
    // One video frame: the frames' own duration, else 1 / the stream's rate.
    std::optional<double> frame_duration() const;
    // Last pts - first pts + one frame.
    std::optional<double> video_duration() const;
    // A line for failure messages.
    std::string summary() const;
};

// Probes streams, format and every frame. `output_dir` receives ffprobe's
// stdout and stderr files.
ProbeResult probe(const std::string& target, const std::filesystem::path& output_dir,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The average luma (0..255, signalstats YAVG) of a file's last video frame;
// nullopt when ffprobe cannot tell. Black pictures are near 16.
std::optional<double> probe_luma(const std::filesystem::path& file,
                                 const std::filesystem::path& output_dir);

// The first H.264 sequence parameter set in an MPEG-TS file: profile_idc,
// the constraint flags byte and level_idc, as RFC 6381 writes them.
struct AvcSps {
    int profile_idc = 0;
    int constraint_flags = 0;
    int level_idc = 0;
    std::string codec_string() const;  // "avc1.64001f"
};
std::optional<AvcSps> find_avc_sps(std::string_view ts_bytes);

// The H.264 elementary stream of an MPEG-TS file (the first stream of type
// 0x1b in its PMT), PES headers removed; at most `limit` bytes.
std::string h264_elementary_stream(std::string_view ts_bytes, size_t limit = 4u << 20);
// The nal_unit_type of the first coded slice: 5 for IDR, 1 for others.
std::optional<int> first_slice_nal_type(std::string_view ts_bytes);

// ffprobe's profile name -> profile_idc ("High" -> 100); 0 when unknown.
int profile_idc_from_name(std::string_view name);

}  // namespace onair::testing
