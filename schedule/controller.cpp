// The controller's threads around the lifecycle's rules: the driver steps
// events when something falls due, the monitor watches running channels,
// and each event's worker carries out its actions in order (a deploy, a
// harvest then a stop) so that no two actions of one event ever overlap.
#include "schedule/controller.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/token.hpp"
#include "origin/clip_time.hpp"
#include "origin/http_client.hpp"
#include "schedule/channel_probe.hpp"
#include "schedule/port_overlap.hpp"
#include "schedule/schedule_check.hpp"

namespace onair::schedule {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
constexpr std::string_view kLog = "controller";
// The monitor asks the status of channels that are already up this often
// (every poll while one is being deployed or restarted).
constexpr int kStatusEvery = 4;
// Steps taken for one event at one moment at most (each is one transition;
// a controller that was down for a day catches up in a few).
constexpr int kMaxStepsAtOnce = 16;
// How long a harvest waits for the DVR to record the event's real end (a
// segment or two).
constexpr auto kHarvestEndWait = 20s;

int64_t ms_of(TimePoint t) {
    return t.time_since_epoch().count();
}

std::string first_problems(const std::vector<core::Diagnostic>& problems) {
    if (problems.empty()) return "not valid";
    auto text = problems.front().to_string();
    if (problems.size() > 1) text += fmt::format(" (and {} more)", problems.size() - 1);
    return text;
}

std::vector<std::string> texts(const std::vector<core::Diagnostic>& problems) {
    std::vector<std::string> out;
    for (const auto& p : problems) out.push_back(p.to_string());
    return out;
}

Refusal refusal(int status, std::string error, std::vector<std::string> reasons) {
    return Refusal{status, std::move(error), std::move(reasons)};
}

bool same_spec(const EventSpec& a, const EventSpec& b) {
    return event_json(a) == event_json(b) && a.channel_path == b.channel_path;
}

}  // namespace

struct Controller::Entry {
    StoredEvent stored;
    std::deque<RunnerReport> reports;  // from the monitor and the worker, for the driver
    std::deque<Action> actions;        // for the worker
    bool busy = false;                 // the worker has actions queued or running
    bool dirty = false;                // a command or a start-up: step at once
    std::optional<TimePoint> wake_at;
    boost::json::object status;  // the channel's last summary
    std::jthread worker;
};

Controller::Controller(ScheduleConfig schedule, Runner& runner, EventStore& store,
                       ControllerOptions options)
    : schedule_(std::move(schedule)),
      runner_(runner),
      store_(store),
      options_(std::move(options)),
      policy_([&] {
          auto p = RetryPolicy::from(schedule_.retries);
          // Stopping includes the grace before SIGKILL and a harvest.
          p.teardown_timeout = std::max<Duration>(
              p.teardown_timeout, std::chrono::duration_cast<Duration>(
                                      options_.stop_grace + options_.harvest_timeout + 10s));
          return p;
      }()) {}

Controller::~Controller() {
    stop();
}

