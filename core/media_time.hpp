#pragma once
// Media time: every frame of a channel carries a 64-bit count of a 90 kHz
// clock whose zero is the Unix epoch, after 33-bit wrap handling. Because it is
// anchored to UTC, the same number gives the segment sequence number
// (floor(M / D)) and the PROGRAM-DATE-TIME, and two pipelines fed the same
// timestamps compute the same numbers whichever starts first.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace onair::core {

inline constexpr int64_t kMediaClock = 90000;          // ticks per second
inline constexpr int64_t kPtsWrap = int64_t{1} << 33;  // MPEG-TS PTS modulus
inline constexpr int64_t kNoMediaTime = INT64_MIN;

// Floor division that is right for negative numerators too.
constexpr int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// The value congruent to `value` modulo 2^33 that lies closest to `reference`.
int64_t unwrap_near(int64_t value, int64_t reference);

// UTC now as media time (90 kHz ticks since the Unix epoch).
int64_t utc_now_media();
inline int64_t media_to_utc_ms(int64_t m) {
    return floor_div(m, kMediaClock / 1000);
}
inline int64_t utc_ms_to_media(int64_t ms) {
    return ms * (kMediaClock / 1000);
}
inline int64_t micros_to_ticks(std::chrono::microseconds d) {
    return d.count() * 9 / 100;
}
inline double ticks_to_seconds(int64_t t) {
    return double(t) / kMediaClock;
}

// Segment N covers media time [N*length, (N+1)*length).
struct SegmentGrid {
    SegmentGrid(int64_t length_ticks = 0, int64_t part_ticks = 0)
        : length(length_ticks), part(part_ticks) {}
    int64_t length = 0;  // ticks
    int64_t part = 0;    // LL-HLS part length in ticks, dividing `length`; 0: no parts
    int64_t index_of(int64_t m) const { return floor_div(m, length); }
    int64_t start_of(int64_t n) const { return n * length; }
    // Part k of segment N covers [N * length + k * part, ...).
    int parts_per_segment() const { return part > 0 ? int(length / part) : 0; }
    int part_of(int64_t m) const {
        return part > 0 ? int(floor_div(m - start_of(index_of(m)), part)) : 0;
    }
    int64_t part_start(int64_t n, int k) const { return start_of(n) + k * part; }
};

// Maps a source's timestamps to media time. Offsets are kept in a short list
// so that pipelines fed the same timestamps share one (pts mode: the first
// pipeline to lock creates it, the other finds it), and a pipeline that lags
// its partner through a timestamp jump still finds the offset it was using.
// Thread-safe: both pipelines call it. A pipeline in its own process uses a
// subclass that asks the origin, so both processes share the origin's list.
class TimeAnchor {
  public:
    explicit TimeAnchor(int64_t tolerance_ticks) : tolerance_(tolerance_ticks) {}
    virtual ~TimeAnchor() = default;
    TimeAnchor(const TimeAnchor&) = delete;
    TimeAnchor& operator=(const TimeAnchor&) = delete;
    // Offset for a timestamp `pts` (its low 33 bits) seen at UTC `now` by a
    // pipeline whose media time runs `lag` behind the wall clock: the newest
    // known offset that puts it within `tolerance` of now - lag, or a new one
    // that maps it exactly there. Media time is unwrap_near(low33(pts) + offset, now).
    virtual int64_t lock(int64_t pts, int64_t now, int64_t lag, int64_t tolerance);
    int64_t tolerance() const { return tolerance_; }
    size_t offsets() const;

  private:
    mutable std::mutex mutex_;
    int64_t tolerance_;
    std::vector<int64_t> offsets_;  // newest last
};

// One pipeline's view of its source clock. Feeds 33-bit timestamps in, gets
// monotonic-enough media time out; notices jumps in the source's timestamps
// (a restarted contribution encoder) by comparing against the wall clock and
// re-locks on the anchor. Called from the pipeline thread only.
class MediaClock {
  public:
    // jump_ticks: how far the source may stray from its usual lag behind
    // the wall clock before it counts as a new timeline.
    MediaClock(TimeAnchor& anchor, int64_t jump_ticks) : anchor_(anchor), jump_(jump_ticks) {}
    // `pts` in 90 kHz (any range; only its low 33 bits are used), `now` UTC.
    int64_t to_media(int64_t pts, int64_t now);
    // Forget the current lock (the input reconnected); the next timestamp locks again.
    void reset() { locked_ = false; }
    bool locked() const { return locked_; }
    // Times the source's timestamps started a new timeline (a jump, or a
    // reconnect onto different timestamps).
    int64_t relocks() const { return relocks_; }
    // Current estimate of how far media time runs behind the wall clock.
    int64_t lag() const { return lag_; }

  private:
    TimeAnchor& anchor_;
    int64_t jump_;
    bool locked_ = false;
    bool has_lag_ = false;  // locked at least once: lag_ is known
    int64_t offset_ = 0;
    int64_t last_ = 0;    // newest media time given out
    int64_t recent_ = 0;  // media time of the previous timestamp
    int64_t lag_ = 0;
    int64_t relocks_ = 0;
};

}  // namespace onair::core
