#include "ingest/network_input.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/media_time.hpp"
#include "ingest/ts_demux.hpp"

namespace onair::ingest {
namespace {

constexpr int kIoBufferSize = 64 * 1024;
constexpr auto kTick = std::chrono::milliseconds(100);

int64_t utc_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool is_tick(int code) {
    return code == AVERROR_EXIT || code == AVERROR(EAGAIN) || code == AVERROR(ETIMEDOUT) ||
           code == AVERROR(EINTR);
}

}  // namespace

NetworkInput::NetworkInput(core::InputSpec spec, core::InputStatus& status, std::string component,
                           InputTimeouts timeouts)
    : spec_(std::move(spec)),
      status_(status),
      component_(std::move(component)),
      timeouts_(timeouts),
      datagram_(kIoBufferSize) {}

NetworkInput::~NetworkInput() {
    stop();
}

void NetworkInput::start(EventQueue& out) {
    thread_ = std::jthread([this, &out](std::stop_token stop) { run(stop, out); });
}

void NetworkInput::stop() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

int NetworkInput::interrupt_callback(void* opaque) {
    auto* self = static_cast<NetworkInput*>(opaque);
    return self->stop_.stop_requested() || Clock::now() >= self->interrupt_at_;
}

void NetworkInput::run(std::stop_token stop, EventQueue& out) {
    stop_ = stop;
    auto backoff = timeouts_.backoff_first;
    bool failed_before = false;
    const bool caller =
        spec_.kind == core::InputKind::srt && spec_.srt_mode == core::SrtMode::caller;
    while (!stop.stop_requested()) {
        // A listener waits for its sender; a caller that has failed keeps calling.
        status_.state =
            caller && failed_before ? core::InputState::reconnecting : core::InputState::waiting;
        bool flowed = session(stop, out);
        failed_before = true;
        if (stop.stop_requested()) break;
        if (flowed) {
            backoff = timeouts_.backoff_first;
            continue;  // reopen at once: a listener must be ready for the next caller
        }
        // Wait before retrying, waking at once on stop.
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, backoff, [] { return false; });
        backoff = std::min(backoff * 2, timeouts_.backoff_max);
    }
    status_.state = core::InputState::stopped;
}

bool NetworkInput::accept_caller(std::stop_token stop) {
    if (!srt_listener_) {
        // An encoder retrying with a wrong passphrase is refused every second
        // or so: each refusal is counted, a repeat of the same host and reason
        // logged once per 10 s with how many came meanwhile.
        struct Repeats {
            std::mutex mutex;
            std::string last;
            Clock::time_point logged{};
            int64_t unlogged = 0;
        };
        auto repeats = std::make_shared<Repeats>();
        auto opened = SrtListener::open(
            spec_, timeouts_.stalled_after,
            [&status = status_, component = component_, repeats](const SrtRefusal& r) {
                // libsrt's thread; the status outlives the input.
                status.refused_callers.fetch_add(1);
                status.set_note(fmt::format("refused {}: {}", r.peer, r.reason));
                const std::string what = r.peer.substr(0, r.peer.rfind(':')) + " " + r.reason;
                const auto now = Clock::now();
                std::lock_guard lock(repeats->mutex);
                if (what == repeats->last && now - repeats->logged < std::chrono::seconds(10)) {
                    ++repeats->unlogged;
                    return;
                }
                log::warn(component, "refused a caller from {}: {}{}", r.peer, r.reason,
                          repeats->unlogged > 0
                              ? fmt::format(" ({} more refused before)", repeats->unlogged)
                              : "");
                repeats->last = what;
                repeats->logged = now;
                repeats->unlogged = 0;
            });
        if (!opened) {
            status_.set_note("open failed: " + opened.error().message);
            log::warn(component_, "cannot open {}: {}", spec_.describe(), opened.error().message);
            return false;
        }
        srt_listener_ = std::move(*opened);
    }
    while (!stop.stop_requested()) {
        auto caller = srt_listener_->accept(kTick);
        if (!caller) {
            log::warn(component_, "accepting a caller: {}", caller.error().message);
            return false;
        }
        if (*caller) {
            srt_caller_ = std::move(*caller);
            log::info(component_, "caller from {}{}", srt_caller_->peer(),
                      srt_caller_->took_over() ? ", in place of a silent one" : "");
            return true;
        }
    }
    return false;
}

