// The command line as a user meets it: help, version, unknown commands, and
// the log lines of a running channel in text and JSON.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

RunResult onair_cli(const TempDir& dir, std::vector<std::string> args) {
    args.insert(args.begin(), onair_binary());
    return run_to_completion({.argv = args, .output_dir = dir.path(), .name = "onair-cli"},
                             std::chrono::seconds(20));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) lines.push_back(line);
    return lines;
}

// A channel on the built-in test signal, small: the log is what is tested.
std::string test_signal_channel(int http_port) {
    return fmt::format(R"(channel: clitest
inputs:
  a: testsrc:?size=320x180&rate=25
ladder:
  - {{name: 180p, width: 320, height: 180, bitrate: 300k}}
encoder: {{preset: ultrafast, gop: 1s}}
hls: {{segment: 1s, window: 5s}}
origin: {{listen: 127.0.0.1:{}}}
)",
                       http_port);
}

// Runs the channel until its first segment is logged, then SIGINT.
std::string run_until_first_segment(const TempDir& dir, const std::string& format) {
    auto file = dir.write("channel.yaml", test_signal_channel(free_tcp_port()));
    Process onair({.argv = {onair_binary(), "--log-format", format, "run", file.string()},
                   .output_dir = dir.path(),
                   .name = "onair-" + format});
    auto logged = wait_until(
        "the first segment to be logged",
        [&] { return onair.read_stderr().find("first segment") != std::string::npos; },
        std::chrono::seconds(30));
    CHECK(logged);
    onair.signal(SIGINT);
    auto exit = onair.wait_for(std::chrono::seconds(10));
    REQUIRE(exit);
    CHECK(exit->describe() == "exit 0");
    return onair.read_stderr();
}

}  // namespace

TEST_CASE("onair --version and --help answer and exit 0", "[integration][cli]") {
    TempDir dir("onair-cli");
    auto version = onair_cli(dir, {"--version"});
    REQUIRE(version.status);
    CHECK(version.status->describe() == "exit 0");
    CHECK(std::regex_search(version.out, std::regex(R"(^onair \d+\.\d+\.\d+\n)")));
    CHECK(version.out.find("libavformat") != std::string::npos);

    auto help = onair_cli(dir, {"--help"});
    REQUIRE(help.status);
    CHECK(help.status->describe() == "exit 0");
    CHECK(help.out.find("run FILE") != std::string::npos);
    CHECK(help.out.find("check FILE") != std::string::npos);
    CHECK(help.out.find("--log-format") != std::string::npos);

    for (const char* command : {"run", "check"}) {
        auto command_help = onair_cli(dir, {command, "--help"});
        REQUIRE(command_help.status);
        CHECK(command_help.status->describe() == "exit 0");
        CHECK(command_help.out.find(fmt::format("usage: onair {} ", command)) == 0);
    }
}

TEST_CASE("onair without a command, or with a wrong one, exits 2 and says why",
          "[integration][cli]") {
    TempDir dir("onair-cli");
    auto none = onair_cli(dir, {});
    REQUIRE(none.status);
    CHECK(none.status->describe() == "exit 2");
    CHECK(none.err.find("usage: onair") != std::string::npos);

    auto unknown = onair_cli(dir, {"frobnicate"});
    REQUIRE(unknown.status);
    CHECK(unknown.status->describe() == "exit 2");
    CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);

    auto bad_option = onair_cli(dir, {"--log-format", "xml", "run", "x.yaml"});
    REQUIRE(bad_option.status);
    CHECK(bad_option.status->describe() == "exit 2");
    CHECK(bad_option.err.find("--log-format takes text or json") != std::string::npos);

    auto missing = onair_cli(dir, {"check", (dir.path() / "nope.yaml").string()});
    REQUIRE(missing.status);
    CHECK(missing.status->describe() == "exit 2");
    CHECK(missing.err.find("nope.yaml") != std::string::npos);
}

TEST_CASE("log lines are one event each, with UTC time, channel and component",
          "[integration][cli]") {
    TempDir dir("onair-log");
    auto text = run_until_first_segment(dir, "text");
    std::regex line_shape(
        R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info |warn |error) clitest [a-z0-9_.]+: .+$)");
    auto lines = lines_of(text);
    REQUIRE(lines.size() >= 3);
    for (const auto& line : lines) {
        INFO(line);
        CHECK(std::regex_match(line, line_shape));
    }
}

TEST_CASE("with the json log format every line is one JSON object", "[integration][cli]") {
    TempDir dir("onair-json");
    auto text = run_until_first_segment(dir, "json");
    auto lines = lines_of(text);
    REQUIRE(lines.size() >= 3);
    bool saw_stop = false;
    for (const auto& line : lines) {
        INFO(line);
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        REQUIRE_FALSE(ec);
        REQUIRE(value.is_object());
        const auto& o = value.as_object();
        CHECK(o.at("channel").as_string() == "clitest");
        auto time = std::string(o.at("time").as_string());
        CHECK(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
        CHECK(o.contains("level"));
        CHECK(o.contains("component"));
        CHECK(o.contains("msg"));
        if (o.at("msg").as_string() == "stopped") saw_stop = true;
    }
    CHECK(saw_stop);
}

TEST_CASE("every sample channel file is valid as written", "[integration][cli]") {
    TempDir dir("onair-samples");
    int checked = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ONAIR_SAMPLES_DIR)) {
        if (entry.path().extension() != ".yaml") continue;
        INFO(entry.path().string());
        // Its ports may be taken on this machine: check a copy on free ones.
        std::ifstream in(entry.path());
        std::string text((std::istreambuf_iterator<char>(in)), {});
        text = std::regex_replace(text, std::regex("127\\.0\\.0\\.1:8080"),
                                  fmt::format("127.0.0.1:{}", free_tcp_port()));
        for (const char* port : {":9001?", ":9002?"})
            text = std::regex_replace(text, std::regex(std::string(port).replace(5, 1, "\\?")),
                                      fmt::format(":{}?", free_udp_port()));
        auto file = dir.write(entry.path().filename().string(), text);
        auto result = onair_cli(dir, {"check", file.string()});
        INFO(result.out << result.err);
        REQUIRE(result.status);
        CHECK(result.status->describe() == "exit 0");
        CHECK_THAT(result.out, Catch::Contains("valid"));
        ++checked;
    }
    CHECK(checked >= 2);
}
