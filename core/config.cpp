// The channel file: yaml-cpp reads it into nodes, the schema below (one
// declaration per key, core/schema.hpp) reads them into a ChannelConfig and
// reports every problem before giving up, so one `onair check` shows them
// all; the rules between keys follow as plain code. Limits live in the
// constants at the top; every message states the allowed set or range.
#include "core/config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/schema.hpp"
#include "core/text_file.hpp"

namespace onair::core {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using namespace schema;

constexpr std::array kPresets = {"ultrafast"sv, "superfast"sv, "veryfast"sv, "faster"sv,
                                 "fast"sv,      "medium"sv,    "slow"sv,     "slower"sv,
                                 "veryslow"sv,  "placebo"sv};
constexpr std::array<int64_t, 3> kAudioChannels = {1, 2, 6};
constexpr std::array<int64_t, 3> kSampleRates = {32000, 44100, 48000};
constexpr std::array kTimecodeReserved = {
    Reserved{"embedded", "embedded (SMPTE timecode from SEI) is not supported yet"}};

constexpr size_t kMaxChannelName = 64;
constexpr size_t kMaxRungName = 32;
constexpr size_t kMaxRungs = 8;
constexpr int64_t kMinWidth = 64, kMaxWidth = 7680;  // up to 8K UHD
constexpr int64_t kMinHeight = 64, kMaxHeight = 4320;
constexpr int64_t kMinVideoBitrate = 16'000, kMaxVideoBitrate = 100'000'000;
constexpr int64_t kMaxBufsize = 200'000'000;
constexpr int64_t kMinFps = 1, kMaxFps = 120;
constexpr int64_t kMinAudioBitrate = 16'000, kMaxAudioBitrate = 512'000;
constexpr Micros kMinGop = 100ms, kMaxGop = 10s;
constexpr Micros kMinSegment = 1s, kMaxSegment = 60s;
constexpr Micros kMinPart = 100ms, kMaxPart = 5s;
constexpr Micros kMaxWindow = 24h;
constexpr int64_t kMaxThreads = 64;
constexpr int64_t kMaxConnections = 1000000;
constexpr Micros kMaxLossWait = 60s;
constexpr Micros kMinDvrWindow = 1min, kMaxDvrWindow = 720h;  // up to 30 days
constexpr int64_t kMinDvrBytes = 10'000'000;
constexpr int64_t kMaxClipJobs = 16;
constexpr int64_t kMaxQueuedClipJobs = 256;
constexpr int64_t kMaxApiRate = 100000;
constexpr Micros kMinLateAfter = 100ms;
constexpr Micros kMaxReturnAfter = 1h;
constexpr Micros kMinCheckDuration = 100ms, kMaxCheckDuration = 10min;
constexpr double kMinDb = -120, kMaxDb = 0;
constexpr size_t kMaxFileBytes = 1 << 20;  // a channel file is a page; this is plenty

constexpr auto kInputForms =
    "srt://HOST:PORT?mode=listener|caller&latency=MS&passphrase=...&streamid=..., "
    "udp://HOST:PORT, rtp://HOST:PORT, testsrc:?size=WxH&rate=FPS&tone=HZ";
constexpr auto kInputsAllowed = "a: URL and optionally b: URL";

// An input URL, parsed by core/input_url.cpp.
struct InputUrl {
    std::string allowed() const { return kInputForms; }
    std::optional<InputSpec> read(Reader& r, const Field& f) const {
        auto url = r.scalar(f, "a URL", allowed());
        if (!url) return std::nullopt;
        auto spec = parse_input_url(*url);
        if (!spec) {
            for (auto& problem : spec.error())
                r.error(f.value_at, f.path, problem.message, problem.allowed);
            return std::nullopt;
        }
        return std::move(*spec);
    }
};

// ---- the schema: one declaration per key, in the order of the README's table ----

using Inputs = std::vector<PipelineInput>;

Schema<Inputs> inputs_schema() {
    auto input = [](char id) {
        return [id](Inputs& inputs, InputSpec spec) { inputs.push_back({id, std::move(spec)}); };
    };
    return {
        key<Inputs>("a", InputUrl{}, input('a'),
                    {"pipeline A's input URL (below)", "required", "srt, udp, rtp, testsrc"})
            .required(),
        key<Inputs>("b", InputUrl{}, input('b'),
                    {"pipeline B's input URL", "none", "as `a`; not the same local port"}),
    };
}

Schema<Rung> rung_schema() {
    return {
        key<Rung>("name", Name{kMaxRungName, "rung name"}, &Rung::name,
                  {"rendition name, used in URLs", "required", "`[A-Za-z0-9_-]{1,32}`, unique"})
            .required(),
        key<Rung>(
            "width", EvenInteger{kMinWidth, kMaxWidth}, &Rung::width,
            {"picture size", "required", "even; 64..7680 × 64..4320", "`ladder[].width`, `height`"})
            .required(),
        key<Rung>("height", EvenInteger{kMinHeight, kMaxHeight}, &Rung::height).required(),
        key<Rung>("bitrate", BitrateRange{kMinVideoBitrate, kMaxVideoBitrate}, &Rung::bitrate,
                  {"video target bitrate", "required", "16k..100M"})
            .required(),
        key<Rung>("max_bitrate", BitrateRange{kMinVideoBitrate, kMaxVideoBitrate},
                  &Rung::max_bitrate, {"VBV cap (maxrate)", "`bitrate`", "≥ `bitrate`"}),
        key<Rung>("bufsize", BitrateRange{kMinVideoBitrate, kMaxBufsize}, &Rung::bufsize,
                  {"VBV buffer", "2 × `max_bitrate`", "16k..200M"}),
        key<Rung>("profile", Choice{kH264Profiles}, &Rung::profile,
                  {"H.264 profile ceiling (x264 may use a lower one, e.g. ultrafast gives "
                   "Constrained Baseline)",
                   "`high`", "`baseline`, `main`, `high`"}),
        key<Rung>("fps", FrameRate{kMinFps, kMaxFps}, &Rung::fps,
                  {"output frame rate", "the source's", "1..120"}),
    };
}

Schema<AudioConfig> audio_schema() {
    return {
        key<AudioConfig>("bitrate", BitrateRange{kMinAudioBitrate, kMaxAudioBitrate},
                         &AudioConfig::bitrate, {"AAC-LC bitrate", "`128k`", "16k..512k"}),
        key<AudioConfig>("channels", IntegerOf{kAudioChannels}, &AudioConfig::channels,
                         {"", "`2`", "1, 2, 6"}),
        key<AudioConfig>("sample_rate", IntegerOf{kSampleRates}, &AudioConfig::sample_rate,
                         {"", "`48000`", "32000, 44100, 48000"}),
    };
}

Schema<EncoderConfig> encoder_schema() {
    return {
        key<EncoderConfig>("preset", OneOf{kPresets}, &EncoderConfig::preset,
                           {"x264 preset", "`veryfast`", "ultrafast … placebo"}),
        key<EncoderConfig>("gop", DurationRange{kMinGop, kMaxGop}, &EncoderConfig::gop,
                           {"IDR interval, in media time", "`2s`", "100ms..10s"}),
    };
}

Schema<HlsConfig> hls_schema() {
    return {
        key<HlsConfig>("segment", DurationRange{kMinSegment, kMaxSegment}, &HlsConfig::segment,
                       {"segment length", "`6s`", "1s..60s, a whole number of GOPs"}),
        key<HlsConfig>("window", DurationRange{kMinSegment, kMaxWindow}, &HlsConfig::window,
                       {"live playlist length", "`60s`", "≥ 3 segments, ≤ 24h"}),
        key<HlsConfig>("container", Choice{kContainers}, &HlsConfig::container,
                       {"segment format: MPEG-TS, or CMAF (fragmented MP4, `.m4s` segments and "
                        "an init section per rendition)",
                        "`ts`", "`ts`, `fmp4`"}),
        key<HlsConfig>("part", DurationOrOff{kMinPart, kMaxPart}, &HlsConfig::part,
                       {"Low-Latency HLS part length (fmp4 only)", "`off`",
                        "`off`, or 100ms..5s dividing `encoder.gop` into whole parts of whole "
                        "frames"}),
    };
}

Schema<OriginConfig> origin_schema() {
    return {
        key<OriginConfig>("listen", HostPort{},
                          [](OriginConfig& origin, HostPortValue address) {
                              origin.host = std::move(address.host);
                              origin.port = address.port;
                          },
                          {"HTTP address", "`127.0.0.1:8080`", "`HOST:PORT`, `[IPv6]:PORT`"}),
        key<OriginConfig>(
            "threads", IntegerRange{0, kMaxThreads}, &OriginConfig::threads,
            {"HTTP threads (each with its own listening socket)", "`0`: one per core", "0..64"}),
        key<OriginConfig>("max_connections", IntegerRange{1, kMaxConnections},
                          &OriginConfig::max_connections,
                          {"connections served at once; past it a new connection gets 503 and "
                           "is closed",
                           "`10000`", "1..1000000"}),
        key<OriginConfig>("api_rate", IntegerRange{0, kMaxApiRate}, &OriginConfig::api_rate,
                          {"requests a second each client address may make on `/api/` and "
                           "`/ingest/`; past it `429` with `Retry-After` (`0`: no limit)",
                           "`100`", "0..100000"}),
        key<OriginConfig>(
            "api_burst", IntegerRange{1, kMaxApiRate}, &OriginConfig::api_burst,
            {"requests a client address may make at once on those routes", "`200`", "1..100000"}),
        key<OriginConfig>("ingest_token_file",
                          FilePath{"a file path", "a readable file holding the token"},
                          &OriginConfig::ingest_token_file,
                          {"file whose first line is the token pipelines in other processes push "
                           "with (`ONAIR_INGEST_TOKEN` wins)",
                           "none", "a readable file"}),
        key<OriginConfig>("api_token_file",
                          FilePath{"a file path", "a readable file holding the token"},
                          &OriginConfig::api_token_file,
                          {"file whose first line is the token control calls (manual switch, "
                           "clips) need (`ONAIR_API_TOKEN` wins)",
                           "none", "a readable file"}),
        key<OriginConfig>("signed_urls", Switch{}, &OriginConfig::signed_urls,
                          {"playlists, segments and clips only with a signed URL "
                           "(`?token=`, docs/signed-urls.md); 403 otherwise",
                           "`off`", "`on`, `off`"}),
        key<OriginConfig>("playback_secret_file",
                          FilePath{"a file path", "a readable file holding the secret"},
                          &OriginConfig::playback_secret_file,
                          {"file whose first line is the secret signed URLs are made with "
                           "(`ONAIR_PLAYBACK_SECRET` wins)",
                           "none", "a readable file"}),
        key<OriginConfig>("tls_certificate",
                          FilePath{"a file path", "a readable PEM certificate chain"},
                          &OriginConfig::tls_certificate,
                          {"HTTPS: the certificate chain (PEM), server's first; with "
                           "`tls_key`, the origin speaks only HTTPS",
                           "none (HTTP)", "a readable file"}),
        key<OriginConfig>(
            "tls_key", FilePath{"a file path", "a readable PEM private key"},
            &OriginConfig::tls_key,
            {"HTTPS: the certificate's private key (PEM)", "none", "a readable file"}),
    };
}

Schema<InputLossConfig> input_loss_schema() {
    return {
        key<InputLossConfig>("after", DurationRange{100ms, kMaxLossWait}, &InputLossConfig::after,
                             {"no pictures this long: start filling", "`1s`", "100ms..60s"}),
        key<InputLossConfig>("repeat_last", DurationRange{0s, kMaxLossWait},
                             &InputLossConfig::repeat_last,
                             {"repeat the last picture this long, then ...", "`1s`", "0s..60s"}),
        key<InputLossConfig>("then", Choice{kLossFills}, &InputLossConfig::then,
                             {"... `black`, or the `slate` image, with silence",
                              "`black` (`slate` when an image is given)", "`black`, `slate`"}),
        key<InputLossConfig>("slate", FilePath{"a file path", "a PNG or JPEG file"},
                             &InputLossConfig::slate,
                             {"the slate image", "none", "a readable PNG or JPEG"}),
    };
}

Schema<BlackCheck> black_schema() {
    return {
        key<BlackCheck>("threshold", Share{}, &BlackCheck::picture),
        key<BlackCheck>("pixel", Share{}, &BlackCheck::pixel),
        key<BlackCheck>("duration", DurationRange{kMinCheckDuration, kMaxCheckDuration},
                        &BlackCheck::duration),
    };
}

Schema<FreezeCheck> freeze_schema() {
    return {
        key<FreezeCheck>("threshold", Decibels{kMinDb, kMaxDb}, &FreezeCheck::noise_db),
        key<FreezeCheck>("duration", DurationRange{kMinCheckDuration, kMaxCheckDuration},
                         &FreezeCheck::duration),
    };
}

Schema<SilenceCheck> silence_schema() {
    return {
        key<SilenceCheck>("threshold", Decibels{kMinDb, kMaxDb}, &SilenceCheck::level_db),
        key<SilenceCheck>("duration", DurationRange{kMinCheckDuration, kMaxCheckDuration},
                          &SilenceCheck::duration),
    };
}

Schema<FailoverConfig> failover_schema() {
    return {
        key<FailoverConfig>("mode", Choice{kFailoverModes}, &FailoverConfig::mode,
                            {"`primary-preferred`: back to A once it has been healthy for "
                             "`return_after`; `equal`: stay on the pipeline serving until it fails",
                             "`primary-preferred`", "`primary-preferred`, `equal`"}),
        key<FailoverConfig>("late_after", DurationRange{kMinLateAfter, kMaxSegment},
                            &FailoverConfig::late_after,
                            {"the active pipeline's segment N is late when it has not arrived "
                             "this long after the first copy of N did",
                             "`1s`; with `hls.part`, one part", "100ms..less than `hls.segment`"}),
        key<FailoverConfig>("return_after", DurationRange{0s, kMaxReturnAfter},
                            &FailoverConfig::return_after,
                            {"primary-preferred: how long A must be healthy (every copy on time "
                             "and passing the checks) before it is served again",
                             "`10s`", "0s..1h"}),
        check<FailoverConfig>("black", black_schema(), &FailoverConfig::black, &BlackCheck::enabled,
                              {"black-picture check: `threshold` = share of pixels that must be "
                               "black, `pixel` = luma at or below which a pixel is black, "
                               "`duration` it must last",
                               "off", "`off`, `on` (defaults 98%, 10%, 2s) or a map"}),
        check<FailoverConfig>("freeze", freeze_schema(), &FailoverConfig::freeze,
                              &FreezeCheck::enabled,
                              {"frozen-picture check: `threshold` = difference (dB) under which "
                               "frames count as the same, `duration`",
                               "off", "`off`, `on` (defaults -60dB, 4s) or a map"}),
        check<FailoverConfig>("silence", silence_schema(), &FailoverConfig::silence,
                              &SilenceCheck::enabled,
                              {"silence check: `threshold` = level (dB) under which audio is "
                               "silence, `duration`",
                               "off", "`off`, `on` (defaults -50dB, 4s) or a map"}),
        key<FailoverConfig>(
            "webhook", HttpUrl{}, &FailoverConfig::webhook,
            {"URL POSTed a JSON event on every switch", "none", "`http://HOST[:PORT]/PATH`"}),
    };
}

Schema<DvrConfig> dvr_schema() {
    return {
        key<DvrConfig>("window", DurationRange{kMinDvrWindow, kMaxDvrWindow}, &DvrConfig::window,
                       {"how long served segments are kept on disk for time-shift and clips",
                        "`2h`", "60s..720h, ≥ `hls.window`"}),
        key<DvrConfig>("max_size", Size{kMinDvrBytes}, &DvrConfig::max_bytes,
                       {"disk budget of the DVR (oldest deleted first)", "none",
                        "`500M`, `50G`, `2T`, `20GiB`"}),
    };
}

Schema<ClipsConfig> clips_schema() {
    return {
        key<ClipsConfig>("concurrency", IntegerRange{1, kMaxClipJobs}, &ClipsConfig::concurrency,
                         {"harvest jobs cut at once", "`2`", "1..16"}),
        key<ClipsConfig>("max_queued", IntegerRange{1, kMaxQueuedClipJobs},
                         &ClipsConfig::max_queued,
                         {"harvest jobs waiting beyond those being cut; a request past it gets "
                          "`429` with `Retry-After`",
                          "`16`", "1..256"}),
        key<ClipsConfig>("rendition", Text{"a rung name", "the name of a ladder rung"},
                         &ClipsConfig::rendition,
                         {"the rendition of each clip's MP4", "the first rung", "a rung name"}),
        key<ClipsConfig>("webhook", HttpUrl{}, &ClipsConfig::webhook,
                         {"URL POSTed `{\"event\":\"harvest_job\",\"job\":{...}}` when a job ends",
                          "none", "`http://HOST[:PORT]/PATH`"}),
    };
}

Schema<ChannelConfig> channel_schema() {
    using C = ChannelConfig;
    return {
        key<C>("channel", Name{kMaxChannelName, "channel name"}, &C::channel,
               {"the channel's name, used in URLs", "required", "`[A-Za-z0-9_-]{1,64}`"})
            .required(),
        map<C>("inputs", inputs_schema(), &C::inputs,
               {.expected = "a map of inputs", .allowed = kInputsAllowed})
            .required(),
        key<C>("timecode", Choice{kTimecodeSources, kTimecodeReserved}, &C::timecode,
               {"where media time comes from: `pts` = the contribution's timestamps (pipelines "
                "share one anchor, so A and B number alike); `systemclock` = arrival time at each "
                "pipeline (for sources without common timestamps; A and B then align only as "
                "well as their paths' delays match)",
                "`pts`", "`pts`, `systemclock`"}),
        sequence<C>("ladder", rung_schema(), &C::ladder,
                    {.items = "rungs", .min = 1, .max = kMaxRungs})
            .required(),
        map<C>("audio", audio_schema(), &C::audio),
        map<C>("encoder", encoder_schema(), &C::encoder),
        map<C>("hls", hls_schema(), &C::hls),
        map<C>("origin", origin_schema(), &C::origin),
        map<C>("input_loss", input_loss_schema(), &C::input_loss),
        map<C>("failover", failover_schema(), &C::failover),
        key<C>("data", Text{"a folder path", "a folder onair may create and write"}, &C::data_dir,
               {"the channel's data folder: DVR and catalog", "`./data/CHANNEL`",
                "a folder onair may create"}),
        map<C>("dvr", dvr_schema(), &C::dvr),
        map<C>("clips", clips_schema(), &C::clips),
    };
}

const Schema<ChannelConfig>& the_schema() {
    static const Schema<ChannelConfig> schema = channel_schema();
    return schema;
}

// ---- rules between keys, after the declarative pass ----------------------

// The local UDP ports an input binds: RTP takes PORT+1 for RTCP as well.
std::vector<int> local_ports(const InputSpec& input) {
    if (!input.listens()) return {};
    if (input.kind == InputKind::rtp) return {input.port, input.port + 1};
    return {input.port};
}

// Both pipelines' inputs on one machine cannot bind the same UDP port.
void check_distinct_ports(Reader& r, const ChannelConfig& config) {
    if (config.inputs.size() != 2) return;  // both parsed: a, then b
    const auto* a = r.given("inputs.a");
    const auto* b = r.given("inputs.b");
    auto taken = local_ports(config.inputs[0].input);
    for (int port : local_ports(config.inputs[1].input)) {
        if (std::find(taken.begin(), taken.end(), port) == taken.end()) continue;
        r.error(
            b->value_at, "inputs.b",
            fmt::format("UDP port {} is already used by inputs.a (line {})", port, a->key_at.line),
            "a port no other input listens on; rtp also takes PORT+1");
        return;
    }
}

// Rung names are unique, max_bitrate is at least the bitrate; then the VBV
// defaults, and only the valid rungs stay.
void check_rungs(Reader& r, ChannelConfig& config) {
    std::map<std::string, std::pair<std::string, int>> names;  // name -> rung, line of the name
    for (size_t i = 0; i < config.ladder.size(); ++i) {
        auto& rung = config.ladder[i];
        auto path = fmt::format("ladder[{}]", i);
        if (r.valid(path + ".name")) {
            const auto* name = r.given(path + ".name");
            auto [it, fresh] = names.emplace(rung.name, std::pair(path, name->value_at.line));
            if (!fresh) {
                r.error(name->value_at, path + ".name",
                        fmt::format("\"{}\" is already the name of {} (line {})", rung.name,
                                    it->second.first, it->second.second),
                        "a name used by one rung only");
                r.invalidate(path);
            }
        }
        if (r.valid(path + ".bitrate") && r.valid(path + ".max_bitrate") &&
            rung.max_bitrate < rung.bitrate) {
            r.error(r.given(path + ".max_bitrate")->value_at, path + ".max_bitrate",
                    fmt::format("{} is below bitrate {}", format_bitrate(rung.max_bitrate),
                                format_bitrate(rung.bitrate)),
                    fmt::format("{}..{}", format_bitrate(rung.bitrate),
                                format_bitrate(kMaxVideoBitrate)));
            r.invalidate(path);
        }
        if (!r.valid(path + ".max_bitrate")) rung.max_bitrate = rung.bitrate;
        if (!r.valid(path + ".bufsize")) rung.bufsize = 2 * rung.max_bitrate;
    }
    std::vector<Rung> valid;
    for (size_t i = 0; i < config.ladder.size(); ++i)
        if (r.valid(fmt::format("ladder[{}]", i))) valid.push_back(std::move(config.ladder[i]));
    config.ladder = std::move(valid);
}

// A slate image given means: show it; `then: slate` needs one.
void check_input_loss(Reader& r, ChannelConfig& config) {
    auto& loss = config.input_loss;
    const auto* then = r.given("input_loss.then");
    const auto* slate = r.given("input_loss.slate");
    if (slate && !then) loss.then = LossFill::slate;
    if (loss.then == LossFill::slate && !slate && then)
        r.error(then->value_at, "input_loss.then", "then: slate needs input_loss.slate",
                "input_loss.slate: a PNG or JPEG file");
}

// LL-HLS parts: CMAF only, whole parts per GOP (so an IDR always starts a
// part), whole frames per part at every rung's frame rate that is known.
void check_part(Reader& r, const ChannelConfig& config, bool gop_ok) {
    const auto part = config.hls.part;
    const auto at = r.given("hls.part")->value_at;
    const std::string allowed =
        fmt::format("off, or {}..{} dividing encoder.gop ({})", format_duration(kMinPart),
                    format_duration(kMaxPart), format_duration(config.encoder.gop));
    if (config.hls.container != Container::fmp4)
        r.error(at, "hls.part", "parts need CMAF segments: set hls.container: fmp4",
                "off with hls.container: ts");
    if (gop_ok && config.encoder.gop.count() % part.count() != 0)
        r.error(at, "hls.part",
                fmt::format("{} does not divide encoder.gop ({}) into whole parts",
                            format_duration(part), format_duration(config.encoder.gop)),
                allowed);
    for (const auto& rung : config.ladder) {
        if (!rung.fps || !rung.fps->valid()) continue;
        // part × fps whole: part_us × num divisible by den × 1e6.
        const auto frames_scaled = part.count() * int64_t(rung.fps->num);
        if (frames_scaled % (int64_t(rung.fps->den) * 1'000'000) != 0)
            r.error(at, "hls.part",
                    fmt::format("{} is not a whole number of frames at rung {}'s {} fps",
                                format_duration(part), rung.name, rung.fps->value()),
                    allowed);
    }
}

// The timing keys: a rule broken by a default is reported where the other
// key was given; a key that was given counts only if it is valid.
void check_timing(Reader& r, const ChannelConfig& config) {
    auto gop = config.encoder.gop;
    auto segment = config.hls.segment;
    auto window = config.hls.window;
    auto usable = [&](std::string_view path) { return !r.given(path) || r.valid(path); };
    auto shown = [&](std::string_view path, Micros value) {
        return format_duration(value) + (r.given(path) ? "" : " (the default)");
    };
    auto place = [&](std::string_view path, std::string_view other) {
        const auto* at = r.given(path) ? r.given(path) : r.given(other);
        return at ? at->value_at : SourcePosition{};
    };
    bool gop_ok = usable("encoder.gop"), segment_ok = usable("hls.segment"),
         window_ok = usable("hls.window");
    if (gop_ok && segment_ok && segment.count() % gop.count() != 0) {
        // A segment must start on an IDR, and IDRs come every GOP.
        std::string multiples;
        int listed = 0;
        for (auto m = gop; m <= kMaxSegment && listed < 3; m += gop) {
            if (m < kMinSegment) continue;
            multiples += format_duration(m) + ", ";
            ++listed;
        }
        r.error(place("hls.segment", "encoder.gop"), "hls.segment",
                fmt::format("{} is not a whole number of GOPs of {}", shown("hls.segment", segment),
                            format_duration(gop)),
                fmt::format("multiples of encoder.gop: {}...", multiples));
    }
    if (r.given("hls.part") && r.valid("hls.part") && config.hls.low_latency())
        check_part(r, config, gop_ok);
    // HTTPS needs both files; one alone is a mistake, not plain HTTP.
    for (auto [given, missing] : {std::pair{"origin.tls_certificate", "origin.tls_key"},
                                  std::pair{"origin.tls_key", "origin.tls_certificate"}})
        if (r.given(given) && !r.given(missing))
            r.error(r.given(given)->key_at, given, fmt::format("{} is missing", missing),
                    "both origin.tls_certificate and origin.tls_key, or neither");
    if (segment_ok && r.valid("failover.late_after") && config.failover.late_after >= segment) {
        r.error(r.given("failover.late_after")->value_at, "failover.late_after",
                fmt::format("{} is not shorter than a segment ({})",
                            format_duration(config.failover.late_after), format_duration(segment)),
                fmt::format("{}..less than hls.segment", format_duration(kMinLateAfter)));
    }
    if (window_ok && r.valid("dvr.window") && config.dvr.window < window) {
        r.error(r.given("dvr.window")->value_at, "dvr.window",
                fmt::format("{} is shorter than the live playlist's window ({})",
                            format_duration(config.dvr.window), shown("hls.window", window)),
                fmt::format("{}..{}", format_duration(std::max(window, kMinDvrWindow)),
                            format_duration(kMaxDvrWindow)));
    }
    auto min_window = segment * kMinWindowSegments;
    if (segment_ok && window_ok && window < min_window) {
        r.error(place("hls.window", "hls.segment"), "hls.window",
                fmt::format("{} is shorter than {} segments of {}", shown("hls.window", window),
                            kMinWindowSegments, format_duration(segment)),
                fmt::format("{}..{}", format_duration(min_window), format_duration(kMaxWindow)));
    }
}

// The clip rendition must be a rung; the data folder defaults per channel.
void check_clips(Reader& r, ChannelConfig& config) {
    auto& clips = config.clips;
    if (!clips.rendition.empty()) {
        bool known = std::any_of(config.ladder.begin(), config.ladder.end(),
                                 [&](const Rung& rung) { return rung.name == clips.rendition; });
        if (!known && !config.ladder.empty()) {
            std::vector<std::string_view> names;
            for (const auto& rung : config.ladder) names.push_back(rung.name);
            r.error(r.given("clips.rendition")->value_at, "clips.rendition",
                    with_hint(fmt::format("no rung is named \"{}\"", shortened(clips.rendition)),
                              clips.rendition, names),
                    join(names));
        }
    }
    if (config.data_dir.empty() && !config.channel.empty())
        config.data_dir = "./data/" + config.channel;
}

void read_channel(Reader& r, const YAML::Node& root, ChannelConfig& config) {
    Field top{"", root, position_of(root), position_of(root)};
    read_map(r, top, the_schema(), config);
    if (!root.IsMap()) return;
    config.encoder.low_latency = config.hls.low_latency();
    // LL-HLS judges lateness per part: a player holds only PART-HOLD-BACK, so
    // the default wait for a late copy is one part, not a second.
    if (config.hls.low_latency() && !r.given("failover.late_after"))
        config.failover.late_after = std::max(kMinLateAfter, config.hls.part);
    check_distinct_ports(r, config);
    check_rungs(r, config);
    check_input_loss(r, config);
    check_timing(r, config);
    check_clips(r, config);
}

ConfigResult parse_document(std::string_view yaml_text, const std::string& file,
                            ChannelConfig* partial) {
    ChannelConfig config;
    config.file = file;
    Reader reader(file);
    auto root = load_one_document(yaml_text, file,
                                  fmt::format("a map with {}", join(key_names(the_schema()))),
                                  "a channel file holds one channel", reader);
    if (!root) return std::unexpected(std::vector<Diagnostic>{std::move(root.error())});
    read_channel(reader, *root, config);
    config.positions = reader.key_positions();
    for (const auto& [path, at] : config.positions)
        config.value_positions[path] = reader.given(path)->value_at;
    if (reader.failed()) {
        if (partial) *partial = std::move(config);
        return std::unexpected(reader.take());
    }
    return config;
}

// The whole file, or one diagnostic naming the OS error.
ConfigResult read_file(const std::string& path, ChannelConfig* partial) {
    auto text = read_text_file(path, kMaxFileBytes);
    if (!text) {
        auto message = text.error();
        if (message.starts_with("larger")) message += "; a channel file is a page of YAML";
        return std::unexpected(std::vector<Diagnostic>{{path, {}, "", std::move(message), ""}});
    }
    return parse_channel_config(*text, path, partial);
}

}  // namespace

