#pragma once
// The channel file: YAML in, validated structs out. Validation reports every
// problem at once, each with the file, line and column it comes from, the key
// path, what is wrong and what is allowed. Exceptions never leave this module:
// YAML syntax errors become diagnostics too. Parsing reads text only; what the
// file names on the machine (files, ports) is checked by core/machine_check.hpp.
#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/container.hpp"
#include "core/diagnostic.hpp"
#include "core/enum_names.hpp"
#include "core/units.hpp"

namespace onair::core {

enum class InputKind { srt, udp, rtp, testsrc };
enum class SrtMode { listener, caller };

// One input URL, parsed:
//   srt://HOST:PORT?mode=listener|caller&latency=MS&passphrase=...&pbkeylen=16|24|32&streamid=...
//   udp://HOST:PORT[?localaddr=IP]      MPEG-TS in UDP datagrams (unicast or multicast)
//   rtp://HOST:PORT[?localaddr=IP]      MPEG-TS in RTP (payload type 33)
//   testsrc:[?size=WxH&rate=FPS&tone=HZ]  built-in signal: pattern, burnt-in clock, tone
//   (a bare `testsrc` is accepted too: YAML reads `a: testsrc:` as a nested key)
struct InputSpec {
    InputKind kind = InputKind::testsrc;
    std::string url;   // as written
    std::string host;  // bind address (listener, udp, rtp) or peer (caller)
    int port = 0;
    // srt
    SrtMode srt_mode = SrtMode::listener;  // default: listener when HOST is empty, 0.0.0.0 or ::
    int latency_ms = 120;
    std::string passphrase;  // never logged or printed
    int pbkeylen = 0;        // 0: libsrt's default
    std::string streamid;
    // udp and rtp
    std::string localaddr;  // interface for multicast
    // testsrc
    int width = 1280;
    int height = 720;
    Rational rate{25, 1};
    int tone_hz = 1000;

    bool listens() const;          // binds a local UDP port (srt listener, udp, rtp)
    std::string describe() const;  // for the plan; hides the passphrase
};

struct UrlProblem {
    std::string message;
    std::string allowed;
};

// Parses one input URL; every problem found is returned.
std::expected<InputSpec, std::vector<UrlProblem>> parse_input_url(std::string_view url);

// Whether `text` may be a URL at all: printable ASCII, no spaces (RFC 3986).
// Checked before Boost.URL's parse_uri and parse_absolute_uri, which in 1.81
// assert (and without assertions read on) when a scheme is followed by any
// other byte ("i:\xc7"), instead of refusing it.
bool url_characters_only(std::string_view text);

enum class TimecodeSource { pts, systemclock };
enum class H264Profile { baseline, main, high };

struct Rung {
    std::string name;  // also the URL path element: [A-Za-z0-9_-]{1,32}
    int width = 0;
    int height = 0;
    int64_t bitrate = 0;      // video bits/s
    int64_t max_bitrate = 0;  // VBV cap; default: bitrate
    int64_t bufsize = 0;      // VBV buffer; default: 2 * max_bitrate
    H264Profile profile = H264Profile::high;
    std::optional<Rational> fps;  // absent: the source's rate
};

struct AudioConfig {
    int64_t bitrate = 128000;
    int channels = 2;
    int sample_rate = 48000;
};

struct EncoderConfig {
    std::string preset = "veryfast";  // x264 preset
    Micros gop = std::chrono::seconds(2);
    // Not a key: set with hls.part. x264's zerolatency tune (no B-frames,
    // no lookahead), so a frame is out as soon as it is in and every part
    // holds a run of frames in presentation order.
    bool low_latency = false;
};

// RFC 8216 6.2.2: a live playlist holds at least three target durations.
inline constexpr int64_t kMinWindowSegments = 3;

struct HlsConfig {
    Micros segment = std::chrono::seconds(6);
    Micros window = std::chrono::seconds(60);
    Container container = Container::ts;
    // LL-HLS (fmp4 only): the part length; zero: off.
    Micros part = Micros(0);
    bool low_latency() const { return part.count() > 0; }
};

struct OriginConfig {
    std::string host = "127.0.0.1";
    int port = 8080;
    int threads = 0;  // 0: one per core
    int max_connections = 10000;
    // Requests a second per client address on /api/ and /ingest/ (429 past
    // it; 0: no limit), and how many at once.
    int api_rate = 100;
    int api_burst = 200;
    // Tokens (from the environment, else from these files): ingest pushes
    // need ONAIR_INGEST_TOKEN, control calls need ONAIR_API_TOKEN.
    std::string ingest_token_file;
    std::string api_token_file;
    // Playlists, segments and clips only with a signed URL (?token=), made
    // with the secret from ONAIR_PLAYBACK_SECRET, else from this file.
    bool signed_urls = false;
    std::string playback_secret_file;
    // HTTPS, with both: the certificate chain and its private key (PEM).
    std::string tls_certificate;
    std::string tls_key;
};

// What a pipeline emits while its input is lost, so its output never stops:
// after `after` without pictures, the last picture for `repeat_last`, then
// black or a still image, with silence. Segments holding it are slate.
enum class LossFill { black, slate };
struct InputLossConfig {
    Micros after = std::chrono::seconds(1);
    Micros repeat_last = std::chrono::seconds(1);
    LossFill then = LossFill::black;
    std::string slate;  // PNG or JPEG path (then: slate), as written (relative to the cwd)
};

// Content checks whose failure makes the origin prefer the other pipeline.
// Each is off unless given; a condition counts once it has lasted `duration`.
struct BlackCheck {
    bool enabled = false;
    double picture = 0.98;  // share of the picture's pixels that must be black
    double pixel = 0.10;    // luma at or below this share of the range is black
    Micros duration = std::chrono::seconds(2);
};
struct FreezeCheck {
    bool enabled = false;
    double noise_db = -60;  // frames closer than this count as the same
    Micros duration = std::chrono::seconds(4);
};
struct SilenceCheck {
    bool enabled = false;
    double level_db = -50;  // audio below this level is silence
    Micros duration = std::chrono::seconds(4);
};

enum class FailoverMode { primary_preferred, equal };
struct FailoverConfig {
    FailoverMode mode = FailoverMode::primary_preferred;
    // The active pipeline's segment N is late when it has not arrived this
    // long after N is due (the moment the first copy of N arrived).
    Micros late_after = std::chrono::seconds(1);
    // primary-preferred: back to A once it has been healthy this long.
    Micros return_after = std::chrono::seconds(10);
    BlackCheck black;
    FreezeCheck freeze;
    SilenceCheck silence;
    std::string webhook;  // http://HOST[:PORT]/PATH, POSTed a JSON event per switch; empty: none
};

// The DVR: every segment the origin served, on disk under the channel's data
// folder, for `window` (and within `max_bytes`, oldest deleted first).
struct DvrConfig {
    Micros window = std::chrono::hours(2);
    int64_t max_bytes = 0;  // 0: no budget beyond the window
};

// Live-to-VOD clips (harvest jobs): where the assets go and how many are cut at once.
struct ClipsConfig {
    int concurrency = 2;
    int max_queued = 16;    // jobs waiting beyond the running ones; more are refused (429)
    std::string rendition;  // the MP4's rendition; empty: the first rung
    std::string webhook;    // POSTed the job when it ends; empty: none
};

struct PipelineInput {
    char id = 'a';  // 'a' or 'b'
    InputSpec input;
};

struct ChannelConfig {
    std::string file;                   // the path it was read from
    std::string channel;                // [A-Za-z0-9_-]{1,64}
    std::vector<PipelineInput> inputs;  // 'a' first, then 'b' if given
    TimecodeSource timecode = TimecodeSource::pts;
    std::vector<Rung> ladder;
    AudioConfig audio;
    EncoderConfig encoder;
    HlsConfig hls;
    OriginConfig origin;
    InputLossConfig input_loss;
    FailoverConfig failover;
    std::string data_dir;  // DVR, catalog and clips; default ./data/CHANNEL
    DvrConfig dvr;
    ClipsConfig clips;
    // Where each key path was written, and its value, for messages about it
    // found later (a port found in use at start-up, a file that cannot be read).
    std::map<std::string, SourcePosition> positions;
    std::map<std::string, SourcePosition> value_positions;

