#pragma once
// The origin's live segment store and the playlists rendered from it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/segment.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

// What the copy choice needs to know about one pipeline's copy of a sequence.
struct CopyInfo {
    bool present = false;
    bool slate = false;
};

// Which copy of one sequence to serve: 'a' or 'b', 0 when neither is there.
// A copy with real content beats slate; between equals, `preferred` wins
// (today always 'a'; failover will pass the active pipeline).
char choose_copy(CopyInfo a, CopyInfo b, char preferred = 'a');

struct StoreOptions {
    std::string channel;
    std::vector<std::string> renditions;  // ladder order; others are refused
    int64_t segment_length = 6 * 90000;   // 90 kHz ticks (configured length)
    int window_segments = 10;             // listed per playlist (at least 3)
    // Held per rendition, listed or not; 2 x window + 2 keeps a segment
    // downloadable for a window's length after it leaves the playlist.
    int retained_segments() const { return 2 * window_segments + 2; }

    // Renditions from the ladder, window = hls.window / hls.segment (>= 3).
    static StoreOptions from_config(const core::ChannelConfig& config);
};

// Holds the segments of every rendition, per sequence number a slot with
// pipeline A's and/or B's copy, and renders the live playlists from them.
// In: on_segment() from any pipeline thread. Out: playlists and segment bytes
// to the HTTP threads. Thread-safe; one mutex, held only to copy out
// metadata and shared pointers, never while rendering or writing.
// Owns the segments (shared with responses in flight through SharedBytes).
// Listing a sequence in a playlist or serving it freezes which copy it
// serves, so one URI never gives a player two different copies.
class SegmentStore : public core::SegmentSink {
  public:
    explicit SegmentStore(StoreOptions options);
    ~SegmentStore() override;
    SegmentStore(const SegmentStore&) = delete;
    SegmentStore& operator=(const SegmentStore&) = delete;

    void on_segment(core::Segment segment) override;

    const StoreOptions& options() const { return options_; }
    bool has_rendition(std::string_view rendition) const;

    // The live media playlist; nullopt for an unknown rendition or one with
    // no segment yet. Freezes the copy choice of every listed sequence.
    std::optional<std::string> media_playlist(std::string_view rendition);
    // What media_playlist renders (same effects).
    std::optional<MediaPlaylist> media_listing(std::string_view rendition);
    // The master playlist over the renditions that have segments, in ladder
    // order; nullopt while none has.
    std::optional<std::string> master_playlist() const;
    std::vector<Variant> variants() const;
    // One segment's bytes; null when not held. Freezes its copy choice.
    core::SharedBytes segment(std::string_view rendition, int64_t sequence);
    // One pipeline's own copy, listed or not (monitoring and alignment
    // checks); null when that pipeline's copy is not held. Freezes nothing.
    core::SharedBytes pipeline_copy(std::string_view rendition, int64_t sequence,
                                    char pipeline) const;
    // The pipeline whose copy `sequence` serves now (0 when not held).
    char served_copy(std::string_view rendition, int64_t sequence) const;

    // Introspection for status pages and tests.
    std::size_t held(std::string_view rendition) const;
    std::optional<int64_t> newest_sequence(std::string_view rendition) const;
    int64_t refused() const;

  private:
    struct Slot {
        std::shared_ptr<const core::Segment> a, b;
        char frozen = 0;             // the copy served for good, once listed or served
        bool hidden = false;         // arrived too late to be listed; still downloadable
        bool discontinuity = false;  // a gap before it; fixed once listed
        bool listed = false;
        bool retired = false;  // has left the window
        const core::Segment* pick() const;
        const core::Segment* freeze();
    };
    struct Rendition {
        std::string name;
        std::map<int64_t, Slot> slots;
        TargetDuration target;
        int64_t peak_bitrate = 0;
        int64_t discontinuity_sequence = 0;
        int64_t listed_high = INT64_MIN;  // newest sequence ever listed
        explicit Rendition(std::string n, int64_t segment_length)
            : name(std::move(n)), target(segment_length) {}
    };

    Rendition* find(std::string_view rendition);
    const Rendition* find(std::string_view rendition) const;
    // The newest `count` listable slots, oldest first. Caller holds mutex_.
    template <class R>
    static auto window(R& rendition, int count);
    void insert(Rendition& r, std::shared_ptr<const core::Segment> segment);

    const StoreOptions options_;
    mutable std::mutex mutex_;
    std::vector<Rendition> renditions_;  // ladder order; never resized
    int64_t refused_ = 0;
};

}  // namespace onair::origin
