#pragma once
// Live figures that a pipeline's stages write and the origin reads for
// /healthz, the status API and /metrics. Plain atomics: writers never wait.
//
// Each figure is declared once, in ONAIR_INPUT_FIGURES or
// ONAIR_PIPELINE_FIGURES below: its type, name, initial value, kind, unit,
// the documents that show it, its Prometheus name and its help. The structs'
// members, the push wire format (origin/ingest_protocol), the JSON of
// /healthz and of the status API and the families of /metrics
// (origin/status_report, origin/routes) are all made from those rows, so a
// new figure is one new row. The input's state and note are not figures
// (an enum and a text); the wire and the JSON name them by hand.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/queue_registry.hpp"

namespace onair::core {

enum class InputState : int { idle, waiting, connected, stalled, reconnecting, stopped };
const char* to_string(InputState state);

// A counter only grows; a gauge goes up and down; a flag is true or false
// now; a time is a UTC time in ms (0: never), which the JSON and /metrics show
// as its age: NAME with _age_ms for _utc_ms (null: never), and seconds (-1:
// never).
enum class FigureKind { counter, gauge, flag, time };
const char* to_string(FigureKind kind);  // its Prometheus TYPE: "counter" or "gauge"

// Where a figure shows besides the push wire, which carries every figure.
enum FigureView : unsigned {
    kWireOnly = 0,
    kInHealthz = 1u << 0,    // /healthz (input figures: the input object of both documents)
    kInStatusApi = 1u << 1,  // /api/v1/channels/CH (flags: in the pipeline's "now" object)
    kInJson = kInHealthz | kInStatusApi,
};

// What a row of the tables below says about its figure.
struct Figure {
    std::string_view name;  // the member and the JSON key (wire, /healthz, status API)
    FigureKind kind;
    std::string_view unit;
    unsigned views;           // FigureView bits
    std::string_view metric;  // the Prometheus family; empty: not in /metrics
    std::string_view help;    // what it means; the family's HELP text
    bool shown_in(FigureView view) const { return (views & view) != 0; }
};

// X(type, name, initial, kind, unit, views, metric, help)
// The rows' order is the order of the JSON keys and of the /metrics families.
#define ONAIR_INPUT_FIGURES(X)                                                                  \
    /* Not a metric: Prometheus takes rate(onair_input_received_bytes_total). */                \
    X(int64_t, bitrate, 0, gauge, "bits/s", kInJson, "", "Input bitrate over the last second.") \
    X(int64_t, bytes, 0, counter, "bytes", kInJson, "onair_input_received_bytes_total",         \
      "Payload bytes received.")                                                                \
    X(int64_t, last_packet_utc_ms, 0, time, "ms since the epoch (UTC)", kInJson,                \
      "onair_input_last_packet_age_seconds",                                                    \
      "Seconds since the last input packet (-1: none yet).")                                    \
    X(int64_t, continuity_errors, 0, counter, "errors", kInJson,                                \
      "onair_input_continuity_errors_total", "MPEG-TS continuity counter errors.")              \
    X(int64_t, garbage_bytes, 0, counter, "bytes", kInJson, "onair_input_garbage_bytes_total",  \
      "Input bytes that were not MPEG-TS.")                                                     \
    X(int64_t, rtp_lost, 0, counter, "packets", kInJson, "onair_input_rtp_lost_total",          \
      "RTP packets lost (sequence gaps).")                                                      \
    X(int64_t, connects, 0, counter, "connections", kInJson, "onair_input_connects_total",      \
      "Successful input connections.")                                                          \
    X(int64_t, refused_callers, 0, counter, "callers", kInJson,                                 \
      "onair_input_refused_callers_total",                                                      \
      "SRT callers refused at the handshake (passphrase, streamid, busy).")                     \
    X(int64_t, ts_packets, 0, counter, "packets", kWireOnly, "", "MPEG-TS packets seen.")

#define ONAIR_PIPELINE_FIGURES(X)                                                                  \
    X(int64_t, segments, 0, counter, "segments", kInJson, "onair_pipeline_segments_total",         \
      "Segments produced, all renditions.")                                                        \
    /* The status API and /metrics show the failover's view of it instead. */                      \
    X(int64_t, last_sequence, -1, gauge, "sequence number", kInHealthz, "",                        \
      "Newest sequence number produced (-1: none yet).")                                           \
    X(bool, filling, false, flag, "", kInJson, "", "Emitting input-loss fill now.")                \
    X(int64_t, fill_frames, 0, counter, "frames", kInJson, "onair_pipeline_fill_frames_total",     \
      "Frames made up during input loss (slate).")                                                 \
    X(int64_t, timeline_jumps, 0, counter, "jumps", kInJson, "",                                   \
      "Source timestamp discontinuities.")                                                         \
    X(int64_t, frames_in, 0, counter, "frames", kInJson, "onair_pipeline_frames_total",            \
      "Decoded video frames.")                                                                     \
    X(int64_t, decode_errors, 0, counter, "errors", kInJson, "onair_pipeline_decode_errors_total", \
      "Decoder errors.")                                                                           \
    /* Content checks failing now (each once its condition has lasted its duration). */            \
    X(bool, black, false, flag, "", kInStatusApi, "", "The picture is black now.")                 \
    X(bool, frozen, false, flag, "", kInStatusApi, "", "The picture is frozen now.")               \
    X(bool, silent, false, flag, "", kInStatusApi, "", "The audio is silent now.")

// A figure as a member: atomic in the live structs, plain in a snapshot
// (origin::ingest::StatusReport).
#define ONAIR_ATOMIC_FIGURE(type, name, initial, ...) std::atomic<type> name{initial};
#define ONAIR_PLAIN_FIGURE(type, name, initial, ...) type name = initial;

#define ONAIR_FIGURE_VISIT(type, name, initial, kind, unit, views, metric, help) \
    visit(Figure{#name, FigureKind::kind, unit, views, metric, help}, structs.name...);

// Calls visit(figure, s.NAME...) for every input figure in table order, with
// the member of that name of each of `structs` (an InputStatus, or any struct
// with members of the same names, such as a snapshot).
template <class Visit, class... Structs>
void for_each_input_figure(Visit&& visit, Structs&... structs) {
    ONAIR_INPUT_FIGURES(ONAIR_FIGURE_VISIT)
}
template <class Visit, class... Structs>
void for_each_pipeline_figure(Visit&& visit, Structs&... structs) {
    ONAIR_PIPELINE_FIGURES(ONAIR_FIGURE_VISIT)
}

// The tables as data, in the same order (for lists such as /metrics' families).
#define ONAIR_FIGURE_ROW(type, name, initial, kind, unit, views, metric, help) \
    Figure{#name, FigureKind::kind, unit, views, metric, help},
inline constexpr Figure kInputFigures[] = {ONAIR_INPUT_FIGURES(ONAIR_FIGURE_ROW)};
inline constexpr Figure kPipelineFigures[] = {ONAIR_PIPELINE_FIGURES(ONAIR_FIGURE_ROW)};

// A figure's value, whether its member is atomic (live) or plain (a snapshot).
template <class T>
T figure_value(const std::atomic<T>& member) {
    return member.load(std::memory_order_relaxed);
}
template <class T>
T figure_value(const T& member) {
    return member;
}

struct InputStatus {
    std::atomic<InputState> state{InputState::idle};
    ONAIR_INPUT_FIGURES(ONAIR_ATOMIC_FIGURE)

    // Free text for people: the last error or what it is waiting for.
    void set_note(std::string note) {
        std::lock_guard lock(mutex_);
        note_ = std::move(note);
    }
    std::string note() const {
        std::lock_guard lock(mutex_);
        return note_;
    }

  private:
    mutable std::mutex mutex_;
    std::string note_;
};

struct PipelineStatus {
    ONAIR_PIPELINE_FIGURES(ONAIR_ATOMIC_FIGURE)
};

// Everything known about one pipeline (its input and its encoder) at run time.
struct PipelineRuntimeStatus {
    char id = 'a';
    std::string input_description;  // InputSpec::describe()
    InputStatus input;
    PipelineStatus pipeline;
    // Where the pipeline's queues register (the channel's); null: nowhere.
    QueueRegistry* queues = nullptr;
};

// The channel's pipelines, owned here so that the origin can read them while
// the pipelines write. Made once at start-up; the vector never changes after.
// `queues` lists the channel's queues for the status API and /metrics; it
// outlives every queue registered in it (the channel's members are declared
// after its status).
struct ChannelStatus {
    std::string channel;
    std::vector<std::unique_ptr<PipelineRuntimeStatus>> pipelines;
    QueueRegistry queues;

    PipelineRuntimeStatus& add(char id, std::string input_description) {
        auto& p = pipelines.emplace_back(std::make_unique<PipelineRuntimeStatus>());
        p->id = id;
        p->input_description = std::move(input_description);
        p->queues = &queues;
        return *p;
    }
    const PipelineRuntimeStatus* find(char id) const {
        for (auto& p : pipelines)
            if (p->id == id) return p.get();
        return nullptr;
    }
};

}  // namespace onair::core