TimePoint Controller::now() const {
    if (options_.now) return options_.now();
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

int64_t Controller::now_ms() const {
    return ms_of(now());
}

// ---- start and stop -----------------------------------------------------------

core::Result<> Controller::start() {
    auto stored = store_.load();
    if (!stored) return std::unexpected(stored.error());
    std::unique_lock lock(mutex_);
    const auto t = now();
    for (auto& s : *stored) {
        auto entry = std::make_unique<Entry>();
        entry->stored = std::move(s);
        order_.push_back(entry->stored.spec.id);
        entries_.emplace(order_.back(), std::move(entry));
    }
    for (const auto& spec : schedule_.events) {
        auto it = entries_.find(spec.id);
        if (it == entries_.end()) {
            if (auto ok = store_.put_spec(spec, EventSource::file, ms_of(t)); !ok)
                return std::unexpected(ok.error());
            auto found = store_.find(spec.id);
            if (!found || !*found) return core::fail("event " + spec.id + " was not stored");
            auto entry = std::make_unique<Entry>();
            entry->stored = std::move(**found);
            order_.push_back(spec.id);
            entries_.emplace(spec.id, std::move(entry));
            continue;
        }
        auto& e = *it->second;
        if (e.stored.source == EventSource::file && e.stored.state.state == State::scheduled &&
            !same_spec(e.stored.spec, spec)) {
            if (auto ok = store_.put_spec(spec, EventSource::file, ms_of(t)); !ok)
                return std::unexpected(ok.error());
            e.stored.spec = spec;
            log::info(kLog, "event {}: changed in the schedule file while the controller was down",
                      spec.id);
        }
    }
    for (const auto& id : order_) {
        auto& e = *entries_.at(id);
        adopt(e);
        e.dirty = true;
    }
    lock.unlock();
    driver_ = std::jthread([this](std::stop_token s) { drive(s); });
    monitor_ = std::jthread([this](std::stop_token s) { monitor(s); });
    return {};
}

void Controller::stop() {
    if (driver_.joinable()) {
        driver_.request_stop();
        driver_.join();
    }
    if (monitor_.joinable()) {
        monitor_.request_stop();
        monitor_.join();
    }
    std::vector<std::jthread> workers;
    {
        std::lock_guard lock(mutex_);
        for (auto& [id, e] : entries_)
            if (e->worker.joinable()) workers.push_back(std::move(e->worker));
    }
    for (auto& w : workers) w.request_stop();
    workers.clear();  // joins
    std::lock_guard lock(mutex_);
    for (auto& [url, w] : webhooks_) w->stop();
}

// What the store says about a channel, checked against what runs now.
void Controller::adopt(Entry& e) {
    auto& st = e.stored.state;
    const auto& id = e.stored.spec.id;
    if (!has_channel(st.state)) return;
    if (e.stored.deployment && e.stored.deployment->runner != runner_.name()) {
        // runner.type changed while it ran: this runner cannot see it.
        log::error(kLog,
                   "event {}: its channel {} was started by the {} runner, this controller runs "
                   "the {} runner: left alone (stop it by hand, or restart with runner.type: {})",
                   id, e.stored.deployment->id, e.stored.deployment->runner, runner_.name(),
                   e.stored.deployment->runner);
        return;
    }
    if (e.stored.deployment) {
        auto alive = runner_.liveness(*e.stored.deployment);
        if (alive.running) {
            log::info(kLog, "event {}: adopted its channel ({} {}), {}", id, runner_.name(),
                      e.stored.deployment->id, to_string(st.state));
            if (st.state == State::tearing_down) {
                std::vector<Action> again;
                if (e.stored.spec.harvest == Harvest::event && st.live_since && st.ended_at &&
                    *st.ended_at > e.stored.spec.start)
                    again.push_back({ActionKind::harvest, e.stored.spec.start, *st.ended_at});
                again.push_back({ActionKind::stop, {}, {}});
                queue_actions(e, std::move(again));
            }
            return;
        }
        auto reason = fmt::format("it stopped while the controller was down ({})", alive.reason);
        log::warn(kLog, "event {}: its channel {} {}", id, e.stored.deployment->id, reason);
        e.stored.deployment.reset();
        if (auto ok = store_.put_deployment(id, std::nullopt, now_ms()); !ok)
            log::error(kLog, "event {}: {}", id, ok.error().message);
        switch (st.state) {
            case State::deploying:
                e.reports.push_back({Report::deploy_failed, reason});
                break;
            case State::tearing_down:
                e.reports.push_back({Report::teardown_finished, {}});
                break;
            default:
                e.reports.push_back({Report::channel_died, reason});
        }
        return;
    }
    // No channel recorded: the controller died between deciding and starting.
    if (st.state == State::tearing_down)
        e.reports.push_back({Report::teardown_finished, {}});
    else if (st.attempt_at)
        queue_actions(
            e, {{st.state == State::deploying ? ActionKind::deploy : ActionKind::restart, {}, {}}});
}

// ---- the driver -----------------------------------------------------------------

void Controller::drive(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (!stop.stop_requested()) {
        const auto t = now();
        std::optional<TimePoint> next;
        for (const auto& id : order_) {
            auto& e = *entries_.at(id);
            if (!e.reports.empty() || e.dirty || (e.wake_at && *e.wake_at <= t)) advance(e, t);
            if (e.wake_at) next = next ? std::min(*next, *e.wake_at) : *e.wake_at;
        }
        idle_.notify_all();
        auto wait = next ? std::clamp<Duration>(*next - now(), 0ms, 1s) : Duration(1s);
        wake_.wait_for(lock, stop, wait, [&] {
            return std::any_of(entries_.begin(), entries_.end(), [](const auto& kv) {
                return !kv.second->reports.empty() || kv.second->dirty;
            });
        });
    }
}

void Controller::advance(Entry& e, TimePoint t) {
    for (int i = 0; i < kMaxStepsAtOnce; ++i) {
        RunnerReport r;
        if (!e.reports.empty()) {
            r = std::move(e.reports.front());
            e.reports.pop_front();
        }
        e.dirty = false;
        auto s = step(e.stored.spec, e.stored.state, t, r, policy_);
        bool moved = s.transition.has_value();
        apply(e, s, t);
        bool more_due = e.wake_at && *e.wake_at <= t;
        if (e.reports.empty() && !(moved && more_due)) break;
    }
}

void Controller::apply(Entry& e, const Step& s, TimePoint t) {
    const auto& id = e.stored.spec.id;
    const auto& before = e.stored.state;
    if (s.next.attempts > before.attempts && before.attempts > 0 && s.next.state == before.state &&
        s.next.restarts == before.restarts)
        ++figures_.retries;
    if (s.next.restarts > before.restarts) ++figures_.restarts;
    if (s.next != before || s.transition) {
        if (auto ok = store_.put_state(id, s.next, s.transition, ms_of(t)); !ok)
            log::error(kLog, "event {}: cannot store its state: {}", id, ok.error().message);
    }
    e.stored.state = s.next;
    e.wake_at = s.wake_at;
    if (!s.note.empty()) log::info(kLog, "event {}: {}", id, s.note);
    if (s.transition) {
        ++figures_.transitions;
        if (s.transition->to == State::failed) ++figures_.failures;
        notify_transition(e, *s.transition);
    }
    std::vector<Action> actions;
    for (const auto& a : s.actions)
        if (a.kind != ActionKind::notify) actions.push_back(a);
    if (!actions.empty()) queue_actions(e, std::move(actions));
}

void Controller::notify_transition(const Entry& e, const Transition& tr) {
    const auto& spec = e.stored.spec;
    auto line = fmt::format("event {}: {} -> {}: {}", spec.id, to_string(tr.from), to_string(tr.to),
                            tr.reason);
    if (tr.to == State::failed)
        log::error(kLog, "{}", line);
    else
        log::info(kLog, "{}", line);
    if (spec.webhook.empty()) return;
    auto& hook = webhooks_[spec.webhook];
    if (!hook) {
        auto created = origin::WebhookNotifier::create(
            spec.webhook, origin::WebhookOptions{.queue_name = "webhook.events"});
        if (!created) {
            log::warn(kLog, "event {}: webhook {}: {}", spec.id, spec.webhook,
                      created.error().message);
            webhooks_.erase(spec.webhook);
            return;
        }
        hook = std::move(*created);
    }
    boost::json::object json;
    json["type"] = "event_transition";
    json["event"] = spec.id;
    json["title"] = spec.title;
    json["from"] = to_string(tr.from);
    json["to"] = to_string(tr.to);
    json["time"] = time_text(tr.at);
    json["reason"] = tr.reason;
    json["state"] = to_string(e.stored.state.state);
    hook->post(boost::json::serialize(json));
}

// ---- the workers --------------------------------------------------------------

void Controller::queue_actions(Entry& e, std::vector<Action> actions) {
    for (auto& a : actions) e.actions.push_back(a);
    if (e.busy) return;
    e.busy = true;
    if (e.worker.joinable()) e.worker.join();  // it has finished: busy was false
    e.worker = std::jthread([this, id = e.stored.spec.id](std::stop_token s) { work(id, s); });
}

void Controller::work(std::string id, std::stop_token stop) {
    for (;;) {
        Action action;
        {
            std::lock_guard lock(mutex_);
            auto& e = *entries_.at(id);
            if (e.actions.empty() || stop.stop_requested()) {
                e.actions.clear();
                e.busy = false;
                idle_.notify_all();
                return;
            }
            action = e.actions.front();
            e.actions.pop_front();
        }
        run_action(id, action, stop);
    }
}

void Controller::run_action(const std::string& id, const Action& action, std::stop_token stop) {
    switch (action.kind) {
        case ActionKind::deploy:
        case ActionKind::restart:
            return deploy(id, stop);
        case ActionKind::harvest:
            return harvest(id, action, stop);
        case ActionKind::stop:
            return stop_channel(id);
        case ActionKind::notify:
            return;
    }
}

void Controller::report(const std::string& id, RunnerReport r) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    it->second->reports.push_back(std::move(r));
    wake_.notify_all();
}

