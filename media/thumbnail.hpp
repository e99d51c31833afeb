#pragma once
// Thumbnails for the control room's DVR timeline: the first picture of a
// segment (its IDR), scaled down and encoded as a JPEG. A segment of the
// smallest rung is decoded once, on a low-priority thread of its own, so the
// live chain never waits for it.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <thread>

#include "core/bounded_queue.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"

namespace onair::media {

// The first picture of `segment` (MPEG-TS, or CMAF with its init section),
// `width` pixels wide (height kept in proportion, even), as JPEG bytes.
[[nodiscard]] core::Result<core::Bytes> jpeg_thumbnail(const core::Segment& segment, int width);

// In: add() from the origin's publishing (never blocks: beyond a few waiting
// segments the oldest is dropped). Out: FOLDER/SEQ.jpg per segment, written
// whole (a temporary name, then renamed) by its own thread at low priority.
// Who deletes them: the DVR, with their segments.
class Thumbnailer {
  public:
    struct Options {
        std::filesystem::path folder;  // created when missing
        int width = 160;
        core::QueueRegistry* queues = nullptr;  // where its queue ("thumbnails") registers
    };
    explicit Thumbnailer(Options options);
    ~Thumbnailer();
    Thumbnailer(const Thumbnailer&) = delete;
    Thumbnailer& operator=(const Thumbnailer&) = delete;

    void add(std::shared_ptr<const core::Segment> segment);
    int64_t made() const { return made_.load(); }
    int64_t failed() const { return failed_.load(); }

  private:
    void run(std::stop_token stop);

    const Options options_;
    core::BoundedQueue<std::shared_ptr<const core::Segment>> queue_;
    std::atomic<int64_t> made_{0}, failed_{0};
    std::jthread worker_;
};

}  // namespace onair::media
