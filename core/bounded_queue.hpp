#pragma once
// The one queue between threads: named, bounded, with a stated overflow
// policy and counters that the channel's QueueRegistry shows in the status
// API and /metrics.
//
// In: push() / try_push() from any number of producer threads. Out: pop(),
// pop_for() or try_pop() on any number of consumer threads, oldest first.
// What a full queue does is its Overflow: `block` makes push() wait for room
// (until the queue is closed or the producer's stop is requested);
// `drop_oldest` and `refuse_newest` never wait. close() ends producing:
// consumers drain what is left and then see the end. A worker pool may call
// done() after each item it finishes, so wait_idle() can wait for the queue
// to be empty and every popped item finished. Counters and figures() are
// readable from any thread. The queue owns its items; the registry, when
// given, must outlive it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/queue_registry.hpp"

namespace onair::core {

template <class T>
struct QueueOptions {
    Overflow overflow = Overflow::block;
    QueueRegistry* registry = nullptr;  // listed there while the queue lives
    // Items drop_oldest must keep (the DVR's flush markers): it drops the
    // oldest other one, and takes the new item anyway when none can go.
    std::function<bool(const T&)> keep = {};
    // Called with each item the policy drops and the number dropped so far,
    // on the producer's thread after the queue's lock is released (a log line).
    std::function<void(const T&, uint64_t dropped)> on_drop = {};
};

template <class T>
class BoundedQueue final : public QueueMeter {
  public:
    // A capacity below 1 is taken as 1.
    BoundedQueue(std::string name, size_t capacity, QueueOptions<T> options = {})
        : name_(std::move(name)),
          capacity_(std::max<size_t>(1, capacity)),
          options_(std::move(options)) {
        if (options_.registry) options_.registry->add(*this);
    }
    ~BoundedQueue() {
        if (options_.registry) options_.registry->remove(*this);
    }
    BoundedQueue(const BoundedQueue&) = delete;
    BoundedQueue& operator=(const BoundedQueue&) = delete;

    // Takes `item` by the queue's policy. False when the item was not taken:
    // the queue is closed, the newest was refused (refuse_newest), or, with
    // `block`, `stop` was requested before there was room.
    bool push(T item, std::stop_token stop = {}) {
        std::optional<T> lost;
        bool taken = false;
        uint64_t dropped = 0;
        {
            std::unique_lock lock(mutex_);
            if (options_.overflow == Overflow::block) {
                not_full_.wait(lock, stop, [&] { return closed_ || items_.size() < capacity_; });
                if (closed_ || stop.stop_requested()) return false;
                taken = true;
            } else {
                if (closed_) return false;
                taken = make_room_locked(item, lost);
            }
            if (taken) append_locked(std::move(item));
            if (lost) dropped = dropped_.load(std::memory_order_relaxed);
        }
        if (lost && options_.on_drop) options_.on_drop(*lost, dropped);
        return taken;
    }

    // Never waits. With `block` a full queue refuses the item (counted as
    // dropped); with the other policies it is push(). False when not taken.
    bool try_push(T&& item) {
        if (options_.overflow != Overflow::block) return push(std::move(item));
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        if (items_.size() >= capacity_) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        append_locked(std::move(item));
        return true;
    }

    // Takes `item` even when the queue is full, whatever the policy: work its
    // owner must not lose (a clean-up job). False only when closed.
    bool force_push(T item) {
        std::lock_guard lock(mutex_);
        if (closed_) return false;
        append_locked(std::move(item));
        return true;
    }

    // Waits for an item; nullopt once closed and drained, or when `stop` is
    // requested.
    std::optional<T> pop(std::stop_token stop = {}) {
        std::unique_lock lock(mutex_);
        not_empty_.wait(lock, stop, [&] { return closed_ || !items_.empty(); });
        if (stop.stop_requested()) {
            // This consumer leaves: the wake-up it may have taken goes to another.
            if (!items_.empty()) not_empty_.notify_one();
            return std::nullopt;
        }
        if (items_.empty()) return std::nullopt;
        return take_locked();
    }

    // Waits up to `timeout` for an item and moves it into `out`; false on
    // timeout or when closed and drained.
    bool pop_for(T& out, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return false;
        out = take_locked();
        return true;
    }

