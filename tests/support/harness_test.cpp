// The harness itself: child processes, ports, the HTTP client's timeouts,
// waiting, ffprobe parsing and the senders' command lines (run for real).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "tests/support/ffprobe.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/net.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sender.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

using namespace onair::testing;

namespace {

// A socket bound on 127.0.0.1 for the duration of a test.
struct Socket {
    int fd = -1;
    Socket(int type, int port) {
        fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(port));
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~Socket() { ::close(fd); }
    // One datagram, or empty after `ms` without one.
    std::string receive(int ms) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) return {};
        char buffer[65536];
        auto n = ::recv(fd, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
    }
};

}  // namespace

TEST_CASE("a child process: output and exit code and signals", "[harness]") {
    TempDir dir;
    auto result = run_to_completion(
        {.argv = {"sh", "-c", "echo out; echo err >&2; echo $ONAIR_X; pwd; exit 3"},
         .env = {{"ONAIR_X", "extra"}},
         .working_dir = dir.path(),
         .output_dir = dir.path(),
         .name = "sh"},
        10s);
    REQUIRE(result.status);
    CHECK(result.status->exited());
    CHECK(result.status->code == 3);
    CHECK(result.out == fmt::format("out\nextra\n{}\n", dir.path().string()));
    CHECK(result.err == "err\n");

    Process sleeper({.argv = {"sleep", "30"}, .output_dir = dir.path()});
    CHECK(sleeper.running());
    CHECK_FALSE(sleeper.wait_for(100ms));
    sleeper.signal(SIGTERM);
    auto status = sleeper.wait_for(5s);
    REQUIRE(status);
    CHECK(status->signal == SIGTERM);
    CHECK(status->describe() == "killed by SIGTERM");
    CHECK_FALSE(sleeper.running());

    CHECK_THROWS_WITH(Process({.argv = {"no-such-program-onair"}, .output_dir = dir.path()}),
                      Catch::Contains("not found"));
    CHECK_THROWS_WITH(Process({.argv = {dir.path().string()}, .output_dir = dir.path()}),
                      Catch::Contains("cannot start"));
}

TEST_CASE("the destructor kills the child's whole process group", "[harness]") {
    TempDir dir;
    pid_t grandchild = 0;
    {
        Process p({.argv = {"sh", "-c", "sleep 30 & echo $!; wait"}, .output_dir = dir.path()});
        REQUIRE(wait_until(
            "the grandchild's pid", [&] { return !p.read_stdout().empty(); }, 5s));
        grandchild = std::stoi(p.read_stdout());
        CHECK(::kill(grandchild, 0) == 0);
    }
    // Killed; reaped by init (it was not ours), so wait for it to go.
    CHECK(wait_until(
        "the grandchild to die", [&] { return ::kill(grandchild, 0) != 0; }, 5s));
}

TEST_CASE("free ports are free and distinct", "[harness]") {
    int tcp = free_tcp_port();
    int udp = free_udp_port();
    int pair = free_udp_port_pair();
    CHECK(tcp != udp);
    CHECK(pair % 2 == 0);
    CHECK(pair != udp);
    Socket a(SOCK_STREAM, tcp), b(SOCK_DGRAM, udp), c(SOCK_DGRAM, pair), d(SOCK_DGRAM, pair + 1);
    CHECK(free_udp_port() != udp);
}

