#pragma once
// The controller's state on disk: DATA/events.db (SQLite, WAL). One row per
// event (its spec, where it came from, its lifecycle state with the facts
// the rules need, and the deployment of its channel while one runs), and
// the event's history: one row per transition. A state change and its
// history row are written in one transaction, so a controller killed at any
// moment restarts from a state whose history agrees with it.
//
// In: the controller's calls, from its driver thread (and the HTTP threads
// for reads; the store serialises them behind its own mutex). Out: rows.
// Owns its database.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "origin/sqlite.hpp"
#include "schedule/lifecycle.hpp"
#include "schedule/runner.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

// Where an event's spec came from: the schedule file (a reload may change
// it while it is still scheduled) or the API (a reload leaves it alone).
enum class EventSource { file, api };
inline constexpr auto kEventSources = core::enum_names<EventSource>(
    std::pair{EventSource::file, "file"}, std::pair{EventSource::api, "api"});

struct StoredEvent {
    EventSpec spec;
    EventSource source = EventSource::file;
    EventState state;
    std::optional<Deployment> deployment;  // while its channel may run
    // The channel it ran last, kept after it stopped (its clips outlive it):
    // set with each deployment, never cleared.
    std::string channel_name;
    std::string data_dir;
    int64_t created_ms = 0;  // UTC, when first stored
    int64_t updated_ms = 0;  // UTC, the last change of any part
};

struct HistoryEntry {
    int64_t seq = 0;  // increasing across all events
    std::string event;
    State from = State::scheduled;
    State to = State::scheduled;
    TimePoint at{};
    std::string reason;
};

class EventStore {
  public:
    // Opens (creating) `path` and its tables.
    [[nodiscard]] static core::Result<std::unique_ptr<EventStore>> open(const std::string& path);

    // Every event, in the order first stored.
    [[nodiscard]] core::Result<std::vector<StoredEvent>> load() const;
    [[nodiscard]] core::Result<std::optional<StoredEvent>> find(std::string_view id) const;

    // Inserts the event, or replaces its spec and source (its state, deployment
    // and history stay).
    [[nodiscard]] core::Result<> put_spec(const EventSpec& spec, EventSource source,
                                          int64_t now_ms);
    // The event's new state and, when it moved, the transition's history row:
    // one transaction.
    [[nodiscard]] core::Result<> put_state(std::string_view id, const EventState& state,
                                           const std::optional<Transition>& transition,
                                           int64_t now_ms);
    // The running channel, or none (after it stopped).
    [[nodiscard]] core::Result<> put_deployment(std::string_view id,
                                                const std::optional<Deployment>& deployment,
                                                int64_t now_ms);

    // The history of one event (oldest first), or of all events when `id` is empty.
    [[nodiscard]] core::Result<std::vector<HistoryEntry>> history(std::string_view id = {}) const;

  private:
    explicit EventStore(origin::SqliteDb db);
    mutable std::mutex mutex_;
    mutable origin::SqliteDb db_;
};

}  // namespace onair::schedule
