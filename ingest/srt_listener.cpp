#include "ingest/srt_listener.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <srt/access_control.h>
#include <srt/srt.h>
#include <syslog.h>

#include <atomic>
#include <map>
#include <mutex>
#include <regex>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/log.hpp"

namespace onair::ingest {

struct SrtListenerState {
    SRTSOCKET socket = SRT_INVALID_SOCK;
    int poller = -1;
    std::string streamid;  // callers must give this one; empty: any
    std::chrono::milliseconds takeover_after{};
    SrtListener::RefusalHandler refused;

    // The one seat: its holder is the caller the hook let through (its
    // handshake may still fail) or the connected one; a successor is a caller
    // let through to take over from a silent holder. Changed by the hook, by
    // refusals, by accept() and when a connection goes.
    std::mutex seat;
    SRTSOCKET holder = SRT_INVALID_SOCK;
    bool holder_connected = false;
    bool took_over_next = false;  // the holder not yet connected was a successor
    std::atomic<SRTSOCKET> successor{SRT_INVALID_SOCK};  // read by receive() without the lock
    std::atomic<int64_t> holder_last_data_ms{0};         // steady clock

    // A caller that will not come in (refused, gone, or its handshake never
    // ended) leaves the seat. A connected holder leaves only by release().
    void release_pending(SRTSOCKET s) {
        std::lock_guard lock(seat);
        if (successor == s)
            successor = SRT_INVALID_SOCK;
        else if (holder == s && !holder_connected)
            holder = SRT_INVALID_SOCK;
    }
    // The holder's connection went: its successor, if any, holds the seat.
    void release(SRTSOCKET s) {
        std::lock_guard lock(seat);
        if (holder != s) return;
        holder = successor.exchange(SRT_INVALID_SOCK);
        holder_connected = false;
        took_over_next = holder != SRT_INVALID_SOCK;
    }
};

namespace {

constexpr const char* kLog = "srt";

int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Callers the accept hook let through, until libsrt accepts or refuses them
// (by the new socket's id, which libsrt's refusal line names).
struct PendingCaller {
    std::weak_ptr<SrtListenerState> listener;
    std::string peer;
    std::chrono::steady_clock::time_point since;
};

struct Registry {
    std::mutex mutex;
    std::map<const SrtListenerState*, std::weak_ptr<SrtListenerState>> listeners;
    std::map<SRTSOCKET, PendingCaller> pending;
};

// Never destroyed: libsrt's threads may still log while the process exits.
Registry& registry() {
    static Registry* r = new Registry;
    return *r;
}

// A caller let through whose handshake has not ended by then gives its claim back.
constexpr auto kHandshakeGiveUp = std::chrono::seconds(10);

std::string address_text(const sockaddr* address) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (address && address->sa_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(address);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
        return fmt::format("{}:{}", host, port);
    }
    if (address && address->sa_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(address);
        ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
        return fmt::format("[{}]:{}", host, port);
    }
    return "an unknown address";
}

// libsrt's names for why it refused, as an engineer would say them.
std::string refusal_reason(std::string_view name) {
    if (name == "BADSECRET") return "wrong passphrase";
    if (name == "UNSECURE") return "a passphrase on one side only";
    if (name == "VERSION") return "an SRT version too old";
    return fmt::format("refused by libsrt ({})", name);
}

// libsrt says why it refused a caller (a passphrase check, after the accept
// hook) only in its log: "@ID:newConnection: connection rejected due to:
// ... - ERROR:NAME". Its other errors go to onair's log as warnings (those
// about a refused handshake at debug: the refusal is reported by us), the
// rest at debug. Runs under libsrt's log lock: it never calls libsrt.
void on_srt_log(void*, int level, const char*, int, const char*, const char* message) {
    static const std::regex& kRejected =
        *new std::regex(R"(@(\d+):newConnection: connection rejected due to: .* - ERROR:(\w+))");
    std::cmatch m;
    if (message && std::regex_search(message, m, kRejected)) {
        const auto socket = SRTSOCKET(std::stol(m[1].str()));
        PendingCaller caller;
        {
            auto& r = registry();
            std::lock_guard lock(r.mutex);
            auto it = r.pending.find(socket);
            if (it == r.pending.end()) return;
            caller = std::move(it->second);
            r.pending.erase(it);
        }
        if (auto listener = caller.listener.lock()) {
            listener->release_pending(socket);
            listener->refused({caller.peer, refusal_reason(m[2].str())});
        }
        return;
    }
    if (!message) return;
    const std::string_view text(message);
    if (level <= LOG_ERR && text.find("reject") == std::string_view::npos)
        log::warn(kLog, "libsrt: {}", text);
    else
        log::debug(kLog, "libsrt: {}", text);
}

// The accept hook, on libsrt's thread: a wrong streamid, or a second caller
// while one is sending, is refused here; a caller let through is remembered
// until libsrt decides.
int on_caller(void* opaque, SRTSOCKET ns, int, const sockaddr* peer, const char* streamid) {
    auto& r = registry();
    std::shared_ptr<SrtListenerState> state;
    {
        std::lock_guard lock(r.mutex);
        auto it = r.listeners.find(static_cast<const SrtListenerState*>(opaque));
        if (it != r.listeners.end()) state = it->second.lock();
    }
    if (!state) return -1;  // closing
    const std::string who = address_text(peer);
    const std::string given = streamid ? streamid : "";
    if (!state->streamid.empty() && given != state->streamid) {
        srt_setrejectreason(ns, SRT_REJX_FORBIDDEN);
        state->refused(
            {who, given.empty() ? "no streamid" : fmt::format("wrong streamid \"{}\"", given)});
        return -1;
    }
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<std::shared_ptr<SrtListenerState>, SRTSOCKET>> given_up;
    {
        std::lock_guard lock(r.mutex);  // handshakes that never ended
        std::erase_if(r.pending, [&](auto& p) {
            if (now - p.second.since < kHandshakeGiveUp) return false;
            if (auto listener = p.second.listener.lock()) given_up.emplace_back(listener, p.first);
            return true;
        });
    }
    for (auto& [listener, s] : given_up) listener->release_pending(s);
    const char* busy = nullptr;
    {
        std::lock_guard lock(state->seat);
        if (state->holder == SRT_INVALID_SOCK) {
            state->holder = ns;
            state->holder_connected = false;
            state->took_over_next = false;
        } else if (!state->holder_connected) {
            busy = "another caller is connecting";
        } else if (state->successor != SRT_INVALID_SOCK ||
                   steady_ms() - state->holder_last_data_ms < state->takeover_after.count()) {
            busy = "a caller is connected already";
        } else {
            state->successor = ns;  // the silent holder ends once this one is in
        }
    }
    if (busy) {
        srt_setrejectreason(ns, SRT_REJX_CONFLICT);
        state->refused({who, busy});
        return -1;
    }
    std::lock_guard lock(r.mutex);
    r.pending[ns] = {state, who, now};
    return 0;
}

void install_log_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME | SRT_LOGF_DISABLE_EOL);
        srt_setloghandler(nullptr, &on_srt_log);
        srt_setloglevel(LOG_WARNING);
    });
}

