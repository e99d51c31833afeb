#include "core/media_time.hpp"

#include <cstdlib>

namespace onair::core {

int64_t unwrap_near(int64_t value, int64_t reference) {
    int64_t delta = (value - reference) & (kPtsWrap - 1);  // in [0, 2^33)
    if (delta >= kPtsWrap / 2) delta -= kPtsWrap;          // in [-2^32, 2^32)
    return reference + delta;
}

int64_t utc_now_media() {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return us * 9 / 100;
}

int64_t TimeAnchor::lock(int64_t pts, int64_t now, int64_t lag, int64_t tolerance) {
    std::lock_guard lock(mutex_);
    int64_t low = pts & (kPtsWrap - 1);
    int64_t target = now - lag;
    for (auto it = offsets_.rbegin(); it != offsets_.rend(); ++it) {
        if (std::llabs(target - unwrap_near(low + *it, target)) <= tolerance) return *it;
    }
    // A new timeline: this timestamp's media time is now - lag.
    offsets_.push_back(target - low);
    if (offsets_.size() > 8) offsets_.erase(offsets_.begin());
    return offsets_.back();
}

size_t TimeAnchor::offsets() const {
    std::lock_guard lock(mutex_);
    return offsets_.size();
}

int64_t MediaClock::to_media(int64_t pts, int64_t now) {
    int64_t low = pts & (kPtsWrap - 1);
    if (locked_) {
        int64_t m = unwrap_near(low + offset_, last_);
        int64_t lag = now - m;
        bool on_time = std::llabs(lag - lag_) <= jump_;
        // A frame that continues the timestamps but arrives late (flushed
        // from a buffer after a stall) is not a new timeline.
        bool continues = std::llabs(m - recent_) <= jump_;
        if (on_time || continues) {
            if (on_time) lag_ += (lag - lag_) / 64;  // follow slow clock drift
            recent_ = m;
            if (m > last_) last_ = m;
            return m;
        }
        ++relocks_;
    }
    // A first lock may join a timeline another pipeline started, within the
    // anchor's tolerance; a re-lock must also keep this pipeline's own lag.
    int64_t previous = offset_;
    offset_ = has_lag_ ? anchor_.lock(low, now, lag_, jump_)
                       : anchor_.lock(low, now, 0, anchor_.tolerance());
    if (has_lag_ && offset_ != previous && !locked_) ++relocks_;  // new timeline after a reconnect
    int64_t m = unwrap_near(low + offset_, now - (has_lag_ ? lag_ : 0));
    locked_ = true;
    has_lag_ = true;
    last_ = m;
    recent_ = m;
    lag_ = now - m;
    return m;
}

}  // namespace onair::core