// Re-reads the channel file (the latest version wins), checks it and starts it.
void Controller::deploy(const std::string& id, std::stop_token) {
    EventSpec spec;
    std::optional<Deployment> old;
    {
        std::lock_guard lock(mutex_);
        auto& e = *entries_.at(id);
        spec = e.stored.spec;
        old = std::exchange(e.stored.deployment, std::nullopt);
    }
    if (old) {  // a restart: what is left of the channel that died goes first
        if (auto gone = runner_.stop(*old, 2s); !gone)
            log::warn(kLog, "event {}: {}", id, gone.error().message);
        if (auto ok = store_.put_deployment(id, std::nullopt, now_ms()); !ok)
            log::error(kLog, "event {}: {}", id, ok.error().message);
    }
    auto channel = core::load_channel_config(spec.channel_path);
    if (!channel)
        return report(id, {Report::deploy_failed, fmt::format("the channel file is not valid: {}",
                                                              first_problems(channel.error()))});
    DeployRequest request{spec, spec.channel_path, *channel, schedule_.data};
    auto started = runner_.start(request);
    if (!started) return report(id, {Report::deploy_failed, started.error().message});
    log::info(kLog, "event {}: started channel {} ({} {}), origin {}", id, started->channel,
              runner_.name(), started->id, started->origin);
    if (auto ok = store_.put_deployment(id, *started, now_ms()); !ok)
        log::error(kLog, "event {}: cannot store its channel: {}", id, ok.error().message);
    std::lock_guard lock(mutex_);
    auto& e = *entries_.at(id);
    e.stored.deployment = *started;
    e.stored.channel_name = started->channel;
    e.stored.data_dir = started->data_dir;
    e.status = {};
}

