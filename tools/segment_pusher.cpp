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

// "360p #123", "360p #123.2": a segment or a part in the log.
std::string label(const core::Segment& s) {
    return fmt::format("{} #{}", s.rendition, s.sequence);
}
std::string label(const core::Part& p) {
    return fmt::format("{} #{}.{}", p.rendition, p.sequence, p.index);
}

}  // namespace

SegmentPusher::SegmentPusher(SegmentPusherOptions options)
    : options_(std::move(options)),
      client_(options_.origin.host, options_.origin.port, options_.http),
      queue_(options_.queue_name, options_.capacity,
             {.overflow = core::Overflow::drop_oldest,
              .registry = options_.queues,
              .on_drop = [this](const Item& oldest, uint64_t dropped) {
                  if ((dropped - 1) % 50 == 0)
                      log::warn(kLog,
                                "{} segments and parts wait for the origin: dropped the oldest "
                                "({}; dropped so far: {})",
                                queue_.size(),
                                std::visit([](const auto& item) { return label(item); }, oldest),
                                dropped);
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

void SegmentPusher::on_part(core::Part part) {
    if (queue_.size() >= options_.part_backlog) {
        ++parts_skipped_;
        return;
    }
    queue_.push(std::move(part));
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
    while (auto item = queue_.pop(stop)) deliver(*item, stop);
    const auto left = queue_.take_all();
    if (!left.empty())
        log::warn(kLog, "stopped with {} segment(s) and part(s) not pushed", left.size());
    expired_ += int64_t(left.size());
    std::lock_guard lock(mutex_);
    finished_ = true;
    wake_.notify_all();
}

std::string_view SegmentPusher::useless(const Item& item) {
    const bool part = std::holds_alternative<core::Part>(item);
    const int64_t end = std::visit([](const auto& i) { return i.start + i.duration; }, item);
    if (end + (part ? options_.part_useful_ticks : options_.useful_ticks) <= core::utc_now_media())
        return part ? "its segment is due" : "older than the playlist window";
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

void SegmentPusher::deliver(const Item& item, std::stop_token stop) {
    const std::string name = std::visit([](const auto& i) { return label(i); }, item);
    auto backoff = options_.first_backoff;
    for (;;) {
        if (auto why = useless(item); !why.empty()) {
            ++expired_;
            log::warn(kLog, "gave up on {}: {}", name, why);
            return;
        }
        auto request = std::visit(
            [&](const auto& i) {
                using T = std::decay_t<decltype(i)>;
                if constexpr (std::is_same_v<T, core::Segment>) {
                    auto r = origin::make_request(
                        http::verb::put,
                        origin::ingest::segment_target(options_.channel, i.pipeline, i.rendition,
                                                       i.sequence, i.container),
                        origin::SharedBuffer::from_bytes(i.bytes),
                        origin::segment_media_type(i.container));
                    origin::ingest::set_segment_headers(r, i);
                    return r;
                } else {
                    auto r = origin::make_request(
                        http::verb::put,
                        origin::ingest::part_target(options_.channel, i.pipeline, i.rendition,
                                                    i.sequence, i.index),
                        origin::SharedBuffer::from_bytes(i.bytes), origin::kMimeMp4);
                    origin::ingest::set_part_headers(r, i);
                    return r;
                }
            },
            item);
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
                log::info(kLog, "first push to {}: {}", options_.origin.text(), name);
            ++(status == 201 ? stored_ : duplicates_);
            return;
        }
        std::string why = response ? fmt::format("the origin answered {}: {}", status,
                                                 response->body().substr(0, 200))
                                   : response.error().message;
        if (permanent(status)) {
            if (refused_++ % 50 == 0) {
                if (status == 401)
                    log::error(kLog, "the origin refused the ingest token ({})", name);
                else
                    log::warn(kLog, "{} refused: {} (refused so far: {})", name, why,
                              refused_.load());
            }
            return;
        }
        // A part is worth one attempt: retrying would hold its segment back,
        // which carries the same media anyway.
        if (std::holds_alternative<core::Part>(item)) {
            ++parts_skipped_;
            return;
        }
        ++failures_;
        ++retries_;
        if (!failing_)
            log::warn(kLog, "cannot push {}: {}; retrying while it is useful", name, why);
        failing_ = true;
        if (!pause(backoff, stop)) {
            ++expired_;
            return;
        }
        backoff = std::min(backoff * 2, options_.max_backoff);
    }
}

}  // namespace onair::tools
