#include "origin/segment_store.hpp"

#include <algorithm>
#include <cmath>

#include "core/log.hpp"
#include "core/media_time.hpp"

namespace onair::origin {

char choose_copy(CopyInfo a, CopyInfo b, char preferred) {
    if (!a.present && !b.present) return 0;
    if (!a.present) return 'b';
    if (!b.present) return 'a';
    if (a.slate != b.slate) return a.slate ? 'b' : 'a';
    return preferred == 'b' ? 'b' : 'a';
}

StoreOptions StoreOptions::from_config(const core::ChannelConfig& config) {
    StoreOptions options;
    options.channel = config.channel;
    for (const auto& rung : config.ladder) options.renditions.push_back(rung.name);
    options.segment_length = core::micros_to_ticks(config.hls.segment);
    int64_t segment_us = config.hls.segment.count();
    int64_t count = segment_us > 0 ? config.hls.window.count() / segment_us : 0;
    options.window_segments = int(std::clamp<int64_t>(count, 3, 100000));
    return options;
}

const core::Segment* SegmentStore::Slot::pick() const {
    char choice = frozen;
    if (!choice) {
        choice = choose_copy({a != nullptr, a && a->slate}, {b != nullptr, b && b->slate});
    }
    return choice == 'a' ? a.get() : choice == 'b' ? b.get() : nullptr;
}

const core::Segment* SegmentStore::Slot::freeze() {
    const core::Segment* chosen = pick();
    if (chosen && !frozen) frozen = chosen->pipeline;
    return chosen;
}

SegmentStore::SegmentStore(StoreOptions options) : options_(std::move(options)) {
    renditions_.reserve(options_.renditions.size());
    for (const auto& name : options_.renditions)
        renditions_.emplace_back(name, options_.segment_length);
}

SegmentStore::~SegmentStore() = default;

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
        if (!it->second.hidden) out.push_back(&*it);
    std::reverse(out.begin(), out.end());
    return out;
}

void SegmentStore::on_segment(core::Segment segment) {
    if ((segment.pipeline != 'a' && segment.pipeline != 'b') || !segment.bytes ||
        segment.duration <= 0) {
        log::warn("origin", "refused segment {}/{} from pipeline '{}': incomplete",
                  segment.rendition, segment.sequence, segment.pipeline);
        std::lock_guard lock(mutex_);
        ++refused_;
        return;
    }
    auto shared = std::make_shared<const core::Segment>(std::move(segment));
    std::lock_guard lock(mutex_);
    Rendition* r = find(shared->rendition);
    if (!r) {
        ++refused_;
        log::warn("origin", "refused segment {}/{}: rendition not in the ladder", shared->rendition,
                  shared->sequence);
        return;
    }
    insert(*r, std::move(shared));
}

// Caller holds mutex_.
void SegmentStore::insert(Rendition& r, std::shared_ptr<const core::Segment> segment) {
    const int64_t seq = segment->sequence;
    const int window_count = options_.window_segments;
    const int keep = options_.retained_segments();

    auto it = r.slots.find(seq);
    if (it != r.slots.end()) {
        auto& copy = segment->pipeline == 'a' ? it->second.a : it->second.b;
        if (copy) {
            log::debug("origin", "duplicate segment {}/{} from pipeline '{}' ignored", r.name, seq,
                       segment->pipeline);
            return;
        }
        r.target.observe(segment->duration);
        r.peak_bitrate = std::max(r.peak_bitrate, segment->bitrate());
        copy = std::move(segment);
        return;
    }

    // A new sequence. Older than everything retained: too late to matter.
    auto current = window(r, keep);
    if (int(current.size()) == keep && seq < current.front()->first) {
        log::debug("origin", "segment {}/{} arrived after its retention; dropped", r.name, seq);
        return;
    }
    auto listed = window(r, window_count);
    Slot slot;
    // Behind what players have been shown, or behind a full window: it can
    // no longer be listed without rewriting the playlist's past.
    slot.hidden =
        seq < r.listed_high || (int(listed.size()) == window_count && seq < listed.front()->first);
    r.target.observe(segment->duration);
    r.peak_bitrate = std::max(r.peak_bitrate, segment->bitrate());
    (segment->pipeline == 'a' ? slot.a : slot.b) = std::move(segment);
    it = r.slots.emplace(seq, std::move(slot)).first;

    if (!it->second.hidden) {
        // Discontinuity flags of itself and of its listable neighbour after.
        auto prev = std::make_reverse_iterator(it);
        while (prev != r.slots.rend() && prev->second.hidden) ++prev;
        it->second.discontinuity = prev != r.slots.rend() && prev->first != seq - 1;
        auto next = std::next(it);
        while (next != r.slots.end() && next->second.hidden) ++next;
        if (next != r.slots.end() && !next->second.listed)
            next->second.discontinuity = next->first != seq + 1;
    }

    // Slots that left the window: count their discontinuities once.
    listed = window(r, window_count);
    const int64_t window_start = listed.front()->first;
    for (auto& [s, slot_ref] : r.slots) {
        if (s >= window_start) break;
        if (slot_ref.hidden || slot_ref.retired) continue;
        slot_ref.retired = true;
        if (slot_ref.discontinuity) ++r.discontinuity_sequence;
    }

    // Retention: keep the newest `keep` listable slots and anything newer.
    auto kept = window(r, keep);
    if (int(kept.size()) == keep) {
        const int64_t oldest = kept.front()->first;
        r.slots.erase(r.slots.begin(), r.slots.lower_bound(oldest));
    }
}

