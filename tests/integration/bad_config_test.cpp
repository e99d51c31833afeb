// Broken channel files: `onair check` and `onair run` exit 2 and print one
// line per problem, FILE:LINE:COL: key.path: message (allowed: ...), with
// the texts core/config.cpp gives. A valid file checks with exit 0.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

struct Ports {
    int input = free_udp_port();
    int http = free_tcp_port();
};

// A valid channel file on free ports, and edits of it: each replaces one
// piece of text, which must be there exactly once.
class ChannelFile {
  public:
    explicit ChannelFile(const Ports& ports)
        : text_(fmt::format(R"(channel: itest
inputs:
  a: srt://0.0.0.0:{}?mode=listener&latency=200
timecode: pts
ladder:
  - {{name: 360p, width: 640, height: 360, bitrate: 800k}}
  - {{name: 234p, width: 416, height: 234, bitrate: 300k}}
audio: {{bitrate: 128k}}
encoder: {{preset: veryfast, gop: 1s}}
hls: {{segment: 2s, window: 20s}}
origin: {{listen: 127.0.0.1:{}}}
)",
                            ports.input, ports.http)) {}

    ChannelFile& edit(std::string_view from, std::string_view to) {
        auto at = text_.find(from);
        REQUIRE(at != std::string::npos);
        REQUIRE(text_.find(from, at + 1) == std::string::npos);
        text_.replace(at, from.size(), to);
        return *this;
    }
    const std::string& text() const { return text_; }

  private:
    std::string text_;
};

RunResult run_onair(const std::string& command, const std::filesystem::path& file,
                    const TempDir& dir) {
    return run_to_completion({.argv = {onair_binary(), command, file.string()},
                              .output_dir = dir.path(),
                              .name = "onair-" + command},
                             std::chrono::seconds(20));
}

// `check` prints exactly the expected lines on stderr; `run` prints them
// too (any log lines aside) and both exit 2.
void expect_rejected(const TempDir& dir, const std::string& name, const ChannelFile& channel,
                     std::vector<std::string> expected_tail) {
    const auto& yaml = channel.text();
    auto file = dir.write(name, yaml);
    std::vector<std::string> expected;
    for (auto& line : expected_tail) expected.push_back(file.string() + ":" + line);
    INFO("file " << file.string() << ":\n" << yaml);

    auto check = run_onair("check", file, dir);
    REQUIRE(check.status);
    INFO("onair check stderr:\n" << check.err << "stdout:\n" << check.out);
    CHECK(check.status->describe() == "exit 2");
    CHECK(lines_of(check.err) == expected);

    auto run = run_onair("run", file, dir);
    REQUIRE(run.status);
    INFO("onair run stderr:\n" << run.err);
    CHECK(run.status->describe() == "exit 2");
    std::vector<std::string> diagnostics;
    for (auto& line : lines_of(run.err))
        if (line.starts_with(file.string() + ":")) diagnostics.push_back(line);
    CHECK(diagnostics == expected);
}

