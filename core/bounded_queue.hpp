#pragma once
// A named, bounded, multi-producer multi-consumer queue between pipeline
// stages. A full queue blocks the producer (backpressure) until there is room,
// the queue is closed, or the producer's stop is requested; the consumer waits
// with a timeout so it can do periodic work (input-loss fill). Counters are
// readable from any thread for status and metrics.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

namespace onair::core {

template <class T>
class BoundedQueue {
  public:
    BoundedQueue(std::string name, size_t capacity) : name_(std::move(name)), capacity_(capacity) {}

    // False when the queue was closed or `stop` was requested before there was room.
    bool push(T item, std::stop_token stop = {}) {
        std::unique_lock lock(mutex_);
        std::stop_callback wake(stop, [this] { not_full_.notify_all(); });
        not_full_.wait(
            lock, [&] { return closed_ || stop.stop_requested() || items_.size() < capacity_; });
        if (closed_ || stop.stop_requested()) return false;
        append_locked(std::move(item));
        return true;
    }

    // Never waits: false when full or closed (the item is then dropped).
    bool try_push(T&& item) {
        std::lock_guard lock(mutex_);
        if (closed_ || items_.size() >= capacity_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        append_locked(std::move(item));
        return true;
    }

    // Waits up to `timeout` for an item and moves it into `out`; false on
    // timeout or when closed and drained.
    bool pop_for(T& out, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return false;
        out = std::move(items_.front());
        items_.pop_front();
        not_full_.notify_one();
        return true;
    }

    // Producers stop; the consumer drains what is left and then sees empty.
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        not_full_.notify_all();
        not_empty_.notify_all();
    }

    bool closed_and_empty() const {
        std::lock_guard lock(mutex_);
        return closed_ && items_.empty();
    }
    size_t size() const {
        std::lock_guard lock(mutex_);
        return items_.size();
    }
    const std::string& name() const { return name_; }
    size_t capacity() const { return capacity_; }
    uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }
    size_t high_water() const { return high_water_.load(std::memory_order_relaxed); }
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  private:
    void append_locked(T&& item) {
        items_.push_back(std::move(item));
        pushed_.fetch_add(1, std::memory_order_relaxed);
        if (items_.size() > high_water_.load(std::memory_order_relaxed))
            high_water_.store(items_.size(), std::memory_order_relaxed);
        not_empty_.notify_one();
    }

    std::string name_;
    size_t capacity_;
    mutable std::mutex mutex_;
    std::condition_variable not_full_, not_empty_;
    std::deque<T> items_;
    bool closed_ = false;
    std::atomic<uint64_t> pushed_{0};
    std::atomic<size_t> high_water_{0};
    std::atomic<uint64_t> dropped_{0};
};

}  // namespace onair::core
