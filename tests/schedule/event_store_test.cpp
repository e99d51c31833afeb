// The event store on a real SQLite file: what the controller writes (specs,
// states with every fact, deployments, transitions) is what it reads back,
// after reopening too; a state and its history row go together; a row broken
// by hand is reported with its event's id; writers on two threads leave a
// history that agrees with itself.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "origin/sqlite.hpp"
#include "schedule/event_store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace onair::schedule;
using namespace std::chrono;
using namespace std::chrono_literals;
using onair::testing::TempDir;

namespace {

TimePoint dec5(int hours, int minutes = 0, int seconds = 0, int millis = 0) {
    return sys_days{2026y / December / 5} + std::chrono::hours(hours) +
           std::chrono::minutes(minutes) + std::chrono::seconds(seconds) +
           std::chrono::milliseconds(millis);
}

int64_t ms(TimePoint t) {
    return t.time_since_epoch().count();
}

// Every field set, none to its default, times with milliseconds.
EventSpec full_spec(std::string id = "fight-night-main") {
    EventSpec e;
    e.id = std::move(id);
    e.title = "Fight night, main event";
    e.channel = "channels/fight.yaml";
    e.channel_path = "/srv/schedule/channels/fight.yaml";
    e.preroll = dec5(18, 30, 0, 250);
    e.start = dec5(19);
    e.end = dec5(21, 0, 0, 5);
    e.teardown = {TeardownMode::after, 30min + 1500ms};
    e.harvest = Harvest::event;
    e.webhook = "http://ops.example:9000/onair/events";
    return e;
}

EventSpec plain_spec(std::string id) {
    EventSpec e;
    e.id = std::move(id);
    e.title = e.id;
    e.channel = "channels/" + e.id + ".yaml";
    e.channel_path = e.channel;
    e.preroll = dec5(18);
    e.start = dec5(19);
    e.end = dec5(20);
    return e;
}

EventState full_state() {
    EventState s;
    s.state = State::tearing_down;
    s.entered = dec5(21, 42, 0, 17);
    s.attempts = 2;
    s.attempt_at = dec5(21, 42, 1);
    s.retry_at = dec5(21, 42, 5, 500);
    s.last_failure = "stop: process group 4242 still running after 10s";
    s.restarts = 3;
    s.teardown_confirmed = true;
    s.cancel_requested = true;
    s.extended_end = dec5(21, 30);
    s.live_since = dec5(19, 0, 0, 3);
    s.ended_at = dec5(21, 42);
    return s;
}

Deployment local_deployment(std::string channel = "fight") {
    Deployment d;
    d.runner = "local";
    d.id = "4242";
    d.instance = "1733425800123";
    d.origin = "http://127.0.0.1:8181";
    d.channel = std::move(channel);
    d.data_dir = "/srv/schedule/channels/" + d.channel;
    d.started_ms = ms(dec5(18, 30, 1));
    return d;
}

void require_same(const EventSpec& got, const EventSpec& want) {
    CHECK(got.id == want.id);
    CHECK(got.title == want.title);
    CHECK(got.channel == want.channel);
    CHECK(got.channel_path == want.channel_path);
    CHECK(got.preroll == want.preroll);
    CHECK(got.start == want.start);
    CHECK(got.end == want.end);
    CHECK(got.teardown == want.teardown);
    CHECK(got.harvest == want.harvest);
    CHECK(got.webhook == want.webhook);
}

std::unique_ptr<EventStore> open_store(const std::filesystem::path& file) {
    auto store = EventStore::open(file.string());
    INFO((store ? std::string() : store.error().message));
    REQUIRE(store);
    return std::move(*store);
}

StoredEvent find_event(const EventStore& store, std::string_view id) {
    auto found = store.find(id);
    INFO((found ? std::string() : found.error().message));
    REQUIRE(found);
    REQUIRE(found->has_value());
    return **found;
}

std::vector<HistoryEntry> history_of(const EventStore& store, std::string_view id = {}) {
    auto h = store.history(id);
    INFO((h ? std::string() : h.error().message));
    REQUIRE(h);
    return *h;
}

// A state with only these facts.
EventState state_at(State state, TimePoint entered, int attempts = 0) {
    EventState s;
    s.state = state;
    s.entered = entered;
    s.attempts = attempts;
    return s;
}

Transition transition(State from, State to, TimePoint at, std::string reason) {
    return Transition{from, to, at, std::move(reason)};
}

// Writes `sql` through a second connection, as a person with sqlite3 would.
void corrupt(const std::filesystem::path& file, const std::string& sql) {
    auto db = onair::origin::SqliteDb::open(file.string());
    REQUIRE(db);
    auto ok = db->exec(sql);
    INFO((ok ? std::string() : ok.error().message));
    REQUIRE(ok);
}

}  // namespace

