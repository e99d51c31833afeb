// The origin under a crowd: a thousand players connect at once to a running
// channel and keep asking for the master, the media playlist and the newest
// segment. Every answer must be whole and right, and the channel must keep
// listing its segments on time meanwhile.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/load.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kConnections = 1000;

// The load needs a descriptor per connection: the soft limit raised to the
// hard one where it is lower (root machines start at 1024).
void raise_open_files() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
}

// Why a TS body is not one: a whole number of packets, each with its sync byte.
std::string ts_problem(const std::string& body) {
    if (body.empty() || body.size() % 188 != 0)
        return fmt::format("{} bytes is not a whole number of TS packets", body.size());
    for (std::size_t at = 0; at < body.size(); at += 188)
        if (body[at] != 0x47) return fmt::format("no sync byte at {}", at);
    return {};
}

}  // namespace

TEST_CASE(
    "origin: a thousand connections at once get whole, correct answers while the channel "
    "publishes on time",
    "[integration][origin]") {
    raise_open_files();
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    REQUIRE(limit.rlim_cur > rlim_t(kConnections + 100));

    TempDir dir("onair-origin-load");
    ChannelSpec spec;
    spec.http_port = free_tcp_port();
    spec.input_url = "testsrc:?size=320x180&rate=25";
    spec.ladder = {{"180p", 320, 180, "400k"}};
    spec.gop = "1s";
    spec.segment = "1s";
    spec.segment_seconds = 1.0;
    spec.window = "6s";
    Onair onair(spec, dir);
    REQUIRE(onair.wait_ready());
    REQUIRE(onair.wait_segments(3, 20s));

    const std::string master = onair.master_path();
    const std::string media = onair.media_path("180p");
    std::string newest_segment =
        onair.segment_path("180p", onair.media("180p")->segments.back().uri);
    std::set<int64_t> listed;  // every sequence a playlist answer showed
    LoadOptions options;
    options.port = spec.http_port;
    options.connections = kConnections;
    options.duration = 10s;
    options.next_target = [&](int, int64_t n) {
        switch (n % 4) {
            case 0:
                return master;
            case 2:
                return newest_segment;
            default:
                return media;
        }
    };
    options.check = [&](const LoadResponse& r) -> std::string {
        if (r.status != 200) return fmt::format("status {}", r.status);
        if (r.target == master) {
            auto parsed = parse_master_playlist(r.body);
            return join_lines(check_master_playlist(parsed));
        }
        if (r.target == media) {
            auto parsed = parse_media_playlist(r.body);
            auto problems = check_media_playlist(parsed);
            if (!problems.empty()) return join_lines(problems);
            if (parsed.segments.empty()) return "no segment listed";
            for (const auto& s : parsed.segments) listed.insert(s.sequence);
            newest_segment = onair.segment_path("180p", parsed.segments.back().uri);
            return {};
        }
        if (r.content_type != "video/mp2t") return "content type " + r.content_type;
        return ts_problem(r.body);
    };
    const auto before = onair.media("180p");
    REQUIRE(before);
    const int64_t last_before = *before->last_sequence();

    auto result = run_load(options);
    INFO(result.responses << " good responses, " << result.bad_responses << " bad, "
                          << result.errors << " errors; p50 " << result.percentile_us(0.5)
                          << " us, p99 " << result.percentile_us(0.99) << " us\n"
                          << join_lines(result.problems));
    CHECK(result.connected == kConnections);
    CHECK(result.errors == 0);
    CHECK(result.bad_responses == 0);
    CHECK(result.responses > 4 * kConnections);

    // Publishing went on: about one segment a second appeared under the load,
    // each listed soon after its last frame entered the input.
    const int64_t published = *listed.rbegin() - last_before;
    CHECK(published >= 8);
    auto status = onair.channel_status();
    REQUIRE(status);
    INFO(boost::json::serialize(*status));
    CHECK(status->at("latency").at("worst_ms").as_int64() < 1500);
    // The origin saw the crowd, and says so.
    const auto& origin = status->at("origin").as_object();
    CHECK(origin.at("accepted").as_int64() >= kConnections);
    CHECK(origin.at("refused").as_int64() == 0);
    CHECK(origin.at("requests").as_int64() >= result.responses);
    auto exit = onair.stop();
    REQUIRE(exit);
    CHECK(exit->success());
}
