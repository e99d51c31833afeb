// onair's own SRT listener against real libsrt callers on 127.0.0.1: who it
// refuses at the handshake, with the caller's address and the reason, and
// that the caller it lets in gets through.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <srt/srt.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "ingest/srt_listener.hpp"

using namespace onair;
using namespace onair::ingest;
using namespace std::chrono_literals;

namespace {

int free_udp_port() {
    const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t length = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &length);
    ::close(s);
    return ntohs(a.sin_port);
}

// What the listener reported, from libsrt's threads.
struct Refusals {
    std::mutex mutex;
    std::vector<SrtRefusal> seen;
    void add(const SrtRefusal& r) {
        std::lock_guard lock(mutex);
        seen.push_back(r);
    }
    std::vector<SrtRefusal> taken() {
        std::lock_guard lock(mutex);
        return std::exchange(seen, {});
    }
};

// A caller as an encoder is one: connects (blocking, 3 s at most) with its
// passphrase and streamid. Closed when it goes.
class Caller {
  public:
    Caller(int port, const std::string& passphrase, const std::string& streamid) {
        srt_startup();
        socket_ = srt_create_socket();
        const SRT_TRANSTYPE live = SRTT_LIVE;
        srt_setsockflag(socket_, SRTO_TRANSTYPE, &live, sizeof live);
        const int timeout_ms = 3000;
        srt_setsockflag(socket_, SRTO_CONNTIMEO, &timeout_ms, sizeof timeout_ms);
        if (!passphrase.empty())
            srt_setsockflag(socket_, SRTO_PASSPHRASE, passphrase.data(), int(passphrase.size()));
        if (!streamid.empty())
            srt_setsockflag(socket_, SRTO_STREAMID, streamid.data(), int(streamid.size()));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = srt_connect(socket_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        if (!connected_) reject_reason_ = srt_getrejectreason(socket_);
        sockaddr_in local{};
        int length = sizeof local;
        srt_getsockname(socket_, reinterpret_cast<sockaddr*>(&local), &length);
        local_port_ = ntohs(local.sin_port);
    }
    ~Caller() {
        srt_close(socket_);
        srt_cleanup();
    }
    bool connected() const { return connected_; }
    int reject_reason() const { return reject_reason_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(local_port_); }
    bool send(const std::string& message) {
        return srt_sendmsg(socket_, message.data(), int(message.size()), -1, 1) > 0;
    }

  private:
    SRTSOCKET socket_ = SRT_INVALID_SOCK;
    bool connected_ = false;
    int reject_reason_ = 0;
    int local_port_ = 0;
};

// A caller silent this long gives way to a new one.
constexpr auto kTakeoverAfter = 1s;

core::InputSpec listener_spec(int port) {
    core::InputSpec spec;
    spec.kind = core::InputKind::srt;
    spec.srt_mode = core::SrtMode::listener;
    spec.host = "127.0.0.1";
    spec.port = port;
    spec.latency_ms = 120;
    spec.passphrase = "correct-horse-battery";
    spec.streamid = "studio-1";
    return spec;
}

// Waits (up to 3 s) for the listener's report of a refusal.
std::vector<SrtRefusal> refusals_within(Refusals& refusals, size_t count) {
    std::vector<SrtRefusal> out;
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (out.size() < count && std::chrono::steady_clock::now() < until) {
        auto more = refusals.taken();
        out.insert(out.end(), more.begin(), more.end());
        std::this_thread::sleep_for(10ms);
    }
    return out;
}

}  // namespace

TEST_CASE("srt listener: refused callers are reported with their address and why", "[srt]") {
    const int port = free_udp_port();
    Refusals refusals;
    auto listener = SrtListener::open(listener_spec(port), kTakeoverAfter,
                                      [&](const SrtRefusal& r) { refusals.add(r); });
    REQUIRE(listener);

    SECTION("a wrong passphrase") {
        Caller caller(port, "not-the-passphrase", "studio-1");
        CHECK_FALSE(caller.connected());
        auto seen = refusals_within(refusals, 1);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].reason == "wrong passphrase");
        CHECK(seen[0].peer == caller.address());
    }
    SECTION("no passphrase") {
        Caller caller(port, "", "studio-1");
        CHECK_FALSE(caller.connected());
        auto seen = refusals_within(refusals, 1);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].reason == "a passphrase on one side only");
        CHECK(seen[0].peer == caller.address());
    }
    SECTION("a wrong streamid") {
        Caller caller(port, "correct-horse-battery", "studio-2");
        CHECK_FALSE(caller.connected());
        CHECK(caller.reject_reason() == 1403);  // SRT_REJX_FORBIDDEN: the caller learns why
        auto seen = refusals_within(refusals, 1);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].reason == "wrong streamid \"studio-2\"");
        CHECK(seen[0].peer == caller.address());
    }
    SECTION("the right caller gets in, a second one is refused while it is there") {
        auto first = std::make_unique<Caller>(port, "correct-horse-battery", "studio-1");
        REQUIRE(first->connected());
        auto accepted = (*listener)->accept(2s);
        REQUIRE(accepted);
        REQUIRE(*accepted);
        CHECK((*accepted)->peer() == first->address());
        REQUIRE(first->send("hello"));
        uint8_t buffer[1500];
        int n = 0;
        for (int i = 0; i < 20 && n == 0; ++i)
            n = (*accepted)->receive(buffer, sizeof buffer, 100ms);
        REQUIRE(n == 5);
        CHECK(std::string(reinterpret_cast<char*>(buffer), 5) == "hello");

        Caller second(port, "correct-horse-battery", "studio-1");
        CHECK_FALSE(second.connected());
        CHECK(second.reject_reason() == 1409);  // SRT_REJX_CONFLICT
        auto seen = refusals_within(refusals, 1);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].reason == "a caller is connected already");
        CHECK(seen[0].peer == second.address());

        // The first goes: its connection says so, and the next caller gets in.
        first.reset();
        int rc = 0;
        for (int i = 0; i < 50 && rc == 0; ++i)
            rc = (*accepted)->receive(buffer, sizeof buffer, 100ms);
        CHECK(rc < 0);
        accepted->reset();  // gives the listener back
        Caller third(port, "correct-horse-battery", "studio-1");
        REQUIRE(third.connected());
        auto next = (*listener)->accept(2s);
        REQUIRE(next);
        REQUIRE(*next);
        CHECK((*next)->peer() == third.address());
        CHECK(refusals.taken().empty());
    }
}