bool NetworkInput::session(std::stop_token stop, EventQueue& out) {
    const bool srt_listener =
        spec_.kind == core::InputKind::srt && spec_.srt_mode == core::SrtMode::listener;
    bool listener = spec_.kind != core::InputKind::srt || srt_listener;
    status_.set_note(listener ? "waiting for a sender" : "calling the sender");

    // Open the protocol. A listener waits for its caller as long as it takes;
    // only stop interrupts it. Callers give up per libsrt's connect timeout.
    interrupt_at_ = Clock::time_point::max();
    AVIOInterruptCB interrupt{&NetworkInput::interrupt_callback, this};
    if (srt_listener) {
        if (!accept_caller(stop)) return false;
    } else {
        auto target = protocol_target(spec_);  // avio_open2 takes its options
        AVIOContext* raw_protocol = nullptr;
        int rc = avio_open2(&raw_protocol, target.url.c_str(), AVIO_FLAG_READ, &interrupt,
                            target.options.address());
        if (rc < 0) {
            if (!stop.stop_requested()) {
                status_.set_note("open failed: " + core::av_error_text(rc));
                log::warn(component_, "cannot open {}: {}", spec_.describe(),
                          core::av_error_text(rc));
            }
            return false;
        }
        protocol_.reset(raw_protocol);
    }
    inspector_.reset();
    rtp_.reset();
    leftover_.clear();
    leftover_pos_ = 0;
    got_data_ = false;
    stalled_ = false;
    link_failed_ = false;
    last_data_ = Clock::now();
    window_start_ = last_data_;
    window_bytes_ = 0;
    if (spec_.kind == core::InputKind::srt) {
        status_.connects.fetch_add(1);
        status_.state = core::InputState::connected;
        status_.set_note("");
        log::info(component_, "connected: {}", spec_.describe());
    } else {
        log::info(component_, "listening: {}", spec_.describe());
    }

    bool flowed = demux_until_lost(stop, out, interrupt);
    protocol_.reset();    // after the demuxer and its reads through us
    srt_caller_.reset();  // the next caller may come in
    return flowed;
}

bool NetworkInput::demux_until_lost(std::stop_token stop, EventQueue& out,
                                    AVIOInterruptCB interrupt) {
    // The demuxer reads through us.
    auto* io_buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
    core::CustomIoPtr io(avio_alloc_context(io_buffer, kIoBufferSize, 0, this,
                                            &NetworkInput::read_callback, nullptr, nullptr));
    if (!io) {
        av_free(io_buffer);
        return false;
    }
    auto demux = TsDemux::open(io.get(), interrupt);
    if (!demux) {
        if (demux.error().ended) return got_data_;
        if (!stop.stop_requested()) {
            status_.set_note("unusable input: " + demux.error().why);
            log::warn(component_, "unusable input: {}", demux.error().why);
        }
        return false;  // retry after a back-off, not in a tight loop
    }

    core::StreamsOpened opened = demux->streams();
    if (const AVCodecParameters* v = opened.video.get())
        log::info(component_, "video: {} {}x{} {}/{} fps", avcodec_get_name(v->codec_id), v->width,
                  v->height, opened.video_frame_rate.num, opened.video_frame_rate.den);
    if (const AVCodecParameters* a = opened.audio.get())
        log::info(component_, "audio: {} {} Hz, {} channels", avcodec_get_name(a->codec_id),
                  a->sample_rate, a->ch_layout.nb_channels);
    if (!out.push(std::move(opened), stop)) return true;

    auto packet = core::make_packet();
    while (!stop.stop_requested()) {
        int rc = demux->read(*packet);
        if (rc < 0) {
            if (!stop.stop_requested()) {
                std::string why =
                    rc == AVERROR(ETIMEDOUT)
                        ? fmt::format("no data for {} ms", timeouts_.lost_after.count())
                    : rc == kSrtCallerReplaced ? "silent, and a new caller is in"
                                               : core::av_error_text(rc);
                status_.set_note("input lost: " + why);
                log::warn(component_, "input lost ({}); reopening", why);
            }
            break;
        }
        auto kind = demux->kind_of(*packet);
        // Once the link failed the demuxer only flushes what is partial and late.
        if (link_failed_ || !kind) {
            av_packet_unref(packet.get());
            continue;
        }
        auto item = core::make_packet();
        av_packet_move_ref(item.get(), packet.get());
        if (!out.push(core::MediaPacket{*kind, std::move(item)}, stop)) break;
    }
    return true;
}

int NetworkInput::read_callback(void* opaque, uint8_t* buffer, int size) {
    return static_cast<NetworkInput*>(opaque)->read_bytes(buffer, size);
}

