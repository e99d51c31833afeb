// Harvest jobs on a fake DVR and a fake clip media: what lands in the clip
// store (links to the DVR's files, VOD playlists, a master, the MP4), what
// the catalog says, the concurrency bound, failures, crash recovery,
// deletion and the webhook.
#include <catch2/catch.hpp>

#include <fmt/ranges.h>

#include <thread>

#include "fakes.hpp"
#include "harvest_fakes.hpp"
#include "origin/harvest.hpp"
#include "origin/http_server.hpp"
#include "origin/webhook.hpp"
#include "tests/support/wait.hpp"

using namespace onair;
using namespace onair::origin;
using namespace onair::origin::testing;
using namespace std::chrono_literals;

namespace {

const int64_t S = kBaseSequence;  // the first segment the tests record

ClipRecord submit(HarvestService& service, const std::string& body) {
    auto clip = service.submit(json(body));
    if (!clip) FAIL(fmt::format("refused: {}", fmt::join(clip.error().reasons, "; ")));
    return *clip;
}

using onair::testing::eventually;

std::vector<std::string> lines_with(std::string_view text, std::string_view prefix) {
    std::vector<std::string> out;
    for (auto& line : lines(text))
        if (line.starts_with(prefix)) out.push_back(line);
    return out;
}

boost::json::object job_of(const std::string& notification) {
    auto v = boost::json::parse(notification).as_object();
    REQUIRE(v.at("event") == "harvest_job");
    return v.at("job").as_object();
}

}  // namespace