std::optional<MediaPlaylist> SegmentStore::media_listing(std::string_view rendition) {
    MediaPlaylist playlist;
    {
        std::lock_guard lock(mutex_);
        Rendition* r = find(rendition);
        if (!r) return std::nullopt;
        auto listed = window(*r, options_.window_segments);
        if (listed.empty()) return std::nullopt;
        playlist.target_duration = r->target.seconds();
        playlist.media_sequence = listed.front()->first;
        playlist.discontinuity_sequence = r->discontinuity_sequence;
        playlist.segments.reserve(listed.size());
        for (auto* entry : listed) {
            Slot& slot = entry->second;
            const core::Segment* s = slot.freeze();
            slot.listed = true;
            r->listed_high = std::max(r->listed_high, entry->first);
            playlist.segments.push_back(
                {entry->first, s->utc_ms(), s->duration, slot.discontinuity, {}});
        }
    }
    for (auto& entry : playlist.segments) entry.uri = segment_uri(entry.sequence);
    return playlist;
}

std::optional<std::string> SegmentStore::media_playlist(std::string_view rendition) {
    auto listing = media_listing(rendition);
    if (!listing) return std::nullopt;
    return render_media_playlist(*listing);
}

std::vector<Variant> SegmentStore::variants() const {
    std::vector<Variant> out;
    std::lock_guard lock(mutex_);
    for (const auto& r : renditions_) {
        auto listed = window(r, options_.window_segments);
        if (listed.empty()) continue;
        double bits = 0;
        int64_t ticks = 0;
        for (auto* entry : listed) {
            const core::Segment* s = entry->second.pick();
            bits += double(s->bytes->size()) * 8;
            ticks += s->duration;
        }
        const core::Segment* newest = listed.back()->second.pick();
        Variant v;
        v.uri = r.name + "/index.m3u8";
        v.bandwidth = r.peak_bitrate;
        v.average_bandwidth =
            ticks > 0 ? int64_t(std::llround(bits * core::kMediaClock / ticks)) : 0;
        v.codecs = newest->codecs;
        v.width = newest->width;
        v.height = newest->height;
        v.frame_rate = newest->frame_rate;
        out.push_back(std::move(v));
    }
    return out;
}

std::optional<std::string> SegmentStore::master_playlist() const {
    auto list = variants();
    if (list.empty()) return std::nullopt;
    return render_master_playlist(list);
}

core::SharedBytes SegmentStore::segment(std::string_view rendition, int64_t sequence) {
    std::lock_guard lock(mutex_);
    Rendition* r = find(rendition);
    if (!r) return nullptr;
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return nullptr;
    const core::Segment* s = it->second.freeze();
    return s ? s->bytes : nullptr;
}

core::SharedBytes SegmentStore::pipeline_copy(std::string_view rendition, int64_t sequence,
                                              char pipeline) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    if (!r) return nullptr;
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return nullptr;
    const auto& copy = pipeline == 'a' ? it->second.a : pipeline == 'b' ? it->second.b : nullptr;
    return copy ? copy->bytes : nullptr;
}

char SegmentStore::served_copy(std::string_view rendition, int64_t sequence) const {
    std::lock_guard lock(mutex_);
    const Rendition* r = find(rendition);
    if (!r) return 0;
    auto it = r->slots.find(sequence);
    if (it == r->slots.end()) return 0;
    const core::Segment* s = it->second.pick();
    return s ? s->pipeline : 0;
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
