#include "core/queue_registry.hpp"

#include <algorithm>

namespace onair::core {

const char* to_string(Overflow overflow) {
    switch (overflow) {
        case Overflow::block:
            return "block";
        case Overflow::drop_oldest:
            return "drop_oldest";
        case Overflow::refuse_newest:
            return "refuse_newest";
    }
    return "block";
}

void QueueRegistry::add(const QueueMeter& queue) {
    std::lock_guard lock(mutex_);
    queues_.push_back(&queue);
}

void QueueRegistry::remove(const QueueMeter& queue) {
    std::lock_guard lock(mutex_);
    std::erase(queues_, &queue);
}

std::vector<QueueFigures> QueueRegistry::figures() const {
    std::lock_guard lock(mutex_);  // a queue leaving waits until this read is done
    std::vector<QueueFigures> out;
    out.reserve(queues_.size());
    for (const QueueMeter* queue : queues_) out.push_back(queue->figures());
    return out;
}

}  // namespace onair::core