// Cuts [from, to] as clip ID on the channel's origin and waits for the job.
void Controller::harvest(const std::string& id, const Action& action, std::stop_token stop) {
    EventSpec spec;
    std::optional<Deployment> d;
    {
        std::lock_guard lock(mutex_);
        auto& e = *entries_.at(id);
        spec = e.stored.spec;
        d = e.stored.deployment;
    }
    if (!d) {
        log::warn(kLog, "event {}: no channel runs: nothing to harvest", id);
        return;
    }
    auto url = origin::parse_http_url(d->origin);
    if (!url) return log::warn(kLog, "event {}: harvest: {}", id, url.error().message);
    std::string why, token;
    std::string token_file;
    if (auto channel = core::load_channel_config(spec.channel_path))
        token_file = channel->origin.api_token_file;
    token = core::read_token("ONAIR_API_TOKEN", token_file, why).value_or("");
    origin::HttpClient client(url->host, url->port);
    boost::json::object body;
    body["id"] = id;
    body["title"] = spec.title;
    body["event"] = id;
    body["start"] = time_text(action.from);
    body["end"] = time_text(action.to);
    body["accuracy"] = "segment";
    auto request = origin::make_request(
        http::verb::post, fmt::format("/api/v1/channels/{}/clips", d->channel),
        origin::SharedBuffer::from_string(boost::json::serialize(body)), "application/json");
    request.set(http::field::authorization, "Bearer " + token);
    // The real end is now: the DVR holds it once the segment being encoded
    // is recorded, so a 400 is asked again for a while.
    const auto give_up_400 = std::chrono::steady_clock::now() + kHarvestEndWait;
    auto answer = client.send(request, stop);
    while (answer && answer->result() == http::status::bad_request && !stop.stop_requested() &&
           std::chrono::steady_clock::now() < give_up_400) {
        std::this_thread::sleep_for(500ms);
        answer = client.send(request, stop);
    }
    if (!answer) return log::warn(kLog, "event {}: harvest: {}", id, answer.error().message);
    if (answer->result() != http::status::accepted && answer->result() != http::status::conflict)
        return log::warn(kLog, "event {}: harvest refused ({}): {}", id, answer->result_int(),
                         answer->body());
    log::info(kLog, "event {}: harvesting {} to {} as clip {}", id, time_text(action.from),
              time_text(action.to), id);
    const auto deadline = std::chrono::steady_clock::now() + options_.harvest_timeout;
    while (!stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
        auto job = client.send(origin::make_request(http::verb::get, "/api/v1/clips/" + id), stop);
        if (job && job->result() == http::status::ok) {
            boost::system::error_code ec;
            auto json = boost::json::parse(job->body(), ec);
            const auto* status =
                !ec && json.is_object() ? json.as_object().if_contains("status") : nullptr;
            if (status && status->is_string() && status->as_string() != "in_progress") {
                if (status->as_string() == "succeeded")
                    log::info(kLog, "event {}: clip {} succeeded", id, id);
                else
                    log::warn(kLog, "event {}: clip {} {}: {}", id, id,
                              std::string_view(status->as_string()), job->body());
                return;
            }
        }
        std::this_thread::sleep_for(200ms);
    }
    log::warn(kLog, "event {}: clip {} not finished within {} s; tearing down anyway", id, id,
              options_.harvest_timeout.count() / 1000);
}