TEST_CASE("event store: a full event reads back as written", "[event_store]") {
    TempDir dir("event-store");
    const auto file = dir / "state" / "nested" / "events.db";  // folders made on open
    auto store = open_store(file);
    CHECK(std::filesystem::exists(file));

    const auto spec = full_spec();
    const auto state = full_state();
    const auto deployment = local_deployment();
    REQUIRE(store->put_spec(spec, EventSource::api, 1000));
    REQUIRE(store->put_state(spec.id, state, std::nullopt, 2000));
    REQUIRE(store->put_deployment(spec.id, deployment, 3000));

    auto check = [&](const StoredEvent& e) {
        require_same(e.spec, spec);
        CHECK(e.source == EventSource::api);
        CHECK(e.state == state);
        REQUIRE(e.deployment);
        CHECK(*e.deployment == deployment);
        CHECK(e.channel_name == "fight");
        CHECK(e.data_dir == "/srv/schedule/channels/fight");
        CHECK(e.created_ms == 1000);
        CHECK(e.updated_ms == 3000);
    };
    check(find_event(*store, spec.id));
    auto all = store->load();
    REQUIRE(all);
    REQUIRE(all->size() == 1);
    check(all->front());

    SECTION("every teardown mode and harvest, and a state with nothing optional") {
        for (auto teardown :
             {Teardown{TeardownMode::confirm, {}}, Teardown{TeardownMode::automatic, {}}}) {
            auto other = full_spec("other");
            other.teardown = teardown;
            other.harvest = Harvest::none;
            other.webhook.clear();
            REQUIRE(store->put_spec(other, EventSource::file, 4000));
            require_same(find_event(*store, "other").spec, other);
        }
        EventState bare;
        bare.state = State::failed;
        bare.entered = dec5(18, 31);
        REQUIRE(store->put_state("other", bare, std::nullopt, 5000));
        CHECK(find_event(*store, "other").state == bare);
        CHECK_FALSE(find_event(*store, "other").deployment);
    }

    SECTION("an unknown event is no event, and cannot be written") {
        auto found = store->find("nobody");
        REQUIRE(found);
        CHECK_FALSE(found->has_value());
        auto put = store->put_state(
            "nobody", state,
            transition(State::scheduled, State::deploying, dec5(18, 30), "preroll"), 6000);
        REQUIRE_FALSE(put);
        CHECK_THAT(put.error().message, Catch::Contains("nobody"));
        CHECK_FALSE(store->put_deployment("nobody", deployment, 6000));
        CHECK(history_of(*store).empty());
    }
}

TEST_CASE("event store: a new event starts scheduled, a new spec keeps state and history",
          "[event_store]") {
    TempDir dir("event-store");
    auto store = open_store(dir / "events.db");
    auto spec = plain_spec("match");
    REQUIRE(store->put_spec(spec, EventSource::file, ms(dec5(12))));

    auto fresh = find_event(*store, "match");
    CHECK(fresh.state == state_at(State::scheduled, dec5(12)));
    CHECK(fresh.source == EventSource::file);
    CHECK_FALSE(fresh.deployment);
    CHECK(fresh.channel_name.empty());
    CHECK(fresh.created_ms == ms(dec5(12)));
    CHECK(fresh.updated_ms == ms(dec5(12)));

    const EventState deploying = state_at(State::deploying, dec5(18), 1);
    REQUIRE(store->put_state("match", deploying,
                             transition(State::scheduled, State::deploying, dec5(18), "preroll"),
                             ms(dec5(18))));

    // The API moves the end: spec and source change, nothing else.
    spec.end = dec5(20, 30);
    spec.title = "Match (extended)";
    REQUIRE(store->put_spec(spec, EventSource::api, ms(dec5(18, 5))));
    auto changed = find_event(*store, "match");
    require_same(changed.spec, spec);
    CHECK(changed.source == EventSource::api);
    CHECK(changed.state == deploying);
    CHECK(changed.created_ms == ms(dec5(12)));
    CHECK(changed.updated_ms == ms(dec5(18, 5)));
    auto h = history_of(*store, "match");
    REQUIRE(h.size() == 1);
    CHECK(h[0].reason == "preroll");
}