    Diagnostic diagnostic(const std::string& key, std::string message,
                          std::string allowed = {}) const;
};

using ConfigResult = std::expected<ChannelConfig, std::vector<Diagnostic>>;

// Reads and validates a channel file. `file` names it in the messages.
// When the file has problems, `partial` (if given) receives what could be read
// (a value that did not parse keeps its default), so that checks of the
// machine (readable files) can be reported with them, every problem at once.
ConfigResult parse_channel_config(std::string_view yaml_text, const std::string& file,
                                  ChannelConfig* partial = nullptr);
ConfigResult load_channel_config(const std::string& path, ChannelConfig* partial = nullptr);

// Each enum's names, as the channel file writes them; parsing and to_string use these.
inline constexpr auto kTimecodeSources = enum_names<TimecodeSource>(
    std::pair{TimecodeSource::pts, "pts"}, std::pair{TimecodeSource::systemclock, "systemclock"});
inline constexpr auto kH264Profiles = enum_names<H264Profile>(
    std::pair{H264Profile::baseline, "baseline"}, std::pair{H264Profile::main, "main"},
    std::pair{H264Profile::high, "high"});
inline constexpr auto kInputKinds = enum_names<InputKind>(
    std::pair{InputKind::srt, "srt"}, std::pair{InputKind::udp, "udp"},
    std::pair{InputKind::rtp, "rtp"}, std::pair{InputKind::testsrc, "testsrc"});
inline constexpr auto kFailoverModes =
    enum_names<FailoverMode>(std::pair{FailoverMode::primary_preferred, "primary-preferred"},
                             std::pair{FailoverMode::equal, "equal"});
inline constexpr auto kLossFills =
    enum_names<LossFill>(std::pair{LossFill::black, "black"}, std::pair{LossFill::slate, "slate"});

const char* to_string(TimecodeSource source);
const char* to_string(H264Profile profile);
const char* to_string(InputKind kind);
const char* to_string(FailoverMode mode);  // "primary-preferred", "equal"
const char* to_string(LossFill fill);

// The README's key table (section "The channel file"), from the schema.
std::string channel_key_table();

// For "did you mean" hints: the candidate equal to `word` but for case, else
// the nearest one at most two edits away (one for candidates of up to four
// letters; a swap of neighbours is one edit); empty when none is close.
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace onair::core