int NetworkInput::read_bytes(uint8_t* buffer, int size) {
    // Bytes left from a datagram larger than the demuxer asked for.
    if (leftover_pos_ < leftover_.size()) {
        int n = std::min<int>(size, int(leftover_.size() - leftover_pos_));
        std::memcpy(buffer, leftover_.data() + leftover_pos_, size_t(n));
        leftover_pos_ += size_t(n);
        return n;
    }
    for (;;) {
        if (stop_.stop_requested()) return AVERROR_EXIT;
        interrupt_at_ = Clock::now() + kTick;  // wake up regularly to watch for stalls
        int rc = srt_caller_
                     ? srt_caller_->receive(datagram_.data(), int(datagram_.size()), kTick)
                     : avio_read_partial(protocol_.get(), datagram_.data(), int(datagram_.size()));
        if (rc == 0 && srt_caller_) rc = AVERROR(EAGAIN);  // nothing within the tick
        interrupt_at_ = Clock::time_point::max();
        auto now = Clock::now();
        if (rc > 0) {
            std::span<const uint8_t> payload(datagram_.data(), size_t(rc));
            if (spec_.kind == core::InputKind::rtp) {
                auto extracted = rtp_.extract(
                    payload,
                    std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch())
                        .count());
                status_.rtp_lost = rtp_.lost();
                if (!extracted) {
                    rtp_garbage_bytes_ += rc;
                    status_.garbage_bytes = inspector_.counts().garbage_bytes + rtp_garbage_bytes_;
                    continue;
                }
                payload = *extracted;
            }
            inspector_.feed(payload);
            const auto& counts = inspector_.counts();
            status_.ts_packets = counts.packets;
            status_.continuity_errors = counts.continuity_errors;
            status_.garbage_bytes = counts.garbage_bytes + rtp_garbage_bytes_;
            status_.bytes.fetch_add(int64_t(payload.size()));
            status_.last_packet_utc_ms = utc_ms_now();
            window_bytes_ += int64_t(payload.size());
            update_bitrate(now);
            last_data_ = now;
            if (!got_data_ || stalled_) {
                if (spec_.kind != core::InputKind::srt && !got_data_) status_.connects.fetch_add(1);
                if (stalled_) log::info(component_, "input resumed");
                status_.state = core::InputState::connected;
                status_.set_note("");
                got_data_ = true;
                stalled_ = false;
            }
            int n = std::min<int>(size, int(payload.size()));
            std::memcpy(buffer, payload.data(), size_t(n));
            if (size_t(n) < payload.size()) {
                leftover_.assign(payload.begin() + n, payload.end());
                leftover_pos_ = 0;
            }
            return n;
        }
        if (!is_tick(rc)) {  // end of stream or a broken connection
            link_failed_ = true;
            return rc;
        }
        // A quiet tick: the protocol context flagged an error; clear it and keep going.
        if (protocol_) {
            protocol_->eof_reached = 0;
            protocol_->error = 0;
        }
        update_bitrate(now);
        auto idle = now - last_data_;
        if (got_data_ && !stalled_ && idle >= timeouts_.stalled_after) {
            stalled_ = true;
            status_.state = core::InputState::stalled;
            status_.set_note("no data");
            log::warn(component_, "input stalled: no data for {} ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(idle).count());
        }
        if (got_data_ && idle >= timeouts_.lost_after) {
            link_failed_ = true;
            return AVERROR(ETIMEDOUT);
        }
    }
}

void NetworkInput::update_bitrate(Clock::time_point now) {
    auto elapsed = now - window_start_;
    if (elapsed >= std::chrono::seconds(1)) {
        // One line for what libav would say about damaged input many times over.
        int64_t garbage = status_.garbage_bytes.load(), errors = status_.continuity_errors.load();
        if ((garbage > reported_garbage_ || errors > reported_errors_) &&
            now - last_damage_report_ >= std::chrono::seconds(10)) {
            log::warn(component_,
                      "damaged input: {} bytes that are not MPEG-TS, {} continuity "
                      "errors since the last report",
                      garbage - reported_garbage_, errors - reported_errors_);
            reported_garbage_ = garbage;
            reported_errors_ = errors;
            last_damage_report_ = now;
        }
        double seconds = std::chrono::duration<double>(elapsed).count();
        status_.bitrate = int64_t(double(window_bytes_) * 8 / seconds);
        window_bytes_ = 0;
        window_start_ = now;
    }
}

}  // namespace onair::ingest