TEST_CASE("event store: each transition is one history row, in order across events",
          "[event_store]") {
    TempDir dir("event-store");
    auto store = open_store(dir / "events.db");
    REQUIRE(store->put_spec(plain_spec("first"), EventSource::file, 1));
    REQUIRE(store->put_spec(plain_spec("second"), EventSource::file, 2));

    auto put = [&](std::string_view id, State from, State to, TimePoint at, std::string why) {
        REQUIRE(store->put_state(id, state_at(to, at), transition(from, to, at, std::move(why)),
                                 ms(at)));
    };
    put("first", State::scheduled, State::deploying, dec5(18), "preroll");
    CHECK(history_of(*store).size() == 1);
    put("second", State::scheduled, State::deploying, dec5(18, 0, 1), "preroll");
    put("first", State::deploying, State::ready, dec5(18, 0, 5), "origin answers");
    // A state change without a transition (a retry's facts): no history row.
    auto retrying = state_at(State::deploying, dec5(18, 0, 1), 2);
    retrying.last_failure = "port 8181 taken";
    REQUIRE(store->put_state("second", retrying, std::nullopt, ms(dec5(18, 0, 9))));
    put("second", State::deploying, State::failed, dec5(18, 1), "port 8181 taken");

    auto all = history_of(*store);
    REQUIRE(all.size() == 4);
    for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].seq > all[i - 1].seq);
    CHECK(all[0].event == "first");
    CHECK(all[1].event == "second");
    CHECK(all[2].event == "first");
    CHECK(all[3].event == "second");
    CHECK(all[2].from == State::deploying);
    CHECK(all[2].to == State::ready);
    CHECK(all[2].at == dec5(18, 0, 5));
    CHECK(all[2].reason == "origin answers");
    CHECK(all[3].to == State::failed);
    CHECK(all[3].reason == "port 8181 taken");

    auto first = history_of(*store, "first");
    REQUIRE(first.size() == 2);
    CHECK(first[0].seq == all[0].seq);
    CHECK(first[1].seq == all[2].seq);
    CHECK(find_event(*store, "second").state.state == State::failed);
}

TEST_CASE("event store: a second store on the same file sees everything", "[event_store]") {
    TempDir dir("event-store");
    const auto file = dir / "events.db";
    const auto state = full_state();
    {
        auto store = open_store(file);
        for (auto id : {"c-third", "a-first", "b-second"})
            REQUIRE(store->put_spec(full_spec(id), EventSource::file, 10));
        REQUIRE(store->put_state(
            "a-first", state,
            transition(State::ending, State::tearing_down, dec5(21, 42), "confirmed"), 20));
        REQUIRE(store->put_deployment("a-first", local_deployment(), 30));
    }
    auto store = open_store(file);
    auto all = store->load();
    REQUIRE(all);
    REQUIRE(all->size() == 3);
    // In the order first stored, not by id.
    CHECK((*all)[0].spec.id == "c-third");
    CHECK((*all)[1].spec.id == "a-first");
    CHECK((*all)[2].spec.id == "b-second");
    require_same((*all)[1].spec, full_spec("a-first"));
    CHECK((*all)[1].state == state);
    REQUIRE((*all)[1].deployment);
    CHECK(*(*all)[1].deployment == local_deployment());
    auto h = history_of(*store);
    REQUIRE(h.size() == 1);
    CHECK(h[0].event == "a-first");
    CHECK(h[0].from == State::ending);
    CHECK(h[0].to == State::tearing_down);
    CHECK(h[0].reason == "confirmed");

    // New rows go on after the old ones.
    REQUIRE(store->put_spec(full_spec("d-fourth"), EventSource::api, 40));
    REQUIRE(store->put_state("d-fourth", state,
                             transition(State::scheduled, State::deploying, dec5(18), "preroll"),
                             50));
    all = store->load();
    REQUIRE(all);
    REQUIRE(all->size() == 4);
    CHECK(all->back().spec.id == "d-fourth");
    h = history_of(*store);
    REQUIRE(h.size() == 2);
    CHECK(h[1].seq > h[0].seq);
}

TEST_CASE("event store: a stopped channel's name and data folder stay", "[event_store]") {
    TempDir dir("event-store");
    auto store = open_store(dir / "events.db");
    REQUIRE(store->put_spec(plain_spec("fight"), EventSource::file, 1));
    REQUIRE(store->put_deployment("fight", local_deployment("fight-ch"), 2));
    REQUIRE(store->put_deployment("fight", std::nullopt, 3));
    auto e = find_event(*store, "fight");
    CHECK_FALSE(e.deployment);
    CHECK(e.channel_name == "fight-ch");
    CHECK(e.data_dir == "/srv/schedule/channels/fight-ch");
    CHECK(e.updated_ms == 3);

    // A redeployment sets them again.
    REQUIRE(store->put_deployment("fight", local_deployment("fight-2"), 4));
    e = find_event(*store, "fight");
    REQUIRE(e.deployment);
    CHECK(e.channel_name == "fight-2");
    CHECK(e.data_dir == "/srv/schedule/channels/fight-2");
}