// A socket holding a port for the duration of a test.
class HeldPort {
  public:
    HeldPort(int type, const char* address, int port) {
        fd_ = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        ::inet_pton(AF_INET, address, &addr.sin_addr);
        addr.sin_port = htons(static_cast<uint16_t>(port));
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        if (type == SOCK_STREAM) REQUIRE(::listen(fd_, 1) == 0);
    }
    ~HeldPort() { ::close(fd_); }
    HeldPort(const HeldPort&) = delete;
    HeldPort& operator=(const HeldPort&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace

TEST_CASE("a valid channel file checks", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    auto file = dir.write("good.yaml", ChannelFile(ports).text());
    auto check = run_onair("check", file, dir);
    REQUIRE(check.status);
    INFO("stderr:\n" << check.err << "stdout:\n" << check.out);
    CHECK(check.status->describe() == "exit 0");
    CHECK_FALSE(check.out.empty());
    CHECK(check.err.find(file.string() + ":") == std::string::npos);
}

TEST_CASE("unknown keys with a typo", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(
        dir, "typo.yaml",
        ChannelFile(ports)
            .edit("encoder: {preset: veryfast, gop: 1s}", "encodr: {preset: veryfast, gop: 2s}")
            .edit("window: 20s", "windw: 20s"),
        {"9:1: encodr: unknown key, did you mean \"encoder\"? (allowed: channel, "
         "inputs, timecode, ladder, audio, encoder, hls, origin, input_loss, failover, "
         "data, dvr, clips)",
         "10:20: hls.windw: unknown key, did you mean \"window\"? (allowed: segment, "
         "window, container, part)"});
}

TEST_CASE("odd width and height", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(
        dir, "odd.yaml",
        ChannelFile(ports).edit("width: 640", "width: 641").edit("height: 234", "height: 235"),
        {"6:25: ladder[0].width: 641 must be even (allowed: even integers 64..7680)",
         "7:38: ladder[1].height: 235 must be even (allowed: even integers 64..4320)"});
}

TEST_CASE("zero bitrate", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(dir, "zero.yaml",
                    ChannelFile(ports)
                        .edit("bitrate: 800k", "bitrate: 0")
                        .edit("audio: {bitrate: 128k}", "audio: {bitrate: 0}"),
                    {"6:52: ladder[0].bitrate: must be greater than zero (allowed: 16k..100M)",
                     "8:18: audio.bitrate: must be greater than zero (allowed: 16k..512k)"});
}

TEST_CASE("segment not a whole number of GOPs", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(dir, "gop.yaml",
                    ChannelFile(ports)
                        .edit("gop: 1s", "gop: 2s")
                        .edit("{segment: 2s, window: 20s}", "{segment: 3s, window: 30s}"),
                    {"10:16: hls.segment: 3s is not a whole number of GOPs of 2s (allowed: "
                     "multiples of encoder.gop: 2s, 4s, 6s, ...)"});
}

TEST_CASE("duplicate rung names", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(dir, "duplicate.yaml", ChannelFile(ports).edit("name: 234p", "name: 360p"),
                    {"7:12: ladder[1].name: \"360p\" is already the name of ladder[0] (line 6) "
                     "(allowed: a name used by one rung only)"});
}

TEST_CASE("ports in use", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    ChannelFile channel(ports);
    SECTION("the origin's TCP port") {
        HeldPort held(SOCK_STREAM, "127.0.0.1", ports.http);
        expect_rejected(dir, "tcp-busy.yaml", channel,
                        {fmt::format("11:10: origin.listen: 127.0.0.1:{} is in use by another "
                                     "process (allowed: a free TCP port)",
                                     ports.http)});
    }
    SECTION("the SRT listener's UDP port") {
        HeldPort held(SOCK_DGRAM, "0.0.0.0", ports.input);
        expect_rejected(dir, "udp-busy.yaml", channel,
                        {fmt::format("3:3: inputs.a: 0.0.0.0:{} (UDP) is in use by another "
                                     "process (allowed: a free UDP port)",
                                     ports.input)});
    }
}

TEST_CASE("an unreadable slate is reported with the file's other problems",
          "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(dir, "slate.yaml",
                    ChannelFile(ports).edit("timecode: pts",
                                            "timecode: pst\ninput_loss: {slate: /nonexistent.png}"),
                    {"4:11: timecode: unknown value \"pst\", did you mean \"pts\"? (allowed: pts, "
                     "systemclock)",
                     "5:21: input_loss.slate: cannot read \"/nonexistent.png\": No such file or "
                     "directory (allowed: a readable PNG or JPEG file)"});
}

TEST_CASE("every problem at once in file order", "[integration][config]") {
    TempDir dir("onair-config");
    Ports ports;
    expect_rejected(
        dir, "many.yaml",
        ChannelFile(ports)
            .edit("width: 640, height: 360, bitrate: 800k", "width: 641, height: 360, bitrate: 0")
            .edit("name: 234p", "name: 360p")
            .edit("gop: 1s", "gop: 2s")
            .edit("{segment: 2s, window: 20s}", "{segment: 3s, windw: 30s}"),
        {"6:25: ladder[0].width: 641 must be even (allowed: even integers 64..7680)",
         "6:52: ladder[0].bitrate: must be greater than zero (allowed: 16k..100M)",
         "7:12: ladder[1].name: \"360p\" is already the name of ladder[0] (line 6) "
         "(allowed: a name used by one rung only)",
         "10:16: hls.segment: 3s is not a whole number of GOPs of 2s (allowed: "
         "multiples of encoder.gop: 2s, 4s, 6s, ...)",
         "10:20: hls.windw: unknown key, did you mean \"window\"? (allowed: segment, "
         "window, container, part)"});
}
