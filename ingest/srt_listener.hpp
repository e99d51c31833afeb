#pragma once
// An SRT listener onair owns (libsrt directly, not libavformat's), so that a
// caller refused at the handshake is seen: its address and why (a wrong
// passphrase, a passphrase on one side only, a wrong streamid, a caller
// already connected). libavformat's listener hides all of that and closes its
// socket once a caller is in, so a second caller just times out.
//
// One listening socket for the input's whole life, one caller at a time.
// The accept hook (libsrt's thread) refuses a wrong streamid and a second
// caller itself; libsrt checks the passphrase after the hook, and says why it
// refused only in its log, which one process-wide handler reads and hands to
// the listener that met the caller. Used by NetworkInput's thread.
//
// A caller with the right streamid takes over from one that has sent nothing
// for `takeover_after`: an encoder or relay killed and restarted comes back
// at once, while onair would otherwise hold its dead connection for seconds.
// The silent connection ends only once the new caller's handshake (and so
// its passphrase) succeeded; a caller still sending is never displaced.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/result.hpp"

extern "C" {
#include <libavutil/error.h>
}

namespace onair::ingest {

struct SrtRefusal {
    std::string peer;    // "127.0.0.1:40574"
    std::string reason;  // "wrong passphrase", "wrong streamid \"x\"", ...
};

struct SrtListenerState;  // shared with libsrt's threads (the accept hook, the log handler)

// What SrtConnection::receive returns once a new caller took over.
inline constexpr int kSrtCallerReplaced = FFERRTAG('S', 'R', 'P', 'L');

// One connected caller; while it lives, other callers are refused.
class SrtConnection {
  public:
    SrtConnection(int socket, std::string peer, bool took_over,
                  std::shared_ptr<SrtListenerState> listener)
        : socket_(socket),
          peer_(std::move(peer)),
          took_over_(took_over),
          listener_(std::move(listener)) {}
    ~SrtConnection();
    SrtConnection(const SrtConnection&) = delete;
    SrtConnection& operator=(const SrtConnection&) = delete;

    // Waits up to `timeout` for one message: its size, 0 when none came, a
    // negative AVERROR when the connection broke, or kSrtCallerReplaced once
    // a new caller is in to take over from this silent one.
    int receive(uint8_t* buffer, int size, std::chrono::milliseconds timeout);
    const std::string& peer() const { return peer_; }
    bool took_over() const { return took_over_; }  // from a silent caller

  private:
    int socket_;
    int poller_ = -1;
    std::string peer_;
    bool took_over_;
    std::shared_ptr<SrtListenerState> listener_;
};

class SrtListener {
  public:
    // Called on libsrt's threads, under its locks: quick, and never calling libsrt.
    using RefusalHandler = std::function<void(const SrtRefusal&)>;
    // Binds HOST:PORT of `spec` (an srt listener) with its latency,
    // passphrase, key length; `spec.streamid`, when set, is the one callers
    // must give. A caller silent for `takeover_after` gives way to a new one.
    [[nodiscard]] static core::Result<std::unique_ptr<SrtListener>> open(
        const core::InputSpec& spec, std::chrono::milliseconds takeover_after,
        RefusalHandler refused);
    ~SrtListener();
    SrtListener(const SrtListener&) = delete;
    SrtListener& operator=(const SrtListener&) = delete;

    // Waits up to `timeout` for a caller: null when none came. Called once
    // the previous caller's connection is gone.
    [[nodiscard]] core::Result<std::unique_ptr<SrtConnection>> accept(
        std::chrono::milliseconds timeout);

  private:
    explicit SrtListener(std::shared_ptr<SrtListenerState> state) : state_(std::move(state)) {}
    std::shared_ptr<SrtListenerState> state_;
};

}  // namespace onair::ingest