TEST_CASE("event store: a row broken by hand is reported with its event", "[event_store]") {
    TempDir dir("event-store");
    const auto file = dir / "events.db";
    auto store = open_store(file);
    REQUIRE(store->put_spec(plain_spec("healthy"), EventSource::file, 1));
    REQUIRE(store->put_spec(plain_spec("broken-one"), EventSource::file, 2));

    auto expect_error = [&](std::initializer_list<std::string_view> parts) {
        auto all = store->load();
        REQUIRE_FALSE(all);
        INFO(all.error().message);
        CHECK_THAT(all.error().message, Catch::Contains("broken-one"));
        for (auto part : parts) CHECK_THAT(all.error().message, Catch::Contains(std::string(part)));
        auto one = store->find("broken-one");
        REQUIRE_FALSE(one);
        CHECK_THAT(one.error().message, Catch::Contains("broken-one"));
        CHECK(store->find("healthy"));  // the others still read
    };

    SECTION("state that is not JSON") {
        corrupt(file, "UPDATE events SET state = '{\"state\": \"live\", ' WHERE id = 'broken-one'");
        expect_error({"state", "not JSON"});
    }
    SECTION("an unknown state name") {
        corrupt(file,
                "UPDATE events SET state = json_set(state, '$.state', 'exploded') "
                "WHERE id = 'broken-one'");
        expect_error({"state.state", "exploded"});
    }
    SECTION("a time that is not a number") {
        corrupt(file,
                "UPDATE events SET spec = json_set(spec, '$.start_ms', 'noon') "
                "WHERE id = 'broken-one'");
        expect_error({"spec.start_ms", "not an integer"});
    }
    SECTION("a missing field") {
        corrupt(file,
                "UPDATE events SET spec = json_remove(spec, '$.teardown.mode') "
                "WHERE id = 'broken-one'");
        expect_error({"spec.teardown.mode", "missing"});
    }
    SECTION("an unknown source") {
        corrupt(file, "UPDATE events SET source = 'fax' WHERE id = 'broken-one'");
        expect_error({"source", "fax"});
    }
    SECTION("a deployment that is not JSON") {
        corrupt(file, "UPDATE events SET deployment = 'pid 4242' WHERE id = 'broken-one'");
        expect_error({"deployment", "not JSON"});
    }
}

TEST_CASE("event store: two writers on two threads leave a consistent history", "[event_store]") {
    TempDir dir("event-store");
    auto store = open_store(dir / "events.db");
    const std::vector<std::string> ids = {"left", "right"};
    for (const auto& id : ids) REQUIRE(store->put_spec(plain_spec(id), EventSource::file, 1));

    constexpr int kWrites = 150;
    std::vector<int> failures(ids.size(), 0);  // one slot per writer
    std::vector<std::thread> writers;
    for (size_t w = 0; w < ids.size(); ++w) {
        writers.emplace_back([&store, &failures, w, id = ids[w]] {
            int failed = 0;
            for (int i = 0; i < kWrites; ++i) {
                // Alternates live/ending; attempts counts the writes.
                const State from = i % 2 ? State::ending : State::live;
                const State to = i % 2 ? State::live : State::ending;
                const EventState s = state_at(to, dec5(19) + milliseconds(i), i);
                if (!store->put_state(id, s,
                                      Transition{from, to, s.entered, id + std::to_string(i)},
                                      ms(s.entered)))
                    ++failed;
                if (i % 10 == 0 && !store->load()) ++failed;  // readers interleave too
            }
            failures[w] = failed;
        });
    }
    for (auto& w : writers) w.join();
    CHECK(failures == std::vector<int>(ids.size(), 0));

    auto all = history_of(*store);
    REQUIRE(all.size() == size_t(2 * kWrites));
    for (size_t i = 1; i < all.size(); ++i) CHECK(all[i].seq > all[i - 1].seq);
    for (const auto& id : ids) {
        auto own = history_of(*store, id);
        REQUIRE(own.size() == size_t(kWrites));
        for (int i = 0; i < kWrites; ++i) {
            CHECK(own[size_t(i)].event == id);
            CHECK(own[size_t(i)].reason == id + std::to_string(i));
            CHECK(own[size_t(i)].at == dec5(19) + milliseconds(i));
        }
        // The state agrees with the last history row.
        auto e = find_event(*store, id);
        CHECK(e.state.attempts == kWrites - 1);
        CHECK(e.state.state == own.back().to);
    }
}

TEST_CASE("event store: a file from a newer onair is refused, not misread", "[event_store]") {
    TempDir dir("event-store");
    const auto file = dir / "events.db";
    { open_store(file); }
    corrupt(file, "UPDATE schema_version SET version = 2");
    auto store = EventStore::open(file.string());
    REQUIRE_FALSE(store);
    CHECK_THAT(store.error().message, Catch::Contains("schema version 2"));
}
