#pragma once
// Live figures that a pipeline's stages write and the origin reads for
// /healthz, the status API and /metrics. Plain atomics: writers never wait.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace onair::core {

enum class InputState : int { idle, waiting, connected, stalled, reconnecting, stopped };
const char* to_string(InputState state);

struct InputStatus {
    std::atomic<InputState> state{InputState::idle};
    std::atomic<int64_t> bytes{0};               // payload bytes received
    std::atomic<int64_t> ts_packets{0};          // MPEG-TS packets seen
    std::atomic<int64_t> continuity_errors{0};   // TS continuity counter jumps
    std::atomic<int64_t> garbage_bytes{0};       // bytes that were not MPEG-TS
    std::atomic<int64_t> rtp_lost{0};            // RTP sequence gaps
    std::atomic<int64_t> connects{0};            // successful opens/accepts
    std::atomic<int64_t> last_packet_utc_ms{0};  // 0: never
    std::atomic<int64_t> bitrate{0};             // bits/s over the last second

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
    std::atomic<int64_t> frames_in{0};    // decoded video frames
    std::atomic<int64_t> fill_frames{0};  // frames made up during input loss
    std::atomic<int64_t> segments{0};     // segments produced (all renditions)
    std::atomic<int64_t> last_sequence{-1};
    std::atomic<int64_t> timeline_jumps{0};  // source timestamp discontinuities
    std::atomic<int64_t> decode_errors{0};
    std::atomic<bool> filling{false};  // emitting input-loss fill now
    // Content checks failing now (each once its condition has lasted its duration).
    std::atomic<bool> black{false};
    std::atomic<bool> frozen{false};
    std::atomic<bool> silent{false};
};

// Everything known about one pipeline (its input and its encoder) at run time.
struct PipelineRuntimeStatus {
    char id = 'a';
    std::string input_description;  // InputSpec::describe()
    InputStatus input;
    PipelineStatus pipeline;
};

// The channel's pipelines, owned here so that the origin can read them while
// the pipelines write. Made once at start-up; the vector never changes after.
struct ChannelStatus {
    std::string channel;
    std::vector<std::unique_ptr<PipelineRuntimeStatus>> pipelines;

    PipelineRuntimeStatus& add(char id, std::string input_description) {
        auto& p = pipelines.emplace_back(std::make_unique<PipelineRuntimeStatus>());
        p->id = id;
        p->input_description = std::move(input_description);
        return *p;
    }
    const PipelineRuntimeStatus* find(char id) const {
        for (auto& p : pipelines)
            if (p->id == id) return p.get();
        return nullptr;
    }
};

}  // namespace onair::core
