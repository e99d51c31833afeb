#include "core/queue_registry.hpp"

#include <algorithm>

#include "core/enum_names.hpp"
#include "core/log.hpp"

namespace onair::core {
namespace {
constexpr auto kOverflowNames = enum_names<Overflow>(
    std::pair{Overflow::block, "block"}, std::pair{Overflow::drop_oldest, "drop_oldest"},
    std::pair{Overflow::refuse_newest, "refuse_newest"});
}  // namespace

const char* to_string(Overflow overflow) {
    return kOverflowNames.name(overflow).data();
}

void QueueRegistry::add(const QueueMeter& queue) {
    std::lock_guard lock(mutex_);
    // The status API keys queues by name and /metrics labels them by it: a
    // second queue of one name would hide the first.
    for (const auto* other : queues_)
        if (other->figures().name == queue.figures().name)
            log::warn("queues", "two queues named \"{}\": the status API shows one of them",
                      queue.figures().name);
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