TEST_CASE("harvest job: the DVR's segments become a VOD asset, linked not copied", "[harvest]") {
    HarvestHarness h;
    for (int64_t i = 0; i < 30; ++i) h.dvr.add(S + i, /*discontinuity=*/i == 12);
    auto& service = h.start();

    auto queued = submit(service, clip_body("goal", S + 10, 5, R"(, "event": "final")"));
    CHECK(queued.status == ClipStatus::in_progress);
    CHECK(queued.rendition == "360p");
    REQUIRE(service.wait_idle(5s));

    auto clip = h.record("goal");
    INFO(clip.message);
    REQUIRE(clip.status == ClipStatus::succeeded);
    CHECK(clip.duration_ms == 10000);
    CHECK(clip.master == "goal/master.m3u8");
    CHECK(clip.mp4 == "goal/clip.mp4");
    CHECK(clip.finished_ms == h.now.load());
    const fs::path folder = h.dir / "clips" / "goal";
    CHECK_FALSE(fs::exists(h.dir / "clips" / "goal.partial"));

    for (std::string rendition : {"720p", "360p"}) {
        INFO(rendition);
        for (int64_t i = 10; i < 15; ++i) {
            auto dvr_file = h.dvr.find(rendition, S + i)->file;
            auto clip_file = folder / rendition / fmt::format("{}.ts", S + i);
            REQUIRE(fs::exists(clip_file));
            CHECK(inode(clip_file) == inode(dvr_file));  // a hard link: no copy
        }
        CHECK_FALSE(fs::exists(folder / rendition / fmt::format("{}.ts", S + 9)));
        CHECK_FALSE(fs::exists(folder / rendition / fmt::format("{}.ts", S + 15)));

        const std::string playlist = read_all(folder / rendition / "index.m3u8");
        INFO(playlist);
        auto l = lines(playlist);
        REQUIRE(l.size() > 3);
        CHECK(l[0] == "#EXTM3U");
        CHECK(tag_value(playlist, "#EXT-X-VERSION") == "3");
        CHECK(tag_value(playlist, "#EXT-X-TARGETDURATION") == "2");
        CHECK(tag_value(playlist, "#EXT-X-PLAYLIST-TYPE") == "VOD");
        CHECK(tag_value(playlist, "#EXT-X-MEDIA-SEQUENCE") == std::to_string(S + 10));
        CHECK(l.back() == "#EXT-X-ENDLIST");
        std::vector<std::string> expected_uris, expected_pdt;
        for (int64_t i = 10; i < 15; ++i) {
            expected_uris.push_back(fmt::format("{}.ts", S + i));
            expected_pdt.push_back("#EXT-X-PROGRAM-DATE-TIME:" +
                                   format_program_date_time(segment_start_ms(S + i)));
        }
        CHECK(uris(playlist) == expected_uris);
        CHECK(lines_with(playlist, "#EXT-X-PROGRAM-DATE-TIME") == expected_pdt);
        CHECK(lines_with(playlist, "#EXTINF:") == std::vector<std::string>(5, "#EXTINF:2.000,"));
        // The DVR's gap before segment 12, and nowhere else.
        auto disc = std::find(l.begin(), l.end(), "#EXT-X-DISCONTINUITY");
        REQUIRE(disc != l.end());
        CHECK(*(disc + 1) == expected_pdt[2]);
        CHECK(std::count(l.begin(), l.end(), "#EXT-X-DISCONTINUITY") == 1);
    }

    const std::string master = read_all(folder / "master.m3u8");
    INFO(master);
    // 200 and 50 TS packets per 2 s segment.
    CHECK(lines_with(master, "#EXT-X-STREAM-INF") ==
          std::vector<std::string>{
              "#EXT-X-STREAM-INF:BANDWIDTH=150400,AVERAGE-BANDWIDTH=150400,CODECS=\"avc1.64001f,"
              "mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=25.000",
              "#EXT-X-STREAM-INF:BANDWIDTH=37600,AVERAGE-BANDWIDTH=37600,CODECS=\"avc1.4d401e,"
              "mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=25.000"});
    CHECK(uris(master) == std::vector<std::string>{"720p/index.m3u8", "360p/index.m3u8"});

    auto mp4s = h.media.mp4_calls();
    REQUIRE(mp4s.size() == 1);
    CHECK(mp4s[0].rung == "360p");
    CHECK_FALSE(mp4s[0].cut);
    REQUIRE(mp4s[0].segments.size() == 5);
    CHECK(mp4s[0].segments.front().sequence == S + 10);
    CHECK(mp4s[0].segments.front().start == (S + 10) * kSegmentTicks);
    CHECK(read_all(folder / "clip.mp4") == FakeClipCutter::mp4_bytes());
    CHECK(h.media.trim_calls().empty());

    auto notes = h.notifications();
    REQUIRE(notes.size() == 1);
    auto job = job_of(notes[0]);
    CHECK(job.at("id") == "goal");
    CHECK(job.at("status") == "succeeded");
    CHECK(job.at("event") == "final");
    CHECK(job.at("master") == "/vod/goal/master.m3u8");
    CHECK(job.at("mp4") == "/vod/goal/clip.mp4");
    CHECK(job.at("duration").as_double() == 10.0);

    // The DVR expires everything the clip used: the clip keeps playing.
    h.dvr.expire_before(S + 30);
    CHECK_FALSE(fs::exists(h.dir / "dvr" / "720p" / fmt::format("{}.ts", S + 10)));
    CHECK(read_all(folder / "720p" / fmt::format("{}.ts", S + 10)) ==
          ts_bytes("720p", S + 10, 200));
}