TEST_CASE("the HTTP client never hangs", "[harness]") {
    SECTION("a server that accepts but never answers") {
        int port = free_tcp_port();
        Socket s(SOCK_STREAM, port);
        REQUIRE(::listen(s.fd, 4) == 0);  // the kernel completes the handshake; nobody reads
        auto start = Clock::now();
        auto r = http_get("127.0.0.1", port, "/healthz", 500ms);
        CHECK(Clock::now() - start < 3s);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error(),
                   Catch::Contains(fmt::format("127.0.0.1:{} GET /healthz: read", port)));
    }
    SECTION("nobody listening") {
        auto r = http_get("127.0.0.1", free_tcp_port(), "/", 2s);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error(), Catch::Contains("connect"));
    }
    SECTION("a real answer, and a raw request") {
        int port = free_tcp_port();
        Socket s(SOCK_STREAM, port);
        REQUIRE(::listen(s.fd, 4) == 0);
        std::jthread server([&] {
            for (int i = 0; i < 2; ++i) {
                int c = ::accept(s.fd, nullptr, nullptr);
                if (c < 0) return;
                char buffer[4096];
                std::string request;
                while (request.find("\r\n\r\n") == std::string::npos) {
                    auto n = ::recv(c, buffer, sizeof buffer, 0);
                    if (n <= 0) break;
                    request.append(buffer, static_cast<size_t>(n));
                }
                std::string body = request.substr(0, request.find("\r\n"));
                auto response = fmt::format(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
                    "X-Request: {}\r\nContent-Length: {}\r\n\r\n{}",
                    body, body.size(), body);
                (void)!::send(c, response.data(), response.size(), MSG_NOSIGNAL);
                ::close(c);
            }
        });
        auto r = http_get("127.0.0.1", port, "/live/x/master.m3u8");
        REQUIRE(r);
        CHECK(r->status == 404);
        CHECK(r->header("content-type") == "application/json");
        CHECK(r->body == "GET /live/x/master.m3u8 HTTP/1.1");
        CHECK(r->header("CONTENT-LENGTH") == std::to_string(r->body.size()));
        auto raw = http_raw("127.0.0.1", port, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
        REQUIRE(raw);
        CHECK(raw->body == "BREW /pot HTTP/1.1");
    }
}

TEST_CASE("wait_until reports what it waited for", "[harness]") {
    int calls = 0;
    auto ok = wait_until(
        "three calls", [&] { return ++calls == 3; }, 5s, 1ms);
    CHECK(ok);
    CHECK(calls == 3);
    auto late = wait_until(
        "never", [] { return false; }, 50ms, 10ms);
    CHECK_FALSE(late);
    CHECK_THAT(late.message,
               Catch::StartsWith("timed out after 0.") && Catch::EndsWith("waiting for: never"));
}

TEST_CASE("ffprobe of a segment made by ffmpeg and its SPS", "[harness][ffmpeg]") {
    TempDir dir;
    auto file = (dir / "seg.ts").string();
    auto made = run_to_completion({.argv = {"ffmpeg",
                                            "-v",
                                            "error",
                                            "-f",
                                            "lavfi",
                                            "-i",
                                            "testsrc2=size=416x234:rate=25",
                                            "-f",
                                            "lavfi",
                                            "-i",
                                            "sine=frequency=1000:sample_rate=48000",
                                            "-t",
                                            "2",
                                            "-c:v",
                                            "libx264",
                                            "-preset",
                                            "veryfast",
                                            "-profile:v",
                                            "main",
                                            "-pix_fmt",
                                            "yuv420p",
                                            "-g",
                                            "50",
                                            "-c:a",
                                            "aac",
                                            "-f",
                                            "mpegts",
                                            file},
                                   .output_dir = dir.path()},
                                  30s);
    REQUIRE(made.status);
    REQUIRE(made.status->success());

    auto p = probe(file, dir.path());
    INFO(p.summary());
    CHECK(p.clean());
    REQUIRE(p.video());
    CHECK(p.video()->codec_name == "h264");
    CHECK(p.video()->width == 416);
    CHECK(p.video()->height == 234);
    CHECK(p.video()->profile == "Main");
    REQUIRE(p.audio());
    CHECK(p.audio()->codec_name == "aac");
    CHECK(p.audio_frames > 80);
    REQUIRE(p.video_frames.size() == 50);
    CHECK(p.video_frames.front().key_frame);
    CHECK(p.video_frames.front().pict_type == "I");
    REQUIRE(p.video_duration());
    CHECK(*p.video_duration() == Approx(2.0).margin(0.001));

    auto sps = find_avc_sps(read_file(file));
    REQUIRE(sps);
    CHECK(sps->profile_idc == 77);
    CHECK(sps->profile_idc == profile_idc_from_name(p.video()->profile));
    CHECK(sps->level_idc == p.video()->level);
    CHECK(sps->codec_string() ==
          fmt::format("avc1.4d{:02x}{:02x}", sps->constraint_flags, p.video()->level));

    CHECK(first_slice_nal_type(read_file(file)) == 5);

    // Cut at a P frame: the checks see that it does not start with an IDR.
    auto cut = (dir / "cut.ts").string();
    auto made_cut = run_to_completion({.argv = {"ffmpeg", "-v", "error", "-i", file, "-ss", "0.5",
                                                "-c", "copy", "-copyinkf", "-f", "mpegts", cut},
                                       .output_dir = dir.path()},
                                      30s);
    REQUIRE(made_cut.status);
    REQUIRE(made_cut.status->success());
    CHECK(first_slice_nal_type(read_file(cut)) == 1);
    auto c = probe(cut, dir.path());
    INFO(c.summary());
    CHECK_FALSE(c.clean());
    CHECK_FALSE((!c.video_frames.empty() && c.video_frames.front().key_frame &&
                 c.video_frames.front().pict_type == "I"));

    // Damage: ffprobe still exits 0, but complains on stderr.
    auto bytes = read_file(file);
    for (size_t i = 188 * 20; i < bytes.size(); i += 188 * 3) bytes[i + 100] ^= 0x5a;
    auto damaged = dir.write("damaged.ts", bytes.substr(0, bytes.size() / 2 + 77));
    auto d = probe(damaged.string(), dir.path());
    INFO(d.summary());
    CHECK(d.status);
    CHECK_FALSE(d.clean());
    CHECK(d.video_frames.size() < 50);
}

