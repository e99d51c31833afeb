#include "core/media_time.hpp"

#include <cstdlib>

namespace onair::core {

int64_t unwrap_near(int64_t value, int64_t reference) {
    int64_t delta = (value - reference) & (kPtsWrap - 1);  // in [0, 2^33)
    if (delta >= kPtsWrap / 2) delta -= kPtsWrap;           // in [-2^32, 2^32)
    return reference + delta;
}

int64_t utc_now_media() {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return us * 9 / 100;
}

int64_t TimeAnchor::lock(int64_t pts, int64_t now) {
    std::lock_guard lock(mutex_);
    int64_t low = pts & (kPtsWrap - 1);
    for (auto it = offsets_.rbegin(); it != offsets_.rend(); ++it) {
        if (std::llabs(now - unwrap_near(low + *it, now)) <= tolerance_) return *it;
    }
    // A new timeline: this timestamp's media time is now.
    offsets_.push_back(now - low);
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
        if (std::llabs(lag - lag_) <= jump_) {
            // Follow slow drift between the source's clock and ours.
            lag_ += (lag - lag_) / 64;
            if (m > last_) last_ = m;
            return m;
        }
        ++relocks_;
    }
    offset_ = anchor_.lock(low, now);
    int64_t m = unwrap_near(low + offset_, now);
    locked_ = true;
    last_ = m;
    lag_ = now - m;
    return m;
}

}  // namespace onair::core