void Controller::stop_channel(const std::string& id) {
    std::optional<Deployment> d;
    {
        std::lock_guard lock(mutex_);
        d = entries_.at(id)->stored.deployment;
    }
    if (d) {
        if (auto stopped = runner_.stop(*d, options_.stop_grace); !stopped)
            return report(id, {Report::teardown_failed, stopped.error().message});
        log::info(kLog, "event {}: channel {} stopped ({} {})", id, d->channel, runner_.name(),
                  d->id);
        if (auto ok = store_.put_deployment(id, std::nullopt, now_ms()); !ok)
            log::error(kLog, "event {}: {}", id, ok.error().message);
        std::lock_guard lock(mutex_);
        auto& e = *entries_.at(id);
        if (e.stored.deployment == d) e.stored.deployment.reset();
        e.status = {};
    }
    report(id, {Report::teardown_finished, {}});
}

// ---- the monitor ----------------------------------------------------------------

void Controller::monitor(std::stop_token stop) {
    std::map<std::string, std::unique_ptr<ChannelProbe>> probes;
    std::mutex sleep_mutex;
    std::condition_variable_any sleep;
    for (int64_t round = 0; !stop.stop_requested(); ++round) {
        struct Watched {
            std::string id;
            Deployment deployment;
            bool starting = false;  // deploying, or a restart in flight
        };
        std::vector<Watched> watched;
        {
            std::lock_guard lock(mutex_);
            for (const auto& id : order_) {
                const auto& e = *entries_.at(id);
                const auto& st = e.stored.state;
                if (e.busy || !e.stored.deployment || !has_channel(st.state) ||
                    st.state == State::tearing_down ||
                    e.stored.deployment->runner != runner_.name())
                    continue;
                watched.push_back({id, *e.stored.deployment,
                                   st.state == State::deploying || st.attempt_at.has_value()});
            }
        }
        std::erase_if(probes, [&](const auto& kv) {
            return std::none_of(watched.begin(), watched.end(), [&](const Watched& w) {
                return w.id == kv.first && w.deployment == kv.second->deployment();
            });
        });
        for (const auto& w : watched) {
            auto alive = runner_.liveness(w.deployment);
            std::optional<ChannelSummary> summary;
            if (alive.running && (w.starting || round % kStatusEvery == 0)) {
                auto& probe = probes[w.id];
                if (!probe) probe = std::make_unique<ChannelProbe>(w.deployment);
                summary = probe->probe();
            }
            if (!alive.running) {
                // What is left of it goes, so a restart starts clean.
                if (auto gone = runner_.stop(w.deployment, 1s); !gone)
                    log::warn(kLog, "event {}: {}", w.id, gone.error().message);
            }
            std::lock_guard lock(mutex_);
            auto& e = *entries_.at(w.id);
            if (e.busy || e.stored.deployment != w.deployment) continue;  // changed meanwhile
            if (!alive.running) {
                auto reason = fmt::format("the channel stopped: {}", alive.reason);
                log::warn(kLog, "event {}: {} ({} {})", w.id, reason, runner_.name(),
                          w.deployment.id);
                e.stored.deployment.reset();
                if (auto ok = store_.put_deployment(w.id, std::nullopt, now_ms()); !ok)
                    log::error(kLog, "event {}: {}", w.id, ok.error().message);
                e.reports.push_back({e.stored.state.state == State::deploying
                                         ? Report::deploy_failed
                                         : Report::channel_died,
                                     reason});
                wake_.notify_all();
                continue;
            }
            if (!summary) continue;
            if (summary->answering) e.status = summary->status;
            if (w.starting && summary->answering && summary->pipelines_run) {
                e.reports.push_back({Report::deploy_succeeded, {}});
                wake_.notify_all();
            }
        }
        std::unique_lock lock(sleep_mutex);
        sleep.wait_for(lock, stop, options_.poll, [] { return false; });
    }
}

