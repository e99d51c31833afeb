#include "tools/plan.hpp"

#include <fmt/format.h>

#include <cmath>

namespace onair::tools {
namespace {

class Lines {
  public:
    template <class... Args>
    void operator()(fmt::format_string<Args...> f, Args&&... args) {
        text += fmt::format(f, std::forward<Args>(args)...);
        text += '\n';
    }
    std::string text;
};

}  // namespace

std::string render_plan(const core::ChannelConfig& c) {
    using core::format_bitrate;
    using core::format_duration;
    Lines line;
    line("channel {} ({}): valid", c.channel, c.file);
    line("");
    line("inputs");
    for (const auto& input : c.inputs) line("  {}: {}", input.id, input.input.describe());
    line("timecode: {} ({})", core::to_string(c.timecode),
         c.timecode == core::TimecodeSource::pts
             ? "the contribution's timestamps; pipelines share one anchor"
             : "arrival time; A/B align only as well as the paths' delays match");
    line("");
    line("ladder: x264 {}, IDR every {} on every rung", c.encoder.preset,
         format_duration(c.encoder.gop));
    for (const auto& r : c.ladder) {
        line("  {:<8} {:>9}  {:>7} max {:<7} buffer {:<7} {:<8}  {} fps", r.name,
             fmt::format("{}x{}", r.width, r.height), format_bitrate(r.bitrate),
             format_bitrate(r.max_bitrate), format_bitrate(r.bufsize), core::to_string(r.profile),
             r.fps ? core::format_frame_rate(*r.fps) : std::string("source"));
    }
    line("audio: AAC-LC {}, {} channel{}, {} Hz (encoded once, muxed into every rendition)",
         format_bitrate(c.audio.bitrate), c.audio.channels, c.audio.channels == 1 ? "" : "s",
         c.audio.sample_rate);
    line("");
    auto gops = c.hls.segment.count() / std::max<int64_t>(1, c.encoder.gop.count());
    auto window_segments =
        std::max<int64_t>(core::kMinWindowSegments, c.hls.window.count() / c.hls.segment.count());
    line("segments: {} of {} ({} GOP{}), cut on media time, numbered media time / {}",
         c.hls.container == core::Container::fmp4
             ? "CMAF (fmp4: .m4s, an init section per rung in EXT-X-MAP)"
             : "MPEG-TS",
         format_duration(c.hls.segment), gops, gops == 1 ? "" : "s",
         format_duration(c.hls.segment));
    line(
        "playlist: {} window ({} segments), target duration {} s; segments stay downloadable {} "
        "after",
        format_duration(c.hls.window), window_segments,
        int(std::lround(double(c.hls.segment.count()) / 1e6)), format_duration(c.hls.window));
    line("");
    const auto& loss = c.input_loss;
    line("input loss: after {} without pictures, the last picture for {}, then {}, with silence",
         format_duration(loss.after), format_duration(loss.repeat_last),
         loss.then == core::LossFill::slate
             ? fmt::format("the {} {}", core::to_string(loss.then), loss.slate)
             : std::string(core::to_string(loss.then)));
    if (c.inputs.size() > 1) {
        const auto& fo = c.failover;
        line("failover: {}{}; a pipeline is late {} after the first copy of a segment arrives",
             core::to_string(fo.mode),
             fo.mode == core::FailoverMode::primary_preferred
                 ? fmt::format(" (back to A after {} of health)", format_duration(fo.return_after))
                 : std::string(),
             format_duration(fo.late_after));
        std::string checks;
        auto add = [&](std::string text) { checks += (checks.empty() ? "" : ", ") + text; };
        if (fo.black.enabled)
            add(fmt::format("black ({:g}% of pixels under {:g}% luma for {})",
                            fo.black.picture * 100, fo.black.pixel * 100,
                            format_duration(fo.black.duration)));
        if (fo.freeze.enabled)
            add(fmt::format("frozen (within {:g} dB for {})", fo.freeze.noise_db,
                            format_duration(fo.freeze.duration)));
        if (fo.silence.enabled)
            add(fmt::format("silence (under {:g} dB for {})", fo.silence.level_db,
                            format_duration(fo.silence.duration)));
        line("content checks: {}", checks.empty() ? std::string("none") : checks);
        if (!fo.webhook.empty()) line("switch events POSTed to {}", fo.webhook);
    } else {
        line("failover: none (one input; add inputs.b for a redundant pipeline)");
    }
    line("");
    std::string host =
        c.origin.host == "0.0.0.0" || c.origin.host == "::" ? "127.0.0.1" : c.origin.host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    std::string base = fmt::format("http://{}:{}", host, c.origin.port);
    line("urls");
    line("  {:<8} {}/live/{}/master.m3u8", "master", base, c.channel);
    for (const auto& r : c.ladder)
        line("  {:<8} {}/live/{}/{}/index.m3u8", r.name, base, c.channel, r.name);
    line("  {:<8} {}/healthz", "health", base);
    line("  {:<8} {}/api/v1/channels/{}", "status", base, c.channel);
    line("  {:<8} {}/metrics", "metrics", base);
    return line.text;
}

}  // namespace onair::tools