TEST_CASE("harvest job: frame accuracy trims the ends of every rendition, never the DVR's files",
          "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    auto& service = h.start();
    const int64_t start_ms = segment_start_ms(S + 10) + 500;
    const int64_t end_ms = segment_start_ms(S + 14) + 1000;
    submit(service,
           fmt::format(R"({{"id": "exact", "start": "{}", "end": "{}", "title": "x",
                                     "accuracy": "frame"}})",
                       format_program_date_time(start_ms), format_program_date_time(end_ms)));
    REQUIRE(service.wait_idle(5s));
    auto clip = h.record("exact");
    INFO(clip.message);
    REQUIRE(clip.status == ClipStatus::succeeded);
    CHECK(clip.duration_ms == 8500);  // 1.5 + 3 x 2 + 1 s

    const core::ClipCut cut{start_ms * kTick, end_ms * kTick};
    // The MP4 is copied from its rendition's clip segments, trimmed already:
    // the boundary GOPs are re-encoded once.
    auto mp4s = h.media.mp4_calls();
    REQUIRE(mp4s.size() == 1);
    CHECK_FALSE(mp4s[0].cut);
    REQUIRE(mp4s[0].segments.size() == 5);
    CHECK(mp4s[0].segments.front().start == cut.start);
    CHECK(mp4s[0].segments.back().start + mp4s[0].segments.back().duration == cut.end);
    CHECK(mp4s[0].segments.front().file.parent_path().filename() == mp4s[0].rung);

    auto trims = h.media.trim_calls();
    REQUIRE(trims.size() == 2);
    const fs::path folder = h.dir / "clips" / "exact";
    for (const auto& trim : trims) {
        INFO(trim.rung);
        CHECK(trim.cut.start == cut.start);
        CHECK(trim.cut.end == cut.end);
        CHECK(trim.segments.size() == 5);
        for (int64_t i : {10, 14}) {
            auto name = fmt::format("{}.ts", S + i);
            CHECK(read_all(folder / trim.rung / name) ==
                  fmt::format("trimmed {} {}", trim.rung, S + i));
            // The DVR's file is as recorded.
            CHECK(read_all(h.dir / "dvr" / trim.rung / name) ==
                  ts_bytes(trim.rung, S + i, trim.rung == "720p" ? 200 : 50));
        }
        for (int64_t i = 11; i < 14; ++i)
            CHECK(inode(folder / trim.rung / fmt::format("{}.ts", S + i)) ==
                  inode(h.dvr.find(trim.rung, S + i)->file));
        const std::string playlist = read_all(folder / trim.rung / "index.m3u8");
        INFO(playlist);
        CHECK(lines_with(playlist, "#EXTINF:") ==
              std::vector<std::string>{"#EXTINF:1.500,", "#EXTINF:2.000,", "#EXTINF:2.000,",
                                       "#EXTINF:2.000,", "#EXTINF:1.000,"});
        CHECK(lines_with(playlist, "#EXT-X-PROGRAM-DATE-TIME").front() ==
              "#EXT-X-PROGRAM-DATE-TIME:" + format_program_date_time(start_ms));
    }
    CHECK_FALSE(fs::exists(folder / ".trim"));
}

TEST_CASE("harvest job: a failure is recorded with its message and leaves no folder", "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    SECTION("the clip media fails") {
        h.media.fail_mp4 = "muxer refused the stream";
        auto& service = h.start();
        submit(service, clip_body("bad", S + 2, 3));
        REQUIRE(service.wait_idle(5s));
        auto clip = h.record("bad");
        CHECK(clip.status == ClipStatus::failed);
        CHECK_THAT(clip.message, Catch::Contains("muxer refused the stream"));
        CHECK(clip.master.empty());
        CHECK(clip.finished_ms);
        auto notes = h.notifications();
        REQUIRE(notes.size() == 1);
        auto job = job_of(notes[0]);
        CHECK(job.at("status") == "failed");
        CHECK_THAT(std::string(job.at("message").as_string()),
                   Catch::Contains("muxer refused the stream"));
        CHECK(job.at("master").is_null());
    }
    SECTION("no clip media is wired in") {
        auto& service = h.start(2, /*with_media=*/false);
        submit(service, clip_body("bad", S + 2, 3));
        REQUIRE(service.wait_idle(5s));
        CHECK(h.record("bad").status == ClipStatus::failed);
        CHECK(h.record("bad").message == "no clip media");
    }
    SECTION("the DVR expires the range before the job gets to it") {
        h.media.close_gate();
        auto& service = h.start(1);
        submit(service, clip_body("first", S + 20, 2));  // holds the one worker
        REQUIRE(eventually([&] { return h.media.active() == 1; }));
        submit(service, clip_body("bad", S + 2, 3));
        h.dvr.expire_before(S + 10);
        h.media.open_gate();
        REQUIRE(service.wait_idle(5s));
        CHECK(h.record("first").status == ClipStatus::succeeded);
        CHECK(h.record("bad").status == ClipStatus::failed);
        CHECK_THAT(h.record("bad").message, Catch::Contains("the DVR holds no segment"));
    }
    SECTION("the DVR expires the head of the range before the job gets to it") {
        h.media.close_gate();
        auto& service = h.start(1);
        submit(service, clip_body("first", S + 20, 2));  // holds the one worker
        REQUIRE(eventually([&] { return h.media.active() == 1; }));
        submit(service, clip_body("bad", S + 2, 6));  // S+2 .. S+7
        h.dvr.expire_before(S + 4);                   // S+4 .. S+7 are left
        h.media.open_gate();
        REQUIRE(service.wait_idle(5s));
        CHECK(h.record("first").status == ClipStatus::succeeded);
        // Not a shorter clip that says it succeeded.
        CHECK(h.record("bad").status == ClipStatus::failed);
        CHECK_THAT(h.record("bad").message, Catch::Contains("expired before the job ran"));
    }
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(h.dir / "clips"))
        if (e.path().filename() != "first") left.push_back(e.path().filename().string());
    CHECK(left.empty());
}