// Waits up to 5 s for what receive() says other than "nothing yet".
int next_receive(SrtConnection& connection, uint8_t* buffer, int size) {
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; ++i) rc = connection.receive(buffer, size, 100ms);
    return rc;
}

TEST_CASE(
    "srt listener: a caller takes over from one silent for takeover_after, never from one "
    "sending, and only with the right passphrase",
    "[srt]") {
    const int port = free_udp_port();
    Refusals refusals;
    auto listener = SrtListener::open(listener_spec(port), kTakeoverAfter,
                                      [&](const SrtRefusal& r) { refusals.add(r); });
    REQUIRE(listener);
    // The first caller sends, then goes silent without closing (an encoder
    // killed, a relay restarted, a path lost).
    Caller first(port, "correct-horse-battery", "studio-1");
    REQUIRE(first.connected());
    auto held = (*listener)->accept(2s);
    REQUIRE(held);
    REQUIRE(*held);
    CHECK_FALSE((*held)->took_over());
    REQUIRE(first.send("hello"));
    uint8_t buffer[1500];
    REQUIRE(next_receive(**held, buffer, sizeof buffer) == 5);
    const auto silent_since = std::chrono::steady_clock::now();

    // Right away: still the first one's seat (unless this machine stalled
    // for the whole takeover time in between).
    {
        Caller early(port, "correct-horse-battery", "studio-1");
        if (std::chrono::steady_clock::now() - silent_since < kTakeoverAfter) {
            CHECK_FALSE(early.connected());
            CHECK(early.reject_reason() == 1409);
            auto seen = refusals_within(refusals, 1);
            REQUIRE(seen.size() == 1);
            CHECK(seen[0].reason == "a caller is connected already");
        }
    }
    std::this_thread::sleep_until(silent_since + kTakeoverAfter + 200ms);

    // Silent long enough, but a wrong passphrase: refused by libsrt, and the
    // first connection goes on.
    {
        Caller wrong(port, "not-the-passphrase", "studio-1");
        CHECK_FALSE(wrong.connected());
        auto seen = refusals_within(refusals, 1);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].reason == "wrong passphrase");
    }
    CHECK((*held)->receive(buffer, sizeof buffer, 300ms) == 0);
    REQUIRE(first.send("again"));
    REQUIRE(next_receive(**held, buffer, sizeof buffer) == 5);
    std::this_thread::sleep_for(kTakeoverAfter + 200ms);

    // The right caller after a silence: it is in, the silent connection says
    // it was replaced, and the next accept gives the new one.
    Caller next(port, "correct-horse-battery", "studio-1");
    REQUIRE(next.connected());
    CHECK(next_receive(**held, buffer, sizeof buffer) == kSrtCallerReplaced);
    held->reset();
    auto taken = (*listener)->accept(2s);
    REQUIRE(taken);
    REQUIRE(*taken);
    CHECK((*taken)->peer() == next.address());
    CHECK((*taken)->took_over());
    REQUIRE(next.send("new"));
    REQUIRE(next_receive(**taken, buffer, sizeof buffer) == 3);
    CHECK(std::string(reinterpret_cast<char*>(buffer), 3) == "new");
    // Another caller now is refused: the new one is sending.
    Caller again(port, "correct-horse-battery", "studio-1");
    CHECK_FALSE(again.connected());
    CHECK(again.reject_reason() == 1409);
}

TEST_CASE("srt listener: a port another socket holds is an error naming it", "[srt]") {
    const int port = free_udp_port();
    auto first = SrtListener::open(listener_spec(port), kTakeoverAfter, [](const SrtRefusal&) {});
    REQUIRE(first);
    auto second = SrtListener::open(listener_spec(port), kTakeoverAfter, [](const SrtRefusal&) {});
    REQUIRE_FALSE(second);
    INFO(second.error().message);
    // libsrt shares a port between listeners in one process; a second one cannot listen.
    CHECK(second.error().message.find(fmt::format("127.0.0.1:{}: listen: ", port)) !=
          std::string::npos);
}
