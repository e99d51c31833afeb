#include "tools/segment_pusher.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "core/log.hpp"
#include "core/media_time.hpp"
#include "origin/ingest_protocol.hpp"

namespace onair::tools {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kLog = "push";

bool permanent(int status) {
    return status / 100 == 4 && status != 408 && status != 429;
}

}  // namespace

SegmentPusher::SegmentPusher(SegmentPusherOptions options)
    : options_(std::move(options)),
      client_(options_.origin.host, options_.origin.port, options_.http),
      queue_(options_.queue_name, options_.capacity,
             {.overflow = core::Overflow::drop_oldest,
              .registry = options_.queues,
              .on_drop = [this](const core::Segment& oldest, uint64_t dropped) {
                  if ((dropped - 1) % 50 == 0)
                      log::warn(kLog,
                                "{} segments wait for the origin: dropped the oldest ({} #{}; "
                                "dropped so far: {})",
                                queue_.size(), oldest.rendition, oldest.sequence, dropped);
              }}) {}

SegmentPusher::~SegmentPusher() {
    stop(std::chrono::milliseconds(0));
}

void SegmentPusher::start() {
    if (worker_.joinable()) return;
    worker_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void SegmentPusher::on_segment(core::Segment segment) {
    queue_.push(std::move(segment));
}

void SegmentPusher::stop(std::chrono::milliseconds grace) {
    if (!worker_.joinable()) return;
    {
        std::unique_lock lock(mutex_);
        closing_ = true;
        close_deadline_ = Clock::now() + grace;
        queue_.close();  // the thread delivers what is queued, then ends
        wake_.notify_all();
        // Let it deliver what is queued, for at most `grace`.
        wake_.wait_until(lock, close_deadline_, [&] { return finished_; });
    }
    worker_.request_stop();
    worker_.join();
}

void SegmentPusher::run(std::stop_token stop) {
    while (auto segment = queue_.pop(stop)) deliver(*segment, stop);
    const auto left = queue_.take_all();
    if (!left.empty()) log::warn(kLog, "stopped with {} segment(s) not pushed", left.size());
    expired_ += int64_t(left.size());
    std::lock_guard lock(mutex_);
    finished_ = true;
    wake_.notify_all();
}

std::string_view SegmentPusher::useless(const core::Segment& segment) {
    if (segment.start + segment.duration + options_.useful_ticks <= core::utc_now_media())
        return "older than the playlist window";
    std::lock_guard lock(mutex_);
    if (closing_ && Clock::now() >= close_deadline_) return "stopping";
    return {};
}

bool SegmentPusher::pause(std::chrono::milliseconds d, const std::stop_token& stop) {
    std::unique_lock lock(mutex_);
    auto until = Clock::now() + d;
    if (closing_) until = std::min(until, close_deadline_);
    wake_.wait_until(lock, stop, until, [] { return false; });
    return !stop.stop_requested();
}

void SegmentPusher::deliver(const core::Segment& segment, std::stop_token stop) {
    const std::string target = origin::ingest::segment_target(
        options_.channel, segment.pipeline, segment.rendition, segment.sequence, segment.container);
    auto backoff = options_.first_backoff;
    for (;;) {
        if (auto why = useless(segment); !why.empty()) {
            ++expired_;
            log::warn(kLog, "gave up on {} #{}: {}", segment.rendition, segment.sequence, why);
            return;
        }
        auto request =
            origin::make_request(http::verb::put, target,
                                 origin::SharedBuffer::from_bytes(segment.bytes), origin::kMimeTs);
        origin::ingest::set_segment_headers(request, segment);
        request.set(http::field::authorization, "Bearer " + options_.token);
        auto response = client_.send(std::move(request), stop);
        if (stop.stop_requested()) {
            ++expired_;
            return;
        }
        const int status = response ? int(response->result_int()) : 0;
        if (status == 200 || status == 201) {
            if (failing_)
                log::info(kLog, "the origin takes segments again (after {} failed attempts)",
                          failures_);
            failing_ = false;
            failures_ = 0;
            if (stored_.load() + duplicates_.load() == 0)
                log::info(kLog, "first segment pushed to {}: {} #{}", options_.origin.text(),
                          segment.rendition, segment.sequence);
            ++(status == 201 ? stored_ : duplicates_);
            return;
        }
        std::string why = response ? fmt::format("the origin answered {}: {}", status,
                                                 response->body().substr(0, 200))
                                   : response.error().message;
        if (permanent(status)) {
            if (refused_++ % 50 == 0) {
                if (status == 401)
                    log::error(kLog, "the origin refused the ingest token ({} #{})",
                               segment.rendition, segment.sequence);
                else
                    log::warn(kLog, "{} #{} refused: {} (refused so far: {})", segment.rendition,
                              segment.sequence, why, refused_.load());
            }
            return;
        }
        ++failures_;
        ++retries_;
        if (!failing_)
            log::warn(kLog, "cannot push {} #{}: {}; retrying while it is useful",
                      segment.rendition, segment.sequence, why);
        failing_ = true;
        if (!pause(backoff, stop)) {
            ++expired_;
            return;
        }
        backoff = std::min(backoff * 2, options_.max_backoff);
    }
}

}  // namespace onair::tools
