#include "ingest/test_signal.hpp"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <utility>

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavutil/opt.h>
}

#include "core/log.hpp"

namespace onair::ingest {
namespace {

using Clock = std::chrono::steady_clock;
using Settings = std::initializer_list<std::pair<const char*, std::string>>;

core::Result<AVFilterContext*> add_filter(AVFilterGraph* graph, const char* filter_name,
                                          const char* instance, Settings settings) {
    const AVFilter* filter = avfilter_get_by_name(filter_name);
    if (!filter) return core::fail(std::string("libavfilter has no ") + filter_name);
    AVFilterContext* ctx = avfilter_graph_alloc_filter(graph, filter, instance);
    if (!ctx) return core::fail("out of memory");
    for (const auto& [key, value] : settings) {
        int rc = av_opt_set(ctx, key, value.c_str(), AV_OPT_SEARCH_CHILDREN);
        if (rc < 0) return core::av_fail(std::string(filter_name) + " option " + key, rc);
    }
    int rc = avfilter_init_str(ctx, nullptr);
    if (rc < 0) return core::av_fail(std::string("init ") + filter_name, rc);
    return ctx;
}

std::string find_font() {
    for (const char* path : {"/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
                             "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                             "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"}) {
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) return path;
    }
    return {};
}

struct Generator {
    core::FilterGraphPtr graph;
    AVFilterContext* sink = nullptr;
    AVRational time_base{1, 1};
};

// testsrc2 → [drawtext clock] → yuv420p → sink
core::Result<Generator> make_video(const core::InputSpec& spec, const std::string& component) {
    Generator g;
    g.graph.reset(avfilter_graph_alloc());
    if (!g.graph) return core::fail("out of memory");
    auto source = add_filter(g.graph.get(), "testsrc2", "pattern",
                             {{"size", fmt::format("{}x{}", spec.width, spec.height)},
                              {"rate", fmt::format("{}/{}", spec.rate.num, spec.rate.den)}});
    if (!source) return std::unexpected(source.error());
    AVFilterContext* last = *source;

    std::string font = find_font();
    if (font.empty()) {
        log::warn(component,
                  "no DejaVu font found: test signal without burnt-in clock "
                  "(apt-get install fonts-dejavu-core)");
    } else {
        int size = std::max(16, spec.height / 14);
        auto clock = add_filter(
            g.graph.get(), "drawtext", "clock",
            {{"fontfile", font},
             {"text", "%{gmtime:%Y-%m-%d %H\\:%M\\:%S} UTC\nframe %{n}  media %{pts:hms}"},
             {"fontsize", std::to_string(size)},
             {"fontcolor", "white"},
             {"box", "1"},
             {"boxcolor", "black@0.6"},
             {"boxborderw", std::to_string(size / 3)},
             {"line_spacing", std::to_string(size / 4)},
             {"x", "(w-tw)/2"},
             {"y", "h-th-h/10"}});
        if (!clock) return std::unexpected(clock.error());
        if (avfilter_link(last, 0, *clock, 0) < 0) return core::fail("cannot link drawtext");
        last = *clock;
    }
    auto format = add_filter(g.graph.get(), "format", "yuv", {{"pix_fmts", "yuv420p"}});
    if (!format) return std::unexpected(format.error());
    auto sink = add_filter(g.graph.get(), "buffersink", "out", {});
    if (!sink) return std::unexpected(sink.error());
    if (avfilter_link(last, 0, *format, 0) < 0 || avfilter_link(*format, 0, *sink, 0) < 0)
        return core::fail("cannot link the test pattern graph");
    int rc = avfilter_graph_config(g.graph.get(), nullptr);
    if (rc < 0) return core::av_fail("test pattern graph", rc);
    g.sink = *sink;
    g.time_base = av_buffersink_get_time_base(g.sink);
    return g;
}

// sine → sink, 1024 samples a frame (one AAC frame)
core::Result<Generator> make_audio(const core::InputSpec& spec) {
    Generator g;
    g.graph.reset(avfilter_graph_alloc());
    if (!g.graph) return core::fail("out of memory");
    auto source = add_filter(g.graph.get(), "sine", "tone",
                             {{"frequency", std::to_string(spec.tone_hz)},
                              {"sample_rate", "48000"},
                              {"samples_per_frame", "1024"}});
    if (!source) return std::unexpected(source.error());
    auto sink = add_filter(g.graph.get(), "abuffersink", "out", {});
    if (!sink) return std::unexpected(sink.error());
    if (avfilter_link(*source, 0, *sink, 0) < 0) return core::fail("cannot link the tone graph");
    int rc = avfilter_graph_config(g.graph.get(), nullptr);
    if (rc < 0) return core::av_fail("tone graph", rc);
    g.sink = *sink;
    g.time_base = av_buffersink_get_time_base(g.sink);
    return g;
}

}  // namespace

TestSignal::TestSignal(core::InputSpec spec, core::InputStatus& status, std::string component)
    : spec_(std::move(spec)), status_(status), component_(std::move(component)) {}

TestSignal::~TestSignal() {
    stop();
}

void TestSignal::start(EventQueue& out) {
    thread_ = std::jthread([this, &out](std::stop_token stop) { run(stop, out); });
}

void TestSignal::stop() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

void TestSignal::run(std::stop_token stop, EventQueue& out) {
    auto video = make_video(spec_, component_);
    auto audio = make_audio(spec_);
    if (!video || !audio) {
        auto why = !video ? video.error().message : audio.error().message;
        log::error(component_, "test signal unavailable: {}", why);
        status_.set_note(why);
        status_.state = core::InputState::stopped;
        return;
    }
    core::StreamsOpened opened;
    opened.video_frame_rate = AVRational{spec_.rate.num, spec_.rate.den};
    if (!out.push(std::move(opened), stop)) return;
    status_.state = core::InputState::connected;
    status_.connects.fetch_add(1);
    log::info(component_, "test signal: {}", spec_.describe());

    const auto start = Clock::now();
    auto due = [&](int64_t n, AVRational per) {  // when item n of duration `per` seconds is due
        return start + std::chrono::nanoseconds(av_rescale(n, int64_t(1e9) * per.num, per.den));
    };
    const AVRational frame_duration{spec_.rate.den, spec_.rate.num};
    const AVRational audio_frame_duration{1024, 48000};
    int64_t video_count = 0, audio_count = 0, dropped = 0;
    std::mutex m;
    std::condition_variable_any wake;

    while (!stop.stop_requested()) {
        auto next_video = due(video_count, frame_duration);
        auto next_audio = due(audio_count, audio_frame_duration);
        bool is_video = next_video <= next_audio;
        {
            std::unique_lock lock(m);
            wake.wait_until(lock, stop, is_video ? next_video : next_audio, [] { return false; });
        }
        if (stop.stop_requested()) break;
        Generator& g = is_video ? *video : *audio;
        auto frame = core::make_frame();
        int rc = av_buffersink_get_frame(g.sink, frame.get());
        if (rc < 0) {
            log::error(component_, "test signal: {}", core::av_error_text(rc));
            break;
        }
        (is_video ? video_count : audio_count)++;
        int64_t bytes = is_video ? int64_t(spec_.width) * spec_.height * 3 / 2 : 1024 * 2;
        core::RawFrame raw{is_video ? core::MediaKind::video : core::MediaKind::audio,
                           std::move(frame), g.time_base};
        if (!out.try_push(std::move(raw))) {
            if (dropped++ % 100 == 0)
                log::warn(component_, "pipeline behind the clock: test signal dropped {} frames",
                          dropped);
            continue;
        }
        status_.bytes.fetch_add(bytes);
        status_.last_packet_utc_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count();
    }
    status_.state = core::InputState::stopped;
}

}  // namespace onair::ingest