// ---- commands ---------------------------------------------------------------------

Answer<EventView> Controller::command(
    std::string_view id, const std::function<std::optional<Refusal>(Entry&, TimePoint)>& change) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end())
        return std::unexpected(refusal(404, "not_found", {fmt::format("no event {}", id)}));
    auto& e = *it->second;
    const auto t = now();
    if (auto refused = change(e, t)) return std::unexpected(*refused);
    if (auto ok = store_.put_state(e.stored.spec.id, e.stored.state, std::nullopt, ms_of(t)); !ok)
        return std::unexpected(refusal(500, "store", {ok.error().message}));
    e.dirty = true;
    wake_.notify_all();
    return view(e);
}

namespace {
std::optional<Refusal> refuse_final(const EventState& st, std::string_view what) {
    if (!is_final(st.state)) return std::nullopt;
    return refusal(
        409, "conflict",
        {fmt::format("the event is {}: it can no longer {}", to_string(st.state), what)});
}
}  // namespace

Answer<EventView> Controller::cancel(std::string_view id) {
    return command(id, [](Entry& e, TimePoint) -> std::optional<Refusal> {
        if (auto r = refuse_final(e.stored.state, "be cancelled")) return r;
        e.stored.state.cancel_requested = true;
        return std::nullopt;
    });
}

Answer<EventView> Controller::confirm_teardown(std::string_view id) {
    return command(id, [](Entry& e, TimePoint) -> std::optional<Refusal> {
        auto& st = e.stored.state;
        if (auto r = refuse_final(st, "be torn down")) return r;
        if (st.state == State::scheduled)
            return refusal(409, "conflict", {"the event is not deployed yet: DELETE cancels it"});
        st.teardown_confirmed = true;
        return std::nullopt;
    });
}

Answer<EventView> Controller::extend(std::string_view id, std::string_view body) {
    boost::system::error_code ec;
    auto json = boost::json::parse(body, ec);
    const boost::json::value* end = nullptr;
    if (!ec && json.is_object()) end = json.as_object().if_contains("end");
    std::optional<int64_t> end_ms;
    if (end && end->is_string()) end_ms = origin::parse_utc_time(std::string(end->as_string()));
    if (!end_ms)
        return std::unexpected(
            refusal(400, "bad_request",
                    {"the body must be {\"end\": TIME}, TIME in ISO 8601 with a zone, e.g. "
                     "2026-12-05T21:30:00Z"}));
    const TimePoint new_end{Duration(*end_ms)};
    {
        std::lock_guard lock(mutex_);
        auto it = entries_.find(id);
        if (it != entries_.end()) {
            EventSpec moved = it->second->stored.spec;
            moved.end = new_end;
            if (new_end > moved.start && !is_final(it->second->stored.state.state))
                if (auto r = check_ports(moved, now())) return std::unexpected(*r);
        }
    }
    return command(id, [&](Entry& e, TimePoint t) -> std::optional<Refusal> {
        auto& st = e.stored.state;
        if (auto r = refuse_final(st, "be extended")) return r;
        if (st.state == State::tearing_down)
            return refusal(409, "conflict", {"the event is being torn down"});
        if (new_end <= e.stored.spec.start)
            return refusal(400, "bad_request",
                           {fmt::format("end {} is not after the start {}", time_text(new_end),
                                        time_text(e.stored.spec.start))});
        if (st.state == State::ending && new_end <= t)
            return refusal(400, "bad_request",
                           {fmt::format("end {} is already past: an extension ends later than "
                                        "now ({})",
                                        time_text(new_end), time_text(t))});
        st.extended_end = new_end;
        return std::nullopt;
    });
}

