#pragma once
// What every queue between threads reports, and the list of a channel's
// queues that the status API and /metrics read (OvenMediaEngine's managed
// queues are the model). A queue registers itself when it is made and
// leaves when it goes; the registry must outlive the queues in it.
// Thread-safe: queues come and go on their owners' threads while the origin's
// threads read.
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace onair::core {

// What a full queue does with one more item.
enum class Overflow {
    block,          // the producer waits for room (backpressure)
    drop_oldest,    // the oldest waiting item goes (counted), the new one is taken
    refuse_newest,  // the new item is refused (counted); the caller says so upstream
};
const char* to_string(Overflow overflow);  // "block", "drop_oldest", "refuse_newest"

// One queue's figures at one moment.
struct QueueFigures {
    std::string name;
    size_t capacity = 0;
    Overflow overflow = Overflow::block;
    size_t depth = 0;       // waiting now
    size_t high_water = 0;  // most ever waiting
    uint64_t pushed = 0;    // taken in
    uint64_t popped = 0;    // handed to a consumer
    uint64_t dropped = 0;   // lost to the overflow policy (oldest dropped or newest refused)
};

// The side of a queue the registry sees, whatever the queue holds.
class QueueMeter {
  public:
    virtual QueueFigures figures() const = 0;

  protected:
    ~QueueMeter() = default;
};

class QueueRegistry {
  public:
    QueueRegistry() = default;
    QueueRegistry(const QueueRegistry&) = delete;
    QueueRegistry& operator=(const QueueRegistry&) = delete;

    void add(const QueueMeter& queue);
    void remove(const QueueMeter& queue);
    // Every registered queue's figures, in the order they registered.
    std::vector<QueueFigures> figures() const;

  private:
    mutable std::mutex mutex_;
    std::vector<const QueueMeter*> queues_;
};

}  // namespace onair::core