template <class T>
bool set_flag(SRTSOCKET s, SRT_SOCKOPT option, const T& value) {
    return srt_setsockflag(s, option, &value, sizeof value) == 0;
}

void forget_pending(SRTSOCKET socket) {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.pending.erase(socket);
}

}  // namespace

SrtConnection::~SrtConnection() {
    if (poller_ >= 0) srt_epoll_release(poller_);
    srt_close(socket_);
    listener_->release(socket_);  // the next caller may come in
}

int SrtConnection::receive(uint8_t* buffer, int size, std::chrono::milliseconds timeout) {
    if (poller_ < 0) {
        poller_ = srt_epoll_create();
        const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
        if (poller_ < 0 || srt_epoll_add_usock(poller_, socket_, &events) != 0) return AVERROR(EIO);
    }
    auto received = [&]() -> int {
        const int n = srt_recvmsg(socket_, reinterpret_cast<char*>(buffer), size);
        if (n > 0) {
            listener_->holder_last_data_ms = steady_ms();
            return n;
        }
        if (n < 0 && srt_getlasterror(nullptr) != SRT_EASYNCRCV) return AVERROR(EIO);
        return 0;
    };
    if (const int n = received(); n != 0) return n;
    // A successor let through while this caller was silent: once its
    // handshake is done (it waits on the listener), this connection ends.
    if (listener_->successor != SRT_INVALID_SOCK) {
        SRT_EPOLL_EVENT waiting[1];
        if (srt_epoll_uwait(listener_->poller, waiting, 1, 0) > 0) return kSrtCallerReplaced;
    }
    SRT_EPOLL_EVENT ready[1];
    if (srt_epoll_uwait(poller_, ready, 1, timeout.count()) <= 0) return 0;
    return received();
}