TEST_CASE("harvest jobs: a catalog briefly unable to write still gets the outcome", "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    auto& service = h.start(1);
    h.catalog->failing_updates = 3;
    submit(service, clip_body("busy", S + 2, 3));
    REQUIRE(service.wait_idle(5s));
    CHECK(h.record("busy").status == ClipStatus::succeeded);
    CHECK(h.catalog->failing_updates == 0);
    CHECK(h.notifications().size() == 1);

    // Never writable: the record stays in_progress (cut again at the next
    // start), and no webhook says otherwise.
    h.catalog->failing_updates = 1000;
    submit(service, clip_body("stuck", S + 6, 3));
    REQUIRE(service.wait_idle(10s));
    CHECK(h.record("stuck").status == ClipStatus::in_progress);
    CHECK(h.notifications().size() == 1);
}

TEST_CASE("harvest jobs: submitting never waits, and at most `concurrency` run at once",
          "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    h.media.close_gate();
    auto& service = h.start(/*concurrency=*/2);
    const auto before = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i)
        CHECK(submit(service, clip_body(fmt::format("c{}", i), S + i, 3)).status ==
              ClipStatus::in_progress);
    CHECK(std::chrono::steady_clock::now() - before < 2s);  // the jobs are all held
    REQUIRE(eventually([&] { return h.media.active() == 2; }));
    std::this_thread::sleep_for(100ms);
    CHECK(h.media.active() == 2);
    CHECK(h.record("c4").status == ClipStatus::in_progress);
    h.media.open_gate();
    REQUIRE(service.wait_idle(5s));
    CHECK(h.media.peak() == 2);
    for (int i = 0; i < 5; ++i)
        CHECK(h.record(fmt::format("c{}", i)).status == ClipStatus::succeeded);
}

TEST_CASE(
    "harvest: at start-up, a job a crash interrupted is cut again, or failed when the DVR "
    "lost its range",
    "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S + 10, 20);  // the DVR holds S+10 .. S+29 now
    auto left = [&](std::string id, int64_t first) {
        ClipRecord r;
        r.id = std::move(id);
        r.channel = "demo";
        r.title = r.id;
        r.start_ms = segment_start_ms(first);
        r.end_ms = segment_start_ms(first + 3);
        r.rendition = "360p";
        r.created_ms = kBaseMs;
        REQUIRE(h.sqlite->insert(r).value());
    };
    left("resumable", S + 12);
    left("expired", S + 2);
    ClipRecord done;
    done.id = "done";
    done.channel = "demo";
    done.title = "done";
    done.start_ms = segment_start_ms(S);
    done.end_ms = segment_start_ms(S + 1);
    done.status = ClipStatus::succeeded;
    done.master = "done/master.m3u8";
    REQUIRE(h.sqlite->insert(done).value());
    // What the crashed run left: a half asset, one renamed in place but never
    // recorded, a folder a DELETE had renamed away, and a finished clip.
    write_all(h.dir / "clips" / "resumable.partial" / "720p" / "junk.ts", "half");
    write_all(h.dir / "clips" / "expired" / "master.m3u8", "stale");
    write_all(h.dir / "clips" / "old.deleted.1-1" / "master.m3u8", "deleted");
    write_all(h.dir / "clips" / "done" / "master.m3u8", "done");

    auto& service = h.start();
    REQUIRE(service.wait_idle(5s));
    auto resumed = h.record("resumable");
    INFO(resumed.message);
    CHECK(resumed.status == ClipStatus::succeeded);
    CHECK(fs::exists(h.dir / "clips" / "resumable" / "720p" / fmt::format("{}.ts", S + 12)));
    CHECK_FALSE(fs::exists(h.dir / "clips" / "resumable" / "720p" / "junk.ts"));
    auto expired = h.record("expired");
    CHECK(expired.status == ClipStatus::failed);
    CHECK_THAT(expired.message, Catch::Contains("no longer holds"));
    CHECK_FALSE(fs::exists(h.dir / "clips" / "expired"));
    CHECK_FALSE(fs::exists(h.dir / "clips" / "resumable.partial"));
    CHECK_FALSE(fs::exists(h.dir / "clips" / "old.deleted.1-1"));
    CHECK(h.record("done") == done);
    CHECK(read_all(h.dir / "clips" / "done" / "master.m3u8") == "done");
    CHECK(h.notifications().size() == 2);  // one success, one failure
}