Diagnostic ChannelConfig::diagnostic(const std::string& key, std::string message,
                                     std::string allowed) const {
    return diagnostic_at(file, positions, key, std::move(message), std::move(allowed));
}

ConfigResult parse_channel_config(std::string_view yaml_text, const std::string& file,
                                  ChannelConfig* partial) {
    try {
        return parse_document(yaml_text, file, partial);
    } catch (const std::exception& e) {
        return std::unexpected(std::vector<Diagnostic>{
            {file, {}, "", fmt::format("cannot read the channel file: {}", e.what()), ""}});
    }
}

ConfigResult load_channel_config(const std::string& path, ChannelConfig* partial) {
    try {
        return read_file(path, partial);
    } catch (const std::exception& e) {
        return std::unexpected(std::vector<Diagnostic>{
            {path, {}, "", fmt::format("cannot read the channel file: {}", e.what()), ""}});
    }
}

const char* to_string(TimecodeSource source) {
    return kTimecodeSources.name(source).data();
}
const char* to_string(H264Profile profile) {
    return kH264Profiles.name(profile).data();
}
const char* to_string(FailoverMode mode) {
    return kFailoverModes.name(mode).data();
}
const char* to_string(LossFill fill) {
    return kLossFills.name(fill).data();
}
const char* to_string(InputKind kind) {
    return kInputKinds.name(kind).data();
}

std::string channel_key_table() {
    auto keys = key_infos(the_schema());
    return render_key_table(keys);
}

}  // namespace onair::core