TEST_CASE("the senders' command lines run", "[harness][ffmpeg]") {
    TempDir dir;
    auto small_sender = [&](SenderMode mode, int port) {
        return start_sender(
            {.mode = mode, .port = port, .width = 320, .height = 180, .output_dir = dir.path()});
    };
    SECTION("udp: MPEG-TS datagrams") {
        int port = free_udp_port();
        Socket s(SOCK_DGRAM, port);
        auto sender = small_sender(SenderMode::udp, port);
        auto d = s.receive(10000);
        INFO(sender.report());
        REQUIRE(d.size() == 1316);
        CHECK(d[0] == 0x47);
        CHECK(d[188] == 0x47);
    }
    SECTION("rtp: payload type 33 carrying MPEG-TS") {
        int port = free_udp_port_pair();
        Socket s(SOCK_DGRAM, port);
        auto sender = small_sender(SenderMode::rtp, port);
        auto d = s.receive(10000);
        INFO(sender.report());
        REQUIRE(d.size() > 12 + 188);
        CHECK((static_cast<uint8_t>(d[0]) >> 6) == 2);     // RTP version 2
        CHECK((static_cast<uint8_t>(d[1]) & 0x7f) == 33);  // MP2T
        CHECK(d[12] == 0x47);
        CHECK((d.size() - 12) % 188 == 0);
    }
    SECTION("srt listener: waits for a caller") {
        int port = free_udp_port();
        auto sender = small_sender(SenderMode::srt_listener, port);
        CHECK(sender_url({.mode = SenderMode::srt_listener, .port = port}) ==
              fmt::format("srt://127.0.0.1:{}?mode=listener&pkt_size=1316&latency=200000", port));
        // srt-live-transmit as the caller receives the stream.
        auto received = dir / "received.ts";
        Process caller({.argv = {"srt-live-transmit", "-q",
                                 fmt::format("srt://127.0.0.1:{}?mode=caller", port),
                                 fmt::format("file://con")},
                        .output_dir = dir.path(),
                        .name = "caller"});
        CHECK(wait_until(
            "TS bytes through SRT",
            [&] { return std::filesystem::file_size(caller.stdout_path()) > 188 * 50; }, 15s));
        INFO(sender.report() + caller.report());
        CHECK(sender.running());
        CHECK(read_file(caller.stdout_path())[0] == 0x47);
    }
}

TEST_CASE("the garbage sender sends for its duration", "[harness]") {
    int port = free_udp_port();
    Socket s(SOCK_DGRAM, port);
    GarbageSender garbage(port, 300ms, 200, 500);
    CHECK(!s.receive(2000).empty());
    garbage.wait();
    CHECK(garbage.done());
    CHECK(garbage.datagrams_sent() >= 30);
    CHECK(garbage.bytes_sent() >= garbage.datagrams_sent());
}