TEST_CASE("harvest: a stop leaves unfinished jobs in_progress, and the next start finishes them",
          "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    h.media.close_gate();
    auto& service = h.start(1);
    submit(service, clip_body("running", S, 3));
    submit(service, clip_body("waiting", S + 5, 3));
    REQUIRE(eventually([&] { return h.media.active() == 1; }));
    std::thread release([&] {
        std::this_thread::sleep_for(50ms);
        h.media.open_gate();
    });
    service.stop();
    release.join();
    // The running job finished its step and went on or stopped; the waiting one never began.
    CHECK(h.record("waiting").status == ClipStatus::in_progress);
    h.service.reset();
    auto& again = h.start(1);
    REQUIRE(again.wait_idle(5s));
    CHECK(h.record("running").status == ClipStatus::succeeded);
    CHECK(h.record("waiting").status == ClipStatus::succeeded);
}

TEST_CASE("harvest: past max_waiting a new job is refused, its record taken back, and counted",
          "[harvest]") {
    core::QueueRegistry queues;  // outlives the service's queue
    HarvestHarness h;
    h.max_waiting = 1;
    h.queues = &queues;
    h.dvr.add_range(S, 30);
    h.media.close_gate();
    auto& service = h.start(1);
    submit(service, clip_body("running", S, 3));
    REQUIRE(eventually([&] { return h.media.active() == 1; }));
    submit(service, clip_body("waiting", S + 5, 3));
    auto refused = service.submit(json(clip_body("refused", S + 10, 3)));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == SubmitRefusal::Kind::busy);
    CHECK_THAT(refused.error().reasons.front(), Catch::Contains("1 clip jobs are waiting"));
    CHECK_FALSE(h.sqlite->get("refused").value());  // nothing listed that will never run
    auto figures = queues.figures();
    REQUIRE(figures.size() == 1);
    CHECK(figures[0].name == "harvest");
    CHECK(figures[0].overflow == core::Overflow::refuse_newest);
    CHECK(figures[0].capacity == 1);
    CHECK(figures[0].dropped == 1);
    h.media.open_gate();
    REQUIRE(service.wait_idle(10s));
    CHECK(h.record("running").status == ClipStatus::succeeded);
    CHECK(h.record("waiting").status == ClipStatus::succeeded);
}

TEST_CASE("harvest: remove deletes a finished clip's folder and record, and refuses a running one",
          "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    auto& service = h.start();
    submit(service, clip_body("gone", S, 3));
    REQUIRE(service.wait_idle(5s));
    REQUIRE(h.record("gone").status == ClipStatus::succeeded);
    CHECK(service.remove("gone") == HarvestService::Removal::removed);
    CHECK_FALSE(fs::exists(h.dir / "clips" / "gone"));
    REQUIRE(service.wait_idle(5s));
    CHECK(std::distance(fs::directory_iterator(h.dir / "clips"), fs::directory_iterator()) == 0);
    CHECK_FALSE(h.sqlite->get("gone").value());
    CHECK(service.remove("gone") == HarvestService::Removal::not_found);
    // The DVR's files are untouched by the deletion.
    CHECK(fs::exists(h.dvr.find("720p", S)->file));

    h.media.close_gate();
    submit(service, clip_body("busy", S, 3));
    REQUIRE(eventually([&] { return h.media.active() == 1; }));
    CHECK(service.remove("busy") == HarvestService::Removal::running);
    h.media.open_gate();
    REQUIRE(service.wait_idle(5s));
    CHECK(h.record("busy").status == ClipStatus::succeeded);
}