    std::optional<T> try_pop() {
        std::lock_guard lock(mutex_);
        if (items_.empty()) return std::nullopt;
        return take_locked();
    }

    // Producers stop; consumers drain what is left and then see the end.
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        not_full_.notify_all();
        not_empty_.notify_all();
    }

    // Everything still waiting, oldest first; not counted as dropped (an
    // owner shutting down decides what that means).
    std::vector<T> take_all() {
        std::lock_guard lock(mutex_);
        std::vector<T> out;
        out.reserve(items_.size());
        for (auto& item : items_) out.push_back(std::move(item));
        items_.clear();
        depth_.store(0, std::memory_order_relaxed);
        not_full_.notify_all();
        idle_.notify_all();
        return out;
    }

    // A consumer finished an item it popped (see wait_idle).
    void done() {
        std::lock_guard lock(mutex_);
        if (busy_ > 0) --busy_;
        if (busy_ == 0 && items_.empty()) idle_.notify_all();
    }
    // Waits up to `timeout` until nothing waits and every popped item is
    // done(); true when so. Only for consumers that call done() for each item.
    bool wait_idle(std::chrono::milliseconds timeout) const {
        std::unique_lock lock(mutex_);
        return idle_.wait_for(lock, timeout, [&] { return items_.empty() && busy_ == 0; });
    }

    bool closed() const {
        std::lock_guard lock(mutex_);
        return closed_;
    }
    bool closed_and_empty() const {
        std::lock_guard lock(mutex_);
        return closed_ && items_.empty();
    }
    size_t size() const { return depth_.load(std::memory_order_relaxed); }
    bool empty() const { return size() == 0; }
    const std::string& name() const { return name_; }
    size_t capacity() const { return capacity_; }
    Overflow overflow() const { return options_.overflow; }
    uint64_t pushed() const { return pushed_.load(std::memory_order_relaxed); }
    uint64_t popped() const { return popped_.load(std::memory_order_relaxed); }
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    size_t high_water() const { return high_water_.load(std::memory_order_relaxed); }

    QueueFigures figures() const override {
        return {name_,        capacity_, options_.overflow, size(),
                high_water(), pushed(),  popped(),          dropped()};
    }

  private:
    // drop_oldest / refuse_newest on a full queue; false when `item` is refused.
    bool make_room_locked(T& item, std::optional<T>& lost) {
        if (items_.size() < capacity_) return true;
        if (options_.overflow == Overflow::refuse_newest) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            lost = std::move(item);
            return false;
        }
        auto victim = options_.keep ? std::find_if(items_.begin(), items_.end(),
                                                   [&](const T& i) { return !options_.keep(i); })
                                    : items_.begin();
        if (victim != items_.end()) {
            lost = std::move(*victim);
            items_.erase(victim);
            dropped_.fetch_add(1, std::memory_order_relaxed);
        }
        return true;
    }

    void append_locked(T&& item) {
        items_.push_back(std::move(item));
        pushed_.fetch_add(1, std::memory_order_relaxed);
        depth_.store(items_.size(), std::memory_order_relaxed);
        if (items_.size() > high_water_.load(std::memory_order_relaxed))
            high_water_.store(items_.size(), std::memory_order_relaxed);
        not_empty_.notify_one();
    }

    T take_locked() {
        T item = std::move(items_.front());
        items_.pop_front();
        ++busy_;
        popped_.fetch_add(1, std::memory_order_relaxed);
        depth_.store(items_.size(), std::memory_order_relaxed);
        not_full_.notify_one();
        return item;
    }

    const std::string name_;
    const size_t capacity_;
    const QueueOptions<T> options_;
    mutable std::mutex mutex_;
    std::condition_variable_any not_full_, not_empty_;
    mutable std::condition_variable_any idle_;
    std::deque<T> items_;
    size_t busy_ = 0;  // popped, not yet done()
    bool closed_ = false;
    std::atomic<uint64_t> pushed_{0}, popped_{0}, dropped_{0};
    std::atomic<size_t> depth_{0}, high_water_{0};
};

}  // namespace onair::core
