#pragma once
// The event controller: it keeps every event's lifecycle moving. The rules
// are schedule/lifecycle.hpp's (a pure function); this class owns the
// clock, the threads and the side effects around them:
//
//   schedule file / API ──► events (EventStore: SQLite) ──► driver thread
//        step(event, state, now, report) ──► state + history row (one transaction)
//        transition ──► log line, webhook POST          actions ──► the event's worker
//   worker: deploy / restart (re-read and check the channel file, Runner::start),
//           harvest (a clip job on the channel's origin, awaited), stop (Runner::stop)
//   monitor thread: every `poll`, Runner::liveness and the channel's status
//           (ChannelProbe) ──► reports (ready, died) ──► driver
//
// Operator commands (add, change, cancel, confirm teardown, extend, reload)
// come from the API's threads: they are checked, stored, and wake the
// driver. After a restart, start() adopts what the store says runs (the
// runner's liveness of the stored deployment), re-runs a step that was in
// flight, and the first steps catch up with whatever fell due meanwhile.
// Owns its threads; the runner and the store must outlive it (stop() first).
// Channels keep running when the controller stops: it only lets go of them.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "origin/webhook.hpp"
#include "schedule/event_store.hpp"
#include "schedule/lifecycle.hpp"
#include "schedule/runner.hpp"
#include "schedule/schedule_config.hpp"

namespace onair::schedule {

struct ControllerOptions {
    // Liveness of every running channel and its origin's status, this often.
    std::chrono::milliseconds poll{250};
    // stop(): SIGTERM (or delete), then this long before it is forced.
    std::chrono::milliseconds stop_grace{15000};
    // A harvest job not finished by then is left to the channel's catalog
    // (teardown goes on; the clip shows as failed or in_progress there).
    std::chrono::milliseconds harvest_timeout{60000};
    std::function<TimePoint()> now;  // the system clock when empty
};

// An event as the API shows it.
struct EventView {
    StoredEvent stored;
    std::optional<TimePoint> next_due;   // when something falls due without a report
    std::string playback;                // ORIGIN/live/CHANNEL/master.m3u8 while it runs
    boost::json::object channel_status;  // the channel's summary, fetched from its origin
};

// Why a command was refused: HTTP status, a short error word, every reason.
struct Refusal {
    int status = 400;
    std::string error = "bad_request";
    std::vector<std::string> reasons;
};

template <class T>
using Answer = std::expected<T, Refusal>;

// Figures for /metrics (counters since start-up).
struct ControllerFigures {
    std::map<State, int> events_by_state;
    int64_t transitions = 0;
    int64_t retries = 0;
    int64_t failures = 0;
    int64_t restarts = 0;
    int64_t reloads = 0;
    int64_t webhooks_failed = 0;
};

class Controller {
  public:
    Controller(ScheduleConfig schedule, Runner& runner, EventStore& store,
               ControllerOptions options = {});
    ~Controller();
    Controller(const Controller&) = delete;
    Controller& operator=(const Controller&) = delete;

    // Loads the store, applies the schedule file's events (new ones added,
    // ones not yet deployed changed), adopts running channels, and starts
    // the driver and the monitor.
    [[nodiscard]] core::Result<> start();
    // Stops the threads (a step in flight finishes first). Channels keep running.
    void stop();

    // ---- commands (any thread) ----
    Answer<EventView> add(std::string_view body);
    Answer<EventView> change(std::string_view id, std::string_view body);
    Answer<EventView> cancel(std::string_view id);
    Answer<EventView> confirm_teardown(std::string_view id);
    Answer<EventView> extend(std::string_view id, std::string_view body);
    // Reads the schedule file again; its changes apply to events not yet
    // deployed. The lines of what changed.
    Answer<std::vector<std::string>> reload();

    // ---- reads (any thread) ----
    std::vector<EventView> events() const;
    std::optional<EventView> event(std::string_view id) const;
    core::Result<std::vector<HistoryEntry>> history(std::string_view id) const;
    ControllerFigures figures() const;
    const ScheduleConfig& schedule() const;  // under the caller's care: changes on reload
    // Every channel (name and data folder) an event ran, for its clips.
    std::vector<std::pair<std::string, std::string>> channels_run() const;
    std::optional<std::pair<std::string, std::string>> channel_of(std::string_view event) const;

    // Until the driver has nothing due and no worker is busy (tests).
    bool wait_idle(std::chrono::milliseconds timeout) const;

  private:
    struct Entry;
    void drive(std::stop_token stop);
    void monitor(std::stop_token stop);
    // One event's due steps; under mutex_.
    void advance(Entry& entry, TimePoint now);
    void apply(Entry& entry, const Step& step, TimePoint now);
    void notify_transition(const Entry& entry, const Transition& transition);
    void work(std::string id, std::stop_token stop);
    void run_action(const std::string& id, const Action& action, std::stop_token stop);
    void deploy(const std::string& id, std::stop_token stop);
    void harvest(const std::string& id, const Action& action, std::stop_token stop);
    void stop_channel(const std::string& id);
    void report(const std::string& id, RunnerReport report);
    void queue_actions(Entry& entry, std::vector<Action> actions);
    void adopt(Entry& entry);
    Answer<EventView> command(
        std::string_view id,
        const std::function<std::optional<Refusal>(Entry&, TimePoint)>& change);
    std::optional<Refusal> check_ports(const EventSpec& candidate, TimePoint now) const;
    Answer<EventView> store_new_spec(const EventSpec& spec, EventSource source, TimePoint now);
    EventView view(const Entry& entry) const;
    TimePoint now() const;
    int64_t now_ms() const;

    ScheduleConfig schedule_;
    Runner& runner_;
    EventStore& store_;
    const ControllerOptions options_;
    const RetryPolicy policy_;

    mutable std::mutex mutex_;
    std::condition_variable_any wake_;
    mutable std::condition_variable_any idle_;
    std::map<std::string, std::unique_ptr<Entry>, std::less<>> entries_;
    std::vector<std::string> order_;  // ids, as first stored
    ControllerFigures figures_;
    std::map<std::string, std::unique_ptr<origin::WebhookNotifier>> webhooks_;

    std::jthread driver_;
    std::jthread monitor_;
};

}  // namespace onair::schedule