// The port clashes of `candidate` with every event not over yet; nullopt when none.
std::optional<Refusal> Controller::check_ports(const EventSpec& candidate, TimePoint) const {
    auto channel = core::load_channel_config(candidate.channel_path);
    if (!channel)
        return refusal(400, "bad_request", [&] {
            auto r = texts(channel.error());
            r.insert(r.begin(), fmt::format("channel: {} is not a valid channel "
                                            "file",
                                            candidate.channel));
            return r;
        }());
    std::vector<EventSpec> specs;
    std::vector<core::ChannelConfig> configs;
    std::vector<std::optional<TimePoint>> ends;
    for (const auto& id : order_) {
        const auto& e = *entries_.at(id);
        if (is_final(e.stored.state.state) || e.stored.state.cancel_requested || id == candidate.id)
            continue;
        auto other = core::load_channel_config(e.stored.spec.channel_path);
        if (!other) continue;  // found again at its preroll
        specs.push_back(e.stored.spec);
        configs.push_back(std::move(*other));
        ends.push_back(e.stored.state.extended_end);
    }
    std::vector<EventChannel> others;
    for (size_t i = 0; i < specs.size(); ++i) others.push_back({&specs[i], &configs[i], ends[i]});
    EventChannel mine{&candidate, &*channel, std::nullopt};
    auto clashes = conflicts_with(mine, others);
    if (clashes.empty()) return std::nullopt;
    std::vector<std::string> reasons;
    for (const auto& c : clashes) reasons.push_back(c.reason);
    return refusal(409, "port_conflict", std::move(reasons));
}

Answer<EventView> Controller::store_new_spec(const EventSpec& spec, EventSource source,
                                             TimePoint t) {
    if (auto ok = store_.put_spec(spec, source, ms_of(t)); !ok)
        return std::unexpected(refusal(500, "store", {ok.error().message}));
    auto it = entries_.find(spec.id);
    if (it == entries_.end()) {
        auto found = store_.find(spec.id);
        if (!found || !*found)
            return std::unexpected(refusal(500, "store", {"the event was not stored"}));
        auto entry = std::make_unique<Entry>();
        entry->stored = std::move(**found);
        order_.push_back(spec.id);
        it = entries_.emplace(spec.id, std::move(entry)).first;
    } else {
        it->second->stored.spec = spec;
        it->second->stored.source = source;
    }
    it->second->dirty = true;
    wake_.notify_all();
    return view(*it->second);
}

Answer<EventView> Controller::add(std::string_view body) {
    auto spec = parse_event(body, "request", schedule_);
    if (!spec) return std::unexpected(refusal(400, "bad_request", texts(spec.error())));
    std::lock_guard lock(mutex_);
    if (entries_.contains(spec->id))
        return std::unexpected(
            refusal(409, "conflict",
                    {fmt::format("event {} exists already (PATCH changes it)", spec->id)}));
    const auto t = now();
    if (auto r = check_ports(*spec, t)) return std::unexpected(*r);
    return store_new_spec(*spec, EventSource::api, t);
}

Answer<EventView> Controller::change(std::string_view id, std::string_view body) {
    boost::system::error_code ec;
    auto patch = boost::json::parse(body, ec);
    if (ec || !patch.is_object())
        return std::unexpected(
            refusal(400, "bad_request", {"the body must be a JSON object of the keys to change"}));
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end())
        return std::unexpected(refusal(404, "not_found", {fmt::format("no event {}", id)}));
    auto& e = *it->second;
    if (auto r = refuse_final(e.stored.state, "change")) return std::unexpected(*r);
    auto merged = event_json(e.stored.spec);
    for (const auto& [key, value] : patch.as_object()) merged[key] = value;
    if (const auto* new_id = merged.if_contains("id");
        !new_id || !new_id->is_string() || new_id->as_string() != id)
        return std::unexpected(refusal(400, "bad_request", {"id: an event's id cannot change"}));
    auto spec = parse_event(boost::json::serialize(merged), "request", schedule_);
    if (!spec) return std::unexpected(refusal(400, "bad_request", texts(spec.error())));
    if (e.stored.state.state != State::scheduled) {
        const auto& old = e.stored.spec;
        std::vector<std::string> reasons;
        if (spec->channel_path != old.channel_path)
            reasons.push_back("channel: the event's channel is deployed already");
        if (spec->preroll != old.preroll) reasons.push_back("preroll: it is past already");
        if (spec->start != old.start && e.stored.state.live_since)
            reasons.push_back("start: the event is live already");
        if (!reasons.empty()) return std::unexpected(refusal(409, "conflict", reasons));
    }
    const auto t = now();
    if (auto r = check_ports(*spec, t)) return std::unexpected(*r);
    return store_new_spec(*spec, EventSource::api, t);
}