core::Result<std::unique_ptr<SrtListener>> SrtListener::open(
    const core::InputSpec& spec, std::chrono::milliseconds takeover_after, RefusalHandler refused) {
    install_log_handler();
    const std::string host = spec.host.empty() ? "0.0.0.0" : spec.host;
    const std::string port = std::to_string(spec.port);
    auto failed = [&](std::string_view step) {
        return core::fail(
            fmt::format("SRT listener on {}:{}: {}: {}", host, port, step, srt_getlasterror_str()));
    };
    if (srt_startup() < 0) return failed("startup");
    auto state = std::make_shared<SrtListenerState>();
    state->streamid = spec.streamid;
    state->takeover_after = takeover_after;
    state->refused = std::move(refused);
    std::unique_ptr<SrtListener> listener(new SrtListener(state));  // closes on failure

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return core::fail(fmt::format("SRT listener on {}:{}: {}", host, port, ::gai_strerror(rc)));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> address(found, &::freeaddrinfo);

    state->socket = srt_create_socket();
    if (state->socket == SRT_INVALID_SOCK) return failed("socket");
    const SRT_TRANSTYPE live = SRTT_LIVE;
    const bool no_wait = false;
    bool ok = set_flag(state->socket, SRTO_TRANSTYPE, live) &&
              set_flag(state->socket, SRTO_RCVSYN, no_wait) &&
              set_flag(state->socket, SRTO_LATENCY, int{spec.latency_ms});
    if (ok && !spec.passphrase.empty())
        ok = srt_setsockflag(state->socket, SRTO_PASSPHRASE, spec.passphrase.data(),
                             int(spec.passphrase.size())) == 0;
    if (ok && spec.pbkeylen > 0) ok = set_flag(state->socket, SRTO_PBKEYLEN, int{spec.pbkeylen});
    if (!ok) return failed("options");
    bool bound = false;
    for (const addrinfo* a = address.get(); a && !bound; a = a->ai_next)
        bound = srt_bind(state->socket, a->ai_addr, int(a->ai_addrlen)) == 0;
    if (!bound) return failed("bind");
    {
        auto& r = registry();
        std::lock_guard lock(r.mutex);
        r.listeners[state.get()] = state;
    }
    if (srt_listen_callback(state->socket, &on_caller, state.get()) != 0 ||
        srt_listen(state->socket, 2) != 0)
        return failed("listen");
    state->poller = srt_epoll_create();
    const int events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    if (state->poller < 0 || srt_epoll_add_usock(state->poller, state->socket, &events) != 0)
        return failed("epoll");
    return listener;
}

SrtListener::~SrtListener() {
    {
        auto& r = registry();
        std::lock_guard lock(r.mutex);
        r.listeners.erase(state_.get());  // the hook refuses from now on
    }
    if (state_->poller >= 0) srt_epoll_release(state_->poller);
    if (state_->socket != SRT_INVALID_SOCK) srt_close(state_->socket);
    srt_cleanup();
}

core::Result<std::unique_ptr<SrtConnection>> SrtListener::accept(
    std::chrono::milliseconds timeout) {
    SRT_EPOLL_EVENT ready[1];
    const int events = srt_epoll_uwait(state_->poller, ready, 1, timeout.count());
    if (events < 0 && srt_getlasterror(nullptr) != SRT_ETIMEOUT)
        return core::fail(fmt::format("waiting for a caller: {}", srt_getlasterror_str()));
    if (events <= 0) return nullptr;
    sockaddr_storage peer{};
    int length = sizeof peer;
    const SRTSOCKET s = srt_accept(state_->socket, reinterpret_cast<sockaddr*>(&peer), &length);
    if (s == SRT_INVALID_SOCK) return nullptr;  // its handshake failed after all
    forget_pending(s);
    bool seated = false, took_over = false;
    {
        // The previous connection is gone, so a successor holds the seat now.
        std::lock_guard lock(state_->seat);
        if (state_->holder == s) {
            seated = true;
            took_over = std::exchange(state_->took_over_next, false);
            state_->holder_connected = true;
            state_->holder_last_data_ms = steady_ms();
        }
    }
    if (!seated) {
        // Let through, then given up on (its handshake took too long):
        // another caller may be in the seat by now.
        srt_close(s);
        return nullptr;
    }
    const std::string peer_text = address_text(reinterpret_cast<const sockaddr*>(&peer));
    return std::make_unique<SrtConnection>(s, peer_text, took_over, state_);
}

}  // namespace onair::ingest
