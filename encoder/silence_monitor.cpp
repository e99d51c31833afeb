#include "encoder/silence_monitor.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "core/log.hpp"
#include "core/media_time.hpp"

namespace onair::encoder {
namespace {
// Shortest silence silencedetect reports. Not zero: every zero crossing of
// a tone would be a "silence"; far below any duration a check may be given.
constexpr double kShortestRun = 0.02;  // seconds
}  // namespace

std::unique_ptr<SilenceMonitor> SilenceMonitor::make(const core::SilenceCheck& config,
                                                     const core::FillLog& fill_log,
                                                     core::HealthLog& health,
                                                     core::PipelineStatus& status,
                                                     const std::string& component) {
    if (!config.enabled) return nullptr;
    return std::make_unique<SilenceMonitor>(config, fill_log, health, status, component);
}

SilenceMonitor::SilenceMonitor(const core::SilenceCheck& config, const core::FillLog& fill_log,
                               core::HealthLog& health, core::PipelineStatus& status,
                               std::string component)
    : level_db_(config.level_db),
      fill_log_(fill_log),
      component_(std::move(component)),
      tracker_("silent audio", core::micros_to_ticks(config.duration), health.silent, status.silent,
               component_),
      in_(core::make_frame()),
      out_(core::make_frame()) {}

core::Result<> SilenceMonitor::build_graph(const AVFrame& frame) {
    graph_.reset(avfilter_graph_alloc());
    if (!graph_) return core::fail("out of memory");
    char layout[128] = {};
    av_channel_layout_describe(&frame.ch_layout, layout, sizeof(layout));
    std::string args = fmt::format(
        "time_base=1/{0}:sample_rate={0}:sample_fmt={1}:channel_layout={2}", frame.sample_rate,
        av_get_sample_fmt_name(AVSampleFormat(frame.format)), layout);
    int rc = avfilter_graph_create_filter(&source_, avfilter_get_by_name("abuffer"), "in",
                                          args.c_str(), nullptr, graph_.get());
    if (rc < 0) return core::av_fail("silence check source", rc);
    AVFilterContext* detect = nullptr;
    std::string options = fmt::format("n={}dB:d={}", level_db_, kShortestRun);
    rc = avfilter_graph_create_filter(&detect, avfilter_get_by_name("silencedetect"), "detect",
                                      options.c_str(), nullptr, graph_.get());
    if (rc < 0) return core::av_fail("silencedetect=" + options, rc);
    rc = avfilter_graph_create_filter(&sink_, avfilter_get_by_name("abuffersink"), "out", nullptr,
                                      nullptr, graph_.get());
    if (rc < 0) return core::av_fail("silence check sink", rc);
    if ((rc = avfilter_link(source_, 0, detect, 0)) < 0 ||
        (rc = avfilter_link(detect, 0, sink_, 0)) < 0)
        return core::av_fail("silence check links", rc);
    rc = avfilter_graph_config(graph_.get(), nullptr);
    if (rc < 0) return core::av_fail("silence check graph", rc);
    sample_rate_ = frame.sample_rate;
    return {};
}

void SilenceMonitor::push(const AVFrame& frame, int64_t media) {
    if (stopped_) return;
    if (auto ok = run(frame, media); !ok) {
        log::error(component_, "silence check stopped: {}", ok.error().message);
        stopped_ = true;
        tracker_.observe(media, core::kNoMediaTime, false);  // nothing known from here on
    }
}

core::Result<> SilenceMonitor::run(const AVFrame& frame, int64_t media) {
    if (!graph_) {
        if (auto ok = build_graph(frame); !ok) return ok;
    }
    // silencedetect writes where a silence starts and ends as text, in
    // seconds to 6 significant digits: exact only for small times. Every
    // frame goes in at 1 s, so the text is that frame's own offset (exact to
    // a sample) and media time is the frame's plus the offset.
    int rc = av_frame_ref(in_.get(), &frame);
    if (rc < 0) return core::av_fail("silence check frame", rc);
    in_->pts = sample_rate_;
    rc = av_buffersrc_add_frame_flags(source_, in_.get(), 0);
    av_frame_unref(in_.get());
    if (rc < 0) return core::av_fail("silence check input", rc);
    const int64_t frame_ticks = av_rescale(frame.nb_samples, core::kMediaClock, sample_rate_);
    for (;;) {
        rc = av_buffersink_get_frame(sink_, out_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
        if (rc < 0) return core::av_fail("silence check output", rc);
        const bool fill = fill_log_.overlaps(media, media + frame_ticks);
        auto start = position("lavfi.silence_start", media);
        auto end = position("lavfi.silence_end", media);
        av_frame_unref(out_.get());
        if (start && end && *start < *end) {
            // A silence that began and ended within this frame.
            tracker_.observe(*start, *start, fill);
            tracker_.observe(*end, core::kNoMediaTime, fill);
            since_ = core::kNoMediaTime;
        } else {
            if (end) {
                tracker_.observe(*end, core::kNoMediaTime, fill);
                since_ = core::kNoMediaTime;
            }
            if (start) since_ = *start;
        }
        tracker_.observe(media + frame_ticks, since_, fill);
    }
    return {};
}

// Media time of the position silencedetect wrote under `key`, if it did.
std::optional<int64_t> SilenceMonitor::position(const char* key, int64_t media) const {
    const AVDictionaryEntry* entry = av_dict_get(out_->metadata, key, nullptr, 0);
    if (!entry) return std::nullopt;
    double seconds = 0;
    const char* end = entry->value + std::strlen(entry->value);
    if (std::from_chars(entry->value, end, seconds).ec != std::errc{}) return std::nullopt;
    return media + std::llround((seconds - 1.0) * core::kMediaClock);
}

}  // namespace onair::encoder
