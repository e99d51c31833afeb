#include "origin/segment_store.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>

#include "core/log.hpp"
#include "core/media_time.hpp"

#include <fmt/format.h>

namespace onair::origin {

namespace {
// A URI names one copy for good (frozen when listed or first served).
constexpr std::string_view kSegmentCache = "max-age=86400, immutable";
}  // namespace

namespace {

constexpr size_t kLatencySamples = 300;
// Media missing between two consecutive segments beyond this is a gap.
constexpr int64_t kJoinTolerance = core::kMediaClock / 25;

int64_t system_now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

StoreOptions StoreOptions::from_config(const core::ChannelConfig& config) {
    StoreOptions options;
    options.channel = config.channel;
    for (const auto& rung : config.ladder) options.renditions.push_back(rung.name);
    options.segment_length = core::micros_to_ticks(config.hls.segment);
    int64_t segment_us = config.hls.segment.count();
    int64_t count = segment_us > 0 ? config.hls.window.count() / segment_us : 0;
    options.window_segments = int(std::clamp<int64_t>(count, 3, 100000));
    options.failover = FailoverSettings::from_config(config.failover);
    options.failover.has_b = config.inputs.size() > 1;
    options.spool = config.data_dir;
    options.container = config.hls.container;
    if (config.hls.container == core::Container::fmp4) {
        options.part_length = core::micros_to_ticks(config.hls.part);
        options.part_hold_back = 3 * options.part_length;
        if (options.failover.has_b)
            options.part_hold_back =
                std::max(options.part_hold_back, core::micros_to_ticks(config.encoder.gop) +
                                                     options.failover.late_after_ms * 90);
    }
    return options;
}

SegmentStore::SegmentStore(StoreOptions options, SwitchHandler on_switch, PublishHandler on_publish)
    : options_(std::move(options)),
      on_switch_(std::move(on_switch)),
      on_publish_(std::move(on_publish)),
      failover_(options_.failover) {
    for (const auto& name : options_.renditions)
        renditions_.emplace_back(name, options_.segment_length);
}

SegmentStore::~SegmentStore() = default;

int64_t SegmentStore::now() const {
    return options_.now_ms ? options_.now_ms() : system_now_ms();
}

SegmentStore::Rendition* SegmentStore::find(std::string_view rendition) {
    for (auto& r : renditions_)
        if (r.name == rendition) return &r;
    return nullptr;
}

const SegmentStore::Rendition* SegmentStore::find(std::string_view rendition) const {
    for (const auto& r : renditions_)
        if (r.name == rendition) return &r;
    return nullptr;
}

bool SegmentStore::has_rendition(std::string_view rendition) const {
    return find(rendition) != nullptr;  // the list never changes: no lock needed
}

template <class R>
auto SegmentStore::window(R& rendition, int count) {
    std::vector<decltype(&*rendition.slots.begin())> out;
    for (auto it = rendition.slots.rbegin();
         it != rendition.slots.rend() && int(out.size()) < count; ++it)
        if (it->second.listed) out.push_back(&*it);
    std::reverse(out.begin(), out.end());
    return out;
}

void SegmentStore::stash_events() {
    auto events = failover_.take_events();
    if (!on_switch_) return;
    for (auto& e : events) outbox_.events.push_back(std::move(e));
}

void SegmentStore::deliver() {
    if (!on_switch_ && !on_publish_) return;
    // A handler that calls back into the store: the outer loop delivers.
    if (delivering_.load() == std::this_thread::get_id()) return;
    for (;;) {
        std::unique_lock delivery(delivery_mutex_, std::try_to_lock);
        if (!delivery) return;  // the thread delivering takes ours too
        delivering_ = std::this_thread::get_id();
        for (;;) {
            Outbox box;
            {
                std::lock_guard lock(mutex_);
                std::swap(box, outbox_);
            }
            if (box.empty()) break;
            for (const auto& event : box.events) on_switch_(event);
            for (auto& segment : box.published) on_publish_(std::move(segment));
        }
        delivering_ = std::thread::id();
        delivery.unlock();
        // Stashed after our last look but before we let go: go round again.
        std::lock_guard lock(mutex_);
        if (outbox_.empty()) return;
    }
}

void SegmentStore::on_segment(core::Segment segment) {
    const bool container_ok = segment.container == options_.container &&
                              (segment.container == core::Container::ts) == !segment.init;
    if ((segment.pipeline != 'a' && segment.pipeline != 'b') || !segment.bytes ||
        segment.duration <= 0 || !container_ok) {
        log::warn("origin", "refused segment {}/{} from pipeline '{}': {}", segment.rendition,
                  segment.sequence, segment.pipeline,
                  container_ok ? "incomplete" : "not in the channel's container");
        std::lock_guard lock(mutex_);
        ++refused_;
        return;
    }
    auto shared = std::make_shared<const core::Segment>(std::move(segment));
    {
        std::lock_guard lock(mutex_);
        Rendition* r = find(shared->rendition);
        if (!r) {
            ++refused_;
            log::warn("origin", "refused segment {}/{}: rendition not in the ladder",
                      shared->rendition, shared->sequence);
            return;
        }
        const int64_t t = now();
        insert(*r, std::move(shared), t);
        if (publish(*r, t)) {
            render(*r, t);
            render_master(t);
        }
        stash_events();
    }
    deliver();
}

void SegmentStore::on_part(core::Part part) {
    if (options_.part_length <= 0 || (part.pipeline != 'a' && part.pipeline != 'b') ||
        !part.bytes || !part.init || part.index < 0 || part.duration <= 0)
        return;
    auto shared = std::make_shared<const core::Part>(std::move(part));
    {
        std::lock_guard lock(mutex_);
        Rendition* r = find(shared->rendition);
        if (!r) return;
        const int64_t t = now();
        Slot* slot = slot_for(*r, shared->sequence);
        if (!slot || slot->listed) return;  // its segment is listed already
        auto& parts = shared->pipeline == 'a' ? slot->parts_a : slot->parts_b;
        if (!parts.empty() && parts.back().part->index >= shared->index) return;  // a repeat
        parts.push_back({std::move(shared), t});
        if (list_parts(*r, t)) render(*r, t);
    }
}

// Caller holds mutex_.
SegmentStore::Slot* SegmentStore::slot_for(Rendition& r, int64_t sequence) {
    auto it = r.slots.find(sequence);
    if (it != r.slots.end()) return &it->second;
    // Older than everything retained: too late to matter.
    auto kept = window(r, options_.retained_segments());
    if (int(kept.size()) == options_.retained_segments() && sequence < kept.front()->first) {
        log::debug("origin", "segment {}/{} arrived after its retention; dropped", r.name,
                   sequence);
        return nullptr;
    }
    Slot slot;
    // Its place in the playlist has passed: downloadable, never listed.
    slot.hidden = r.listed_high != INT64_MIN && sequence <= r.listed_high;
    return &r.slots.emplace(sequence, std::move(slot)).first->second;
}

// Caller holds mutex_.
bool SegmentStore::list_parts(Rendition& r, int64_t now) {
    if (options_.part_length <= 0 || r.listed_high == INT64_MIN) return false;
    auto it = r.slots.find(r.listed_high + 1);
    if (it == r.slots.end() || it->second.listed || it->second.hidden) return false;
    Slot& slot = it->second;
    // Part n of pipeline p, and when it came; null when it has not.
    auto held = [&](char p, int n) -> const Slot::HeldPart* {
        for (const auto& h : p == 'a' ? slot.parts_a : slot.parts_b)
            if (h.part->index == n) return &h;
        return nullptr;
    };
    const int64_t grace = options_.failover.late_after_ms;
    bool changed = false;
    for (;;) {
        const int n = int(slot.listed_parts.size());
        // Part n is due once its first copy is here; the source's is late
        // `late_after` past that. The other pipeline's copies are not the
        // same bytes (docs/architecture.md), so a switch goes to its part n
        // only when that starts with an IDR: the pictures before it are then
        // never needed.
        char source = slot.part_source ? slot.part_source : failover_.active();
        // The failover moved on mid-segment: to the active pipeline at its
        // next part that starts with an IDR.
        if (source != failover_.active())
            if (const auto* h = held(failover_.active(), n); h && h->part->independent) {
                log::info("origin",
                          "{}: segment {} continues with pipeline {}'s parts from part {}", r.name,
                          it->first, failover_.active(), n);
                source = failover_.active();
            }
        const char other = source == 'a' ? 'b' : 'a';
        const Slot::HeldPart* next = held(source, n);
        if (!next) {
            const Slot::HeldPart* alternative = held(other, n);
            if (!alternative || !alternative->part->independent ||
                now < alternative->arrived_ms + grace)
                break;
            if (slot.part_source)
                log::info("origin",
                          "{}: segment {} continues with pipeline {}'s parts from part {}", r.name,
                          it->first, other, n);
            next = alternative;
        }
        slot.part_source = next->part->pipeline;
        slot.listed_parts.emplace_back(
            next->part, PreparedResponse::make(
                            make_response(boost::beast::http::status::ok, kMimeMp4, kSegmentCache,
                                          SharedBuffer::from_bytes(next->part->bytes))));
        changed = true;
    }
    return changed;
}

size_t SegmentStore::restore(std::vector<RestoredSegment> segments) {
    std::sort(segments.begin(), segments.end(), [](const auto& x, const auto& y) {
        return std::tie(x.segment.rendition, x.segment.sequence) <
               std::tie(y.segment.rendition, y.segment.sequence);
    });
    size_t restored = 0;
    std::lock_guard lock(mutex_);
    const int64_t t = now();
    for (auto it = segments.begin(); it != segments.end();) {
        auto end = std::find_if(it, segments.end(), [&](const RestoredSegment& s) {
            return s.segment.rendition != it->segment.rendition;
        });
        Rendition* r = find(it->segment.rendition);
        if (!r || r->listed_high != INT64_MIN) {
            log::warn("origin", "not restoring rendition {}: {}", it->segment.rendition,
                      r ? "it already lists segments" : "not in the ladder");
            it = end;
            continue;
        }
        // Only the newest window: the rest would be trimmed at once.
        if (end - it > options_.window_segments) it = end - options_.window_segments;
        for (; it != end; ++it) {
            if (!it->segment.bytes || it->segment.duration <= 0 ||
                it->segment.container != options_.container ||
                (it->segment.container == core::Container::fmp4) != bool(it->segment.init))
                continue;
            auto shared = std::make_shared<const core::Segment>(std::move(it->segment));
            if (shared->sequence <= r->listed_high) continue;  // a duplicate
            Slot slot;
            slot.first_arrival_ms = t;
            slot.served = 'r';
            slot.listed = true;
            slot.discontinuity = it->discontinuity;
            r->target.observe(shared->duration);
            slot.msn = r->listed_high == INT64_MIN ? shared->sequence : r->listed_msn + 1;
            r->listed_msn = slot.msn;
            r->listed_high = shared->sequence;
            r->restored_end = shared->start + shared->duration;
            slot.restored = std::move(shared);
            r->slots.emplace(r->listed_high, std::move(slot));
            ++restored;
        }
    }
    for (auto& r : renditions_)
        if (r.listed_high != INT64_MIN) render(r, t);
    render_master(t);
    return restored;
}

// Caller holds mutex_.
void SegmentStore::insert(Rendition& r, std::shared_ptr<const core::Segment> segment, int64_t now) {
    const int64_t seq = segment->sequence;
    Slot* slot = slot_for(r, seq);
    if (!slot) return;
    if (slot->first_arrival_ms == 0) slot->first_arrival_ms = now;
    auto& copy = segment->pipeline == 'a' ? slot->a : slot->b;
    if (copy) {
        log::debug("origin", "duplicate segment {}/{} from pipeline '{}' ignored", r.name, seq,
                   segment->pipeline);
        return;
    }
    r.target.observe(segment->duration);
    failover_.on_arrival({segment->pipeline, seq, segment->slate, segment->health, now});
    copy = std::move(segment);
}

// Caller holds mutex_.
bool SegmentStore::publish(Rendition& r, int64_t now) {
    const int64_t grace = options_.failover.late_after_ms;
    bool changed = false;
    for (auto it = r.slots.upper_bound(r.listed_high); it != r.slots.end(); ++it) {
        auto& [seq, slot] = *it;
        if (slot.hidden) continue;
        const bool first = r.listed_high == INT64_MIN;
        bool contiguous = first || seq == r.listed_high + 1;
        // The last run's last segment may have been cut short at its stop:
        // then media is missing although the numbers follow.
        if (contiguous && r.restored_end != INT64_MIN) {
            const core::Segment* any = slot.a ? slot.a.get() : slot.b.get();
            if (any && any->start > r.restored_end + kJoinTolerance) contiguous = false;
        }
        // A hole: give the other pipeline its chance to fill it first.
        if (!contiguous && now < slot.first_arrival_ms + grace) break;
        // Parts only, so far: a hole until a whole copy comes (if a later
        // segment does first, the hole rules below skip this one).
        if (slot.first_arrival_ms == 0) continue;
        char choice = slot.served ? slot.served : failover_.decide(seq, now);
        if (!choice) break;
        // Players have this segment's parts from one pipeline: its copy, whose
        // last part comes just before it. Another copy would leave them the
        // rest of the segment to skip (its parts do not follow theirs), so the
        // wait is as long as their buffer (PART-HOLD-BACK): a pipeline that
        // lost its input fills within that, and its copy comes.
        if (!slot.served && !slot.listed_parts.empty()) {
            if (slot.copy(slot.part_source))
                choice = slot.part_source;
            else if (now < slot.first_arrival_ms + std::max(grace, options_.part_hold_back / 90))
                break;
        }
        const core::Segment* chosen = slot.copy(choice);
        if (!chosen) {
            // This rendition's copy from the chosen pipeline is missing: the
            // other's, once the chosen one has had its time.
            const char other = choice == 'a' ? 'b' : 'a';
            if (!slot.copy(other) || now < slot.first_arrival_ms + grace) break;
            chosen = slot.copy(other);
        }
        slot.served = chosen->pipeline;
        // Players that took this segment's parts skip what was never listed.
        if (!slot.listed_parts.empty() && int(slot.listed_parts.size()) < chosen->parts)
            log::warn("origin",
                      "{}: segment {} listed with {} of its {} parts (pipeline {}'s next did not "
                      "come within {} ms): players skip the rest",
                      r.name, seq, slot.listed_parts.size(), chosen->parts, slot.part_source,
                      now - slot.first_arrival_ms);
        slot.listed = true;
        if (on_publish_) outbox_.published.push_back(slot.served == 'a' ? slot.a : slot.b);
        slot.discontinuity = !contiguous;
        r.restored_end = INT64_MIN;
        slot.msn = first ? seq : r.listed_msn + 1;
        r.listed_msn = slot.msn;
        r.listed_high = seq;
        record_latency(*chosen, now);
        changed = true;
    }
    if (changed) retire_and_trim(r);
    return list_parts(r, now) || changed;
}

void SegmentStore::publish_all(int64_t now) {
    failover_.tick(now);
    bool any = false;
    for (auto& r : renditions_)
        if (publish(r, now)) {
            render(r, now);
            any = true;
        }
    if (any) render_master(now);
}

namespace {

// A strong validator from the bytes: the same playlist has the same ETag
// on every origin and after a restart.
std::string etag_of(std::string_view body) {
    return fmt::format("\"{:016x}\"", core::content_hash(body));
}

constexpr std::string_view kPlaylistCache = "max-age=1";

ListedSegment listed_segment(const core::Segment& s, bool gap_before) {
    return {s.sequence,
            s.start,
            s.duration,
            s.bytes ? int64_t(s.bytes->size()) : 0,
            gap_before,
            s.container,
            s.init ? s.init->id : std::string(),
            {}};
}

Prepared prepared_playlist(std::string text, int64_t now_ms, int64_t previous_ms) {
    auto etag = etag_of(text);
    return PreparedResponse::make(
        make_response(boost::beast::http::status::ok, kMimePlaylist, kPlaylistCache,
                      SharedBuffer::from_string(std::move(text))),
        {std::move(etag), now_ms, previous_ms / 1000 != now_ms / 1000});
}

}  // namespace

Prepared SegmentStore::freeze(Slot& slot) const {
    if (!slot.response) {
        const core::Segment* s = slot.copy(slot.served);
        if (!s || !s->bytes) return nullptr;
        // Served from a file, so the kernel sends its pages as they are
        // (sendfile) instead of copying them at every request.
        auto body = SharedBuffer::file_copy(*s->bytes, options_.spool);
        if (!body) {
            if (spool_failures_++ == 0)
                log::warn("origin", "segment {}/{} and those after it served from memory: {}",
                          s->rendition, s->sequence, body.error().message);
            body = SharedBuffer::from_bytes(s->bytes);
        } else if (spool_failures_ > 0) {
            log::info("origin", "segments served from files again, after {} from memory",
                      spool_failures_);
            spool_failures_ = 0;
        }
        slot.response = PreparedResponse::make(make_response(boost::beast::http::status::ok,
                                                             segment_media_type(s->container),
                                                             kSegmentCache, std::move(*body)));
    }
    return slot.response;
}

// Caller holds mutex_.
Prepared SegmentStore::init_response(Rendition& r, const core::SharedInit& init) {
    auto& response = r.inits[init->id];
    if (!response)
        response = PreparedResponse::make(make_response(
            boost::beast::http::status::ok, kMimeMp4, kSegmentCache,
            SharedBuffer::from_string(std::string(init->bytes.begin(), init->bytes.end()))));
    return response;
}

// Caller holds mutex_.
void SegmentStore::render(Rendition& r, int64_t now) {
    auto view = std::make_shared<LiveView>();
    auto listed = window(r, options_.window_segments);
    if (listed.empty()) return;
    ListingWindow& w = view->window;
    w.kind = WindowKind::live;
    w.media_sequence = listed.front()->second.msn;
    w.discontinuity_sequence = r.discontinuity_sequence;
    w.configured_length = options_.segment_length;
    w.target_floor = r.target.seconds();
    w.segments.reserve(listed.size());
    for (auto* entry : listed) {
        const Slot& slot = entry->second;
        w.segments.push_back(listed_segment(*slot.copy(slot.served), slot.discontinuity));
    }
    if (options_.part_length > 0) add_low_latency(r, w, *view);
    const Slot& newest_slot = listed.back()->second;
    const core::Segment* newest = newest_slot.copy(newest_slot.served);
    view->info = {r.name + "/index.m3u8", newest->codecs, newest->width, newest->height,
                  newest->frame_rate};
    // Every copy chosen for good that is still held: listed, retained, or
    // served before its listing.
    for (auto& [sequence, slot] : r.slots)
        if (slot.served && (slot.listed || slot.response)) {
            view->segments.emplace_back(sequence, freeze(slot));
            const auto& init = slot.copy(slot.served)->init;
            if (init && std::none_of(view->inits.begin(), view->inits.end(),
                                     [&](const auto& i) { return i.first == init->id; }))
                view->inits.emplace_back(init->id, init_response(r, init));
        }
    const auto playlist = origin::media_playlist(w);
    view->playlist = prepared_playlist(render_media_playlist(playlist), now, r.rendered_ms);
    if (w.low_latency) {
        view->open_msn = open_msn(playlist);
        view->open_parts = int(w.low_latency->open.size());
        w.low_latency->skip = true;
        view->playlist_skip =
            prepared_playlist(render_media_playlist(origin::media_playlist(w)), now, r.rendered_ms);
        w.low_latency->skip = false;
        view->hint = {w.low_latency->next.sequence, w.low_latency->next.index};
    }
    r.rendered_ms = now;
    r.view.store(std::move(view));
    renderings_.fetch_add(1, std::memory_order_relaxed);
    if (!r.waiters.empty()) answer_waiters(r, now);
}

// Caller holds mutex_.
void SegmentStore::answer_waiters(Rendition& r, int64_t now) {
    const auto view = r.view.load();
    std::erase_if(r.waiters, [&](Waiter& w) {
        if (view && w.hinted.first >= 0) {
            auto it = std::lower_bound(
                view->parts.begin(), view->parts.end(), w.hinted,
                [](const auto& entry, const auto& key) { return entry.first < key; });
            if (it != view->parts.end() && it->first == w.hinted) {
                w.reply->complete(it->second);
                return true;
            }
        } else if (view && view->holds(w.msn, w.part)) {
            w.reply->complete(w.skip ? view->playlist_skip : view->playlist);
            return true;
        }
        if (now < w.deadline_ms) return false;
        auto timeout = make_error(boost::beast::http::status::service_unavailable, "not_yet",
                                  "what the request waited for did not come within three target "
                                  "durations");
        timeout.set(boost::beast::http::field::retry_after, "1");
        w.reply->complete(std::move(timeout));
        return true;
    });
}

Reply SegmentStore::blocking_playlist(std::string_view rendition, int64_t msn, int part,
                                      bool skip) {
    Rendition* r = find(rendition);
    if (!r) return Prepared();
    auto answer = [&](const LiveView& view) -> Reply {
        return skip && view.playlist_skip ? view.playlist_skip : view.playlist;
    };
    if (auto view = r->view.load(); view && view->holds(msn, part)) return answer(*view);
    std::lock_guard lock(mutex_);
    auto view = r->view.load();
    if (!view) return Prepared();
    if (view->holds(msn, part)) return answer(*view);
    auto pending = std::make_shared<PendingReply>();
    r->waiters.push_back(
        {msn, part, skip, {-1, -1}, now() + 3 * r->target.seconds() * int64_t(1000), pending});
    return pending;
}

Reply SegmentStore::hinted_part(std::string_view rendition, int64_t sequence, int k) {
    if (auto listed = live_part(rendition, sequence, k)) return listed;
    Rendition* r = find(rendition);
    if (!r) return Prepared();
    std::lock_guard lock(mutex_);
    if (auto listed = live_part(rendition, sequence, k)) return listed;
    auto view = r->view.load();
    if (!view || view->hint != std::pair{sequence, k}) return Prepared();
    auto pending = std::make_shared<PendingReply>();
    r->waiters.push_back(
        {0, -1, false, {sequence, k}, now() + 3 * r->target.seconds() * int64_t(1000), pending});
    return pending;
}

int64_t SegmentStore::last_msn(std::string_view rendition) const {
    const Rendition* r = find(rendition);
    auto view = r ? r->view.load() : nullptr;
    return view ? view->open_msn - 1 : -1;
}

// Caller holds mutex_. The open segment, the parts of the listed ones, the
// other renditions' reports, and the index of every listed part.
void SegmentStore::add_low_latency(const Rendition& r, ListingWindow& w, LiveView& view) const {
    auto listed_of = [](const Slot& slot) {
        std::vector<ListedPart> out;
        for (const auto& [part, response] : slot.listed_parts)
            out.push_back({part->sequence, part->index, part->duration, part->independent});
        return out;
    };
    for (auto& s : w.segments)
        if (auto it = r.slots.find(s.sequence); it != r.slots.end())
            s.parts = listed_of(it->second);
    LowLatencyWindow ll;
    ll.part_target = options_.part_length;
    ll.part_hold_back = options_.part_hold_back;
    const int64_t open = r.listed_high + 1;
    ll.next = {open, 0};
    if (auto it = r.slots.find(open); it != r.slots.end() && !it->second.listed_parts.empty()) {
        const Slot& slot = it->second;
        ll.open = listed_of(slot);
        ll.open_start = slot.listed_parts.front().first->start;
        ll.open_init_id = slot.listed_parts.front().first->init->id;
        const int next = ll.open.back().index + 1;
        const int per_segment = int(options_.segment_length / options_.part_length);
        ll.next = next < per_segment ? ListedPart{open, next} : ListedPart{open + 1, 0};
    }
    for (const auto& other : renditions_) {
        if (&other == &r || other.listed_high == INT64_MIN) continue;
        RenditionReport report{fmt::format("../{}/index.m3u8", other.name), other.listed_msn, -1};
        if (auto it = other.slots.find(other.listed_high + 1);
            it != other.slots.end() && !it->second.listed_parts.empty()) {
            report.last_msn = other.listed_msn + 1;
            report.last_part = it->second.listed_parts.back().first->index;
        } else if (auto last = other.slots.find(other.listed_high);
                   last != other.slots.end() && !last->second.listed_parts.empty()) {
            report.last_part = last->second.listed_parts.back().first->index;
        }
        ll.reports.push_back(std::move(report));
    }
    for (const auto& [sequence, slot] : r.slots)
        for (const auto& [part, response] : slot.listed_parts)
            view.parts.push_back({{sequence, part->index}, response});
    w.low_latency = std::move(ll);
}

// Caller holds mutex_.
void SegmentStore::render_master(int64_t now) {
    std::vector<Variant> variants;
    for (const auto& r : renditions_)
        if (auto view = r.view.load()) variants.push_back(variant(view->info, view->window));
    if (variants.empty()) return;
    master_.store(prepared_playlist(render_master_playlist(variants), now, master_rendered_ms_));
    master_rendered_ms_ = now;
    renderings_.fetch_add(1, std::memory_order_relaxed);
}

// Caller holds mutex_.
void SegmentStore::retire_and_trim(Rendition& r) {
    // Slots that left the window: count their discontinuities once.
    auto listed = window(r, options_.window_segments);
    if (listed.empty()) return;
    const int64_t window_start = listed.front()->first;
    for (auto& [s, slot] : r.slots) {
        if (s >= window_start) break;
        if (!slot.listed || slot.retired) continue;
        slot.retired = true;
        if (slot.discontinuity) ++r.discontinuity_sequence;
    }
    // Retention: the newest `keep` listed slots and anything newer.
    const int keep = options_.retained_segments();
    auto kept = window(r, keep);
    if (int(kept.size()) == keep)
        r.slots.erase(r.slots.begin(), r.slots.lower_bound(kept.front()->first));
    std::erase_if(r.inits, [&](const auto& entry) {
        return std::none_of(r.slots.begin(), r.slots.end(), [&](const auto& held) {
            for (char p : {'a', 'b', 'r'})
                if (const core::Segment* c = held.second.copy(p);
                    c && c->init && c->init->id == entry.first)
                    return true;
            return false;
        });
    });
}

// Caller holds mutex_.
void SegmentStore::record_latency(const core::Segment& s, int64_t now) {
    if (s.input_utc_ms <= 0) return;
    log::debug("origin", "listed {}/{} from pipeline '{}' {} ms after its last frame entered",
               s.rendition, s.sequence, s.pipeline, now - s.input_utc_ms);
    latencies_ms_.push_back(std::max<int64_t>(0, now - s.input_utc_ms));
    while (latencies_ms_.size() > kLatencySamples) latencies_ms_.pop_front();
}

void SegmentStore::tick() {
    {
        std::lock_guard lock(mutex_);
        publish_all(now());
        for (auto& r : renditions_)
            if (!r.waiters.empty()) answer_waiters(r, now());
        stash_events();
    }
    deliver();
}

bool SegmentStore::manual_switch(char to) {
    bool ok = false;
    {
        std::lock_guard lock(mutex_);
        ok = failover_.manual_switch(to, now());
        stash_events();
    }
    deliver();
    return ok;
}

std::optional<MediaPlaylist> SegmentStore::pipeline_listing(std::string_view rendition,
                                                            char pipeline) const {
    ListingWindow w;
    w.configured_length = options_.segment_length;
    w.uri_suffix = fmt::format("?pipeline={}", pipeline);
    {
        std::lock_guard lock(mutex_);
        const Rendition* r = find(rendition);
        if (!r) return std::nullopt;
        w.target_floor = r->target.seconds();
        for (auto it = r->slots.rbegin();
             it != r->slots.rend() && int(w.segments.size()) < options_.window_segments; ++it)
            if (const auto* c = it->second.copy(pipeline))
                w.segments.push_back(listed_segment(*c, false));
    }
    if (w.segments.empty()) return std::nullopt;
    std::reverse(w.segments.begin(), w.segments.end());
    return origin::media_playlist(w);
}

Prepared SegmentStore::live_playlist(std::string_view rendition) const {
    const Rendition* r = find(rendition);
    if (!r) return nullptr;
    auto view = r->view.load();
    return view ? view->playlist : nullptr;
}

Prepared SegmentStore::live_master() const {
    return master_.load();
}

Prepared SegmentStore::live_segment(std::string_view rendition, int64_t sequence) {
    Rendition* r = find(rendition);
    if (!r) return nullptr;
    if (auto view = r->view.load()) {
        auto it = std::lower_bound(view->segments.begin(), view->segments.end(), sequence,
                                   [](const auto& entry, int64_t s) { return entry.first < s; });
        if (it != view->segments.end() && it->first == sequence) return it->second;
    }
    // Not in the published index: held but not listed yet (a player asking
    // ahead), or not held at all.
    std::lock_guard lock(mutex_);
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return nullptr;
    Slot& slot = it->second;
    if (!slot.served) {
        char active = failover_.active();
        slot.served = slot.copy(active) ? active : (slot.a ? 'a' : 'b');
    }
    return freeze(slot);
}

Prepared SegmentStore::live_init(std::string_view rendition, std::string_view id) {
    Rendition* r = find(rendition);
    if (!r) return nullptr;
    if (auto view = r->view.load())
        for (const auto& [known, response] : view->inits)
            if (known == id) return response;
    // Not served yet: a copy held but not listed (a pipeline's own, a player ahead).
    std::lock_guard lock(mutex_);
    for (const auto& [sequence, slot] : r->slots)
        for (char p : {'a', 'b', 'r'})
            if (const core::Segment* c = slot.copy(p); c && c->init && c->init->id == id)
                return init_response(*r, c->init);
    return nullptr;
}

Prepared SegmentStore::live_part(std::string_view rendition, int64_t sequence, int k) const {
    const Rendition* r = find(rendition);
    if (!r) return nullptr;
    auto view = r->view.load();
    if (!view) return nullptr;
    auto it =
        std::lower_bound(view->parts.begin(), view->parts.end(), std::pair{sequence, k},
                         [](const auto& entry, const auto& key) { return entry.first < key; });
    return it != view->parts.end() && it->first == std::pair{sequence, k} ? it->second : nullptr;
}

std::optional<std::string> SegmentStore::media_playlist(std::string_view rendition) const {
    auto p = live_playlist(rendition);
    if (!p) return std::nullopt;
    return std::string(p->body().view());
}

std::optional<std::string> SegmentStore::master_playlist() const {
    auto p = live_master();
    if (!p) return std::nullopt;
    return std::string(p->body().view());
}

core::SharedBytes SegmentStore::segment(std::string_view rendition, int64_t sequence) {
    if (!live_segment(rendition, sequence)) return nullptr;  // chooses and freezes its copy
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return nullptr;
    const core::Segment* s = it->second.copy(it->second.served);
    return s ? s->bytes : nullptr;
}

core::SharedBytes SegmentStore::pipeline_copy(std::string_view rendition, int64_t sequence,
                                              char pipeline) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    if (!r) return nullptr;
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return nullptr;
    const core::Segment* copy = it->second.copy(pipeline);
    return copy ? copy->bytes : nullptr;
}

char SegmentStore::served_copy(std::string_view rendition, int64_t sequence) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    if (!r) return 0;
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return 0;
    return it->second.served;
}