Answer<std::vector<std::string>> Controller::reload() {
    auto schedule = load_schedule_config(schedule_.file);
    if (!schedule) return std::unexpected(refusal(400, "bad_request", texts(schedule.error())));
    auto checked = check_schedule(*schedule);
    if (!checked.problems.empty())
        return std::unexpected(refusal(400, "bad_request", texts(checked.problems)));
    std::vector<std::string> lines;
    std::lock_guard lock(mutex_);
    ++figures_.reloads;
    const auto t = now();
    // Events gone from the file first: their ports are free for the rest.
    for (const auto& id : order_) {
        auto& e = *entries_.at(id);
        if (e.stored.source != EventSource::file || e.stored.state.state != State::scheduled ||
            e.stored.state.cancel_requested || schedule->find(id))
            continue;
        e.stored.state.cancel_requested = true;
        if (auto ok = store_.put_state(id, e.stored.state, std::nullopt, ms_of(t)); !ok)
            log::error(kLog, "event {}: {}", id, ok.error().message);
        e.dirty = true;
        lines.push_back(fmt::format("{}: cancelled: no longer in the schedule file", id));
    }
    for (const auto& spec : schedule->events) {
        auto it = entries_.find(spec.id);
        if (it != entries_.end()) {
            auto& e = *it->second;
            if (same_spec(e.stored.spec, spec)) continue;
            if (e.stored.source == EventSource::api) {
                lines.push_back(fmt::format("{}: not applied: changed over the API", spec.id));
                continue;
            }
            if (e.stored.state.state != State::scheduled) {
                lines.push_back(fmt::format("{}: not applied: it is {} already", spec.id,
                                            to_string(e.stored.state.state)));
                continue;
            }
        }
        if (auto r = check_ports(spec, t)) {
            lines.push_back(fmt::format("{}: refused: {}", spec.id,
                                        r->reasons.empty() ? r->error : r->reasons.front()));
            continue;
        }
        bool fresh = it == entries_.end();
        if (auto stored = store_new_spec(spec, EventSource::file, t); !stored) {
            lines.push_back(fmt::format("{}: {}", spec.id, stored.error().reasons.front()));
            continue;
        }
        lines.push_back(fmt::format("{}: {}", spec.id, fresh ? "added" : "changed"));
    }
    // The defaults of events added from now on; listen, data and retries
    // need a restart.
    schedule_.defaults = schedule->defaults;
    wake_.notify_all();
    for (const auto& line : lines) log::info(kLog, "reload: {}", line);
    if (lines.empty()) log::info(kLog, "reload: nothing changed");
    return lines;
}

// ---- reads --------------------------------------------------------------------------

EventView Controller::view(const Entry& e) const {
    EventView v;
    v.stored = e.stored;
    v.next_due = e.wake_at;
    if (e.stored.deployment)
        v.playback = fmt::format("{}/live/{}/master.m3u8", e.stored.deployment->origin,
                                 e.stored.deployment->channel);
    v.channel_status = e.status;
    return v;
}

std::vector<EventView> Controller::events() const {
    std::lock_guard lock(mutex_);
    std::vector<EventView> out;
    for (const auto& id : order_) out.push_back(view(*entries_.at(id)));
    return out;
}

std::optional<EventView> Controller::event(std::string_view id) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    return view(*it->second);
}

core::Result<std::vector<HistoryEntry>> Controller::history(std::string_view id) const {
    return store_.history(id);
}

ControllerFigures Controller::figures() const {
    std::lock_guard lock(mutex_);
    auto out = figures_;
    for (const auto& [s, name] : kStates.entries) out.events_by_state[s] = 0;
    for (const auto& [id, e] : entries_) ++out.events_by_state[e->stored.state.state];
    for (const auto& [url, hook] : webhooks_) out.webhooks_failed += hook->failed();
    return out;
}

const ScheduleConfig& Controller::schedule() const {
    return schedule_;
}

std::vector<std::pair<std::string, std::string>> Controller::channels_run() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& id : order_) {
        const auto& e = *entries_.at(id);
        if (e.stored.data_dir.empty()) continue;
        std::pair channel{e.stored.channel_name, e.stored.data_dir};
        if (std::find(out.begin(), out.end(), channel) == out.end()) out.push_back(channel);
    }
    return out;
}

std::optional<std::pair<std::string, std::string>> Controller::channel_of(
    std::string_view event) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(event);
    if (it == entries_.end() || it->second->stored.data_dir.empty()) return std::nullopt;
    return std::pair{it->second->stored.channel_name, it->second->stored.data_dir};
}

bool Controller::wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] {
        return std::all_of(entries_.begin(), entries_.end(), [](const auto& kv) {
            return !kv.second->busy && kv.second->reports.empty() && !kv.second->dirty;
        });
    });
}

}  // namespace onair::schedule