TEST_CASE("harvest: refusals say why and change nothing", "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    auto& service = h.start();
    submit(service, clip_body("taken", S, 3));
    auto duplicate = service.submit(json(clip_body("taken", S + 5, 3)));
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().kind == SubmitRefusal::Kind::duplicate);
    CHECK(h.record("taken").start_ms == segment_start_ms(S));

    auto invalid = service.submit(json(R"({"title": 3})"));
    REQUIRE_FALSE(invalid);
    CHECK(invalid.error().kind == SubmitRefusal::Kind::invalid);
    CHECK(invalid.error().reasons.size() == 3);  // title, start, end

    REQUIRE(service.wait_idle(5s));
    service.stop();
    auto stopped = service.submit(json(clip_body("late", S, 3)));
    REQUIRE_FALSE(stopped);
    CHECK(stopped.error().kind == SubmitRefusal::Kind::unavailable);
    CHECK_FALSE(h.sqlite->get("late").value());

    HarvestService no_dvr(h.options(), *h.catalog, nullptr, &h.media);
    REQUIRE(no_dvr.start());
    auto refused = no_dvr.submit(json(clip_body("x", S, 3)));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == SubmitRefusal::Kind::unavailable);
}

TEST_CASE("harvest: a generated id is valid and unique", "[harvest]") {
    HarvestHarness h;
    h.dvr.add_range(S, 30);
    auto& service = h.start();
    auto a = service.submit(json(fmt::format(R"({{"last": "10s", "title": "a"}})")));
    auto b = service.submit(json(fmt::format(R"({{"last": "10s", "title": "b"}})")));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(valid_clip_id(a->id));
    CHECK(a->id != b->id);
    CHECK(a->end_ms == segment_start_ms(S + 30));
    CHECK(a->start_ms == segment_start_ms(S + 25));
    REQUIRE(service.wait_idle(5s));
}

TEST_CASE("harvest: the webhook receives the finished job", "[harvest][webhook]") {
    std::mutex mutex;
    std::vector<std::string> bodies;
    HttpServerOptions o;
    o.port = 0;
    o.threads = 1;
    HttpServer receiver(o, [&](const Request& r) {
        std::lock_guard lock(mutex);
        bodies.push_back(r.body());
        return make_response(boost::beast::http::status::ok, "text/plain", "no-store",
                             SharedBuffer::from_string("ok"));
    });
    REQUIRE(receiver.start());
    auto notifier =
        WebhookNotifier::create(fmt::format("http://127.0.0.1:{}/hooks/clips", receiver.port()));
    REQUIRE(notifier);

    HarvestHarness h;
    h.dvr.add_range(S, 30);
    auto& service =
        h.start(2, true, [n = notifier->get()](std::string json) { n->post(std::move(json)); });
    submit(service, clip_body("hooked", S, 3, R"(, "event": "semi")"));
    REQUIRE(service.wait_idle(5s));
    REQUIRE(eventually([&] { return (*notifier)->delivered() == 1; }));
    std::lock_guard lock(mutex);
    REQUIRE(bodies.size() == 1);
    auto job = job_of(bodies[0]);
    CHECK(job.at("id") == "hooked");
    CHECK(job.at("status") == "succeeded");
    CHECK(job.at("channel") == "demo");
    CHECK(job.at("event") == "semi");
    CHECK(job.at("start").as_string() == format_program_date_time(segment_start_ms(S)));
    CHECK(job.at("end").as_string() == format_program_date_time(segment_start_ms(S + 3)));
    CHECK(job.at("mp4") == "/vod/hooked/clip.mp4");
}