FailoverStatus SegmentStore::failover_status() const {
    FailoverStatus out;
    std::lock_guard lock(mutex_);
    out.mode = options_.failover.mode;
    out.active = failover_.active();
    out.manual_hold = failover_.manual_hold();
    out.switches = failover_.switches();
    const auto& recent = failover_.recent_switches();
    out.recent_switches.assign(recent.begin(), recent.end());
    if (!recent.empty()) out.last_switch = recent.back();
    out.a = failover_.view('a');
    out.b = failover_.view('b');
    if (!latencies_ms_.empty()) {
        std::vector<int64_t> sorted(latencies_ms_.begin(), latencies_ms_.end());
        std::sort(sorted.begin(), sorted.end());
        out.latency_samples = int64_t(sorted.size());
        out.latency_median_ms = sorted[sorted.size() / 2];
        out.latency_worst_ms = sorted.back();
    }
    return out;
}

std::optional<int64_t> SegmentStore::newest_listed(std::string_view rendition) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    if (!r || r->listed_high == INT64_MIN) return std::nullopt;
    return r->listed_high;
}

std::size_t SegmentStore::held(std::string_view rendition) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    return r ? r->slots.size() : 0;
}

std::optional<int64_t> SegmentStore::newest_sequence(std::string_view rendition) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    if (!r || r->slots.empty()) return std::nullopt;
    return r->slots.rbegin()->first;
}

int64_t SegmentStore::refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
}

}  // namespace onair::origin
