#pragma once
// The origin's live segment store and the playlists rendered from it.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/segment.hpp"
#include "origin/failover.hpp"
#include "origin/http_message.hpp"
#include "origin/listing.hpp"
#include "origin/playlist.hpp"

namespace onair::origin {

struct StoreOptions {
    std::string channel;
    std::vector<std::string> renditions;  // ladder order; others are refused
    int64_t segment_length = 6 * 90000;   // 90 kHz ticks (configured length)
    int window_segments = 10;             // listed per playlist (at least 3)
    FailoverSettings failover;            // has_b: the channel has pipeline B
    // UTC now in ms; the system clock when empty (tests inject their own).
    std::function<int64_t()> now_ms;
    // Where the segments served are put as unnamed files (the channel's data
    // folder): sent from the page cache with sendfile(2). Empty: in memory.
    std::filesystem::path spool;
    // Segments in another container are refused.
    core::Container container = core::Container::ts;
    // LL-HLS (fmp4): the part length in ticks; 0: parts are not listed.
    int64_t part_length = 0;
    // PART-HOLD-BACK (ticks): three parts; with pipeline B at least a GOP
    // plus late_after, since a part-level failover waits for the other
    // pipeline's next IDR and a player's buffer must outlast that wait.
    int64_t part_hold_back = 0;
    // Held per rendition, listed or not; 2 x window + 2 keeps a segment
    // downloadable for a window's length after it leaves the playlist.
    int retained_segments() const { return 2 * window_segments + 2; }

    // Renditions from the ladder, window = hls.window / hls.segment (>= 3),
    // failover from the failover section and the inputs.
    static StoreOptions from_config(const core::ChannelConfig& config);
};

// A segment that was listed before a restart, brought back from the DVR
// (origin/dvr_restore.hpp) so the live playlists go on where they stopped.
struct RestoredSegment {
    core::Segment segment;
    bool discontinuity = false;  // listed after a gap, as it was
};

// The figures the status API and /metrics show of the failover.
struct FailoverStatus {
    core::FailoverMode mode = core::FailoverMode::primary_preferred;
    char active = 'a';
    bool manual_hold = false;
    int64_t switches = 0;
    std::optional<SwitchEvent> last_switch;
    std::vector<SwitchEvent> recent_switches;  // oldest first, the newest few
    PipelineView a, b;
    // From a segment's last frame entering its input to its listing (ms),
    // over the newest listings.
    int64_t latency_samples = 0;
    int64_t latency_median_ms = 0;
    int64_t latency_worst_ms = 0;
};

// Holds the segments of every rendition, per sequence number a slot with
// pipeline A's and/or B's copy, and renders the live playlists from them.
// In: on_segment() from any pipeline (or ingest) thread, tick() from the
// channel's timer, requests from the HTTP threads; restore() once at
// start-up. Out: playlists and segments as ready responses, switch events to
// `on_switch`, every copy it lists to `on_publish` (the DVR). Thread-safe.
//
// A sequence is listed (published) once the failover controller has chosen
// its copy, in order: a playlist never lists N+1 before N, and a hole is
// only skipped (with a discontinuity) once the other pipeline has had
// `late_after` to fill it. URIs carry the sequence; EXT-X-MEDIA-SEQUENCE
// counts listed segments, so a hole sliding out never moves the numbers a
// player has of the segments still listed. Listing or serving a sequence freezes its copy,
// so one URI never gives a player two different copies.
//
// Publishing happens only in on_segment() and tick(), never on a request.
// Each publish renders what changed, once: the rendition's media playlist
// and the master, as prepared responses (ETag, Last-Modified), and the index
// of the segments that rendition serves. Requests read those through one
// atomic pointer per rendition: they never take the lock publishing holds
// (one mutex, for slots and failover; handlers are called outside it, on
// whichever thread published, one call at a time, in the order things
// happened).
class SegmentStore : public core::SegmentSink {
  public:
    using SwitchHandler = std::function<void(const SwitchEvent&)>;
    // Each copy as it is listed, once, in sequence order per rendition.
    using PublishHandler = std::function<void(std::shared_ptr<const core::Segment>)>;

    explicit SegmentStore(StoreOptions options, SwitchHandler on_switch = {},
                          PublishHandler on_publish = {});
    ~SegmentStore() override;
    SegmentStore(const SegmentStore&) = delete;
    SegmentStore& operator=(const SegmentStore&) = delete;

    void on_segment(core::Segment segment) override;
    // LL-HLS: a part of a segment in progress. The open segment's parts are
    // listed in order from the active pipeline; when its next part is
    // `late_after` later than the other's copy, the other's is listed from
    // there on, but only if it starts with an IDR (the copies are not the
    // same bytes: a part after a switch must need nothing from before it).
    void on_part(core::Part part) override;
    // Lists `segments` (any renditions, any order) as they were before a
    // restart: the newest window of each rendition that has nothing listed
    // yet, discontinuity flags kept; they are not published again. A new
    // segment that follows the last restored one continues without a
    // discontinuity. Returns how many were restored. Call before segments come.
    size_t restore(std::vector<RestoredSegment> segments);
    // Publishes what the clock allows now (deadlines that passed) and
    // reports switches even while no player asks. Call every ~100 ms.
    void tick();
    // The operator's switch; false for a pipeline the channel does not have.
    bool manual_switch(char to);

    const StoreOptions& options() const { return options_; }
    bool has_rendition(std::string_view rendition) const;

    // What players get, as published last (no lock, no rendering):
    // the live media playlist of a rendition; null for an unknown one or
    // one with nothing listed yet.
    Prepared live_playlist(std::string_view rendition) const;
    // The master over the renditions that have listed segments, in ladder
    // order; null while none has.
    Prepared live_master() const;
    // One segment: the copy it serves, from the published index; a held
    // segment not listed yet is served (and frozen) under the lock. Null
    // when not held.
    Prepared live_segment(std::string_view rendition, int64_t sequence);

    // LL-HLS: part `k` of segment `sequence`, once listed; null otherwise.
    Prepared live_part(std::string_view rendition, int64_t sequence, int k) const;
    bool low_latency() const { return options_.part_length > 0; }
    // LL-HLS blocking playlist reload (RFC 8216bis 6.2.5.2): the playlist (or
    // its delta update) once it holds segment `msn` (part `part` of it; -1:
    // the whole segment), at once if it does; held until it does, answered
    // from the same rendering as every other request held for it; 503 after
    // three target durations. Null for an unknown rendition or one with
    // nothing listed yet.
    Reply blocking_playlist(std::string_view rendition, int64_t msn, int part, bool skip);
    // The part `k` of `sequence`: at once when listed, held when it is the
    // part the playlist hints (EXT-X-PRELOAD-HINT) until it is, else null.
    Reply hinted_part(std::string_view rendition, int64_t sequence, int k);
    // The newest complete segment's MSN (-1: none): the blocking limit's base.
    int64_t last_msn(std::string_view rendition) const;
    // An init section (fmp4) by id: one the listed or retained segments use,
    // else one any held copy uses. Null when none has it.
    Prepared live_init(std::string_view rendition, std::string_view id);
    // The bodies of live_playlist() and live_master() (for tests and tools).
    std::optional<std::string> media_playlist(std::string_view rendition) const;
    std::optional<std::string> master_playlist() const;
    // The newest window of one pipeline's own copies, whether served or not
    // (monitoring each encoder; a discontinuity wherever its numbers skip).
    // Freezes nothing; nullopt when that pipeline has no copy held.
    std::optional<MediaPlaylist> pipeline_listing(std::string_view rendition, char pipeline) const;
    // One segment's bytes; null when not held. Freezes its copy choice.
    core::SharedBytes segment(std::string_view rendition, int64_t sequence);
    // One pipeline's own copy, listed or not (monitoring and alignment
    // checks); null when that pipeline's copy is not held. Freezes nothing.
    core::SharedBytes pipeline_copy(std::string_view rendition, int64_t sequence,
                                    char pipeline) const;
    // The pipeline whose copy `sequence` serves (0 when not held or not
    // chosen yet, 'r' when restored from the DVR).
    char served_copy(std::string_view rendition, int64_t sequence) const;

    // Introspection for status pages and tests.
    FailoverStatus failover_status() const;
    std::size_t held(std::string_view rendition) const;
    std::optional<int64_t> newest_sequence(std::string_view rendition) const;
    std::optional<int64_t> newest_listed(std::string_view rendition) const;
    int64_t refused() const;
    // Renderings of playlists since start-up (each publish that changed one).
    int64_t renderings() const { return renderings_.load(std::memory_order_relaxed); }

  private:
    struct Slot {
        std::shared_ptr<const core::Segment> a, b;
        std::shared_ptr<const core::Segment> restored;  // from the DVR, served as copy r
        int64_t first_arrival_ms = 0;                   // of its first copy of the whole segment
        char served = 0;             // the copy served for good, once listed or served
        bool listed = false;         // published in the playlist
        bool hidden = false;         // came after its place was passed: downloadable only
        bool discontinuity = false;  // a gap before it; fixed once listed
        // Its Media Sequence Number (RFC 8216 6.2.1) once listed: one more
        // than the previous listed, so numbers stay dense across gaps (the
        // first listed takes its sequence: without gaps the two agree).
        int64_t msn = 0;
        bool retired = false;  // has left the window
        Prepared response;     // the served copy as players get it, once chosen
        // LL-HLS: each pipeline's parts (by index), whose are listed, and
        // those listed, in order, with their responses.
        struct HeldPart {
            std::shared_ptr<const core::Part> part;
            int64_t arrived_ms = 0;
        };
        std::vector<HeldPart> parts_a, parts_b;  // each in index order
        char part_source = 0;
        std::vector<std::pair<std::shared_ptr<const core::Part>, Prepared>> listed_parts;
        const core::Segment* copy(char p) const {
            return p == 'a' ? a.get() : p == 'b' ? b.get() : p == 'r' ? restored.get() : nullptr;
        }
    };
    // What players read of one rendition, replaced whole at each publish.
    struct LiveView {
        Prepared playlist;
        std::vector<std::pair<int64_t, Prepared>> segments;   // by sequence: what it serves
        std::vector<std::pair<std::string, Prepared>> inits;  // by id: those segments need
        // LL-HLS: the listed parts by (sequence, index); the delta update;
        // where the live edge is (the open segment's MSN and listed parts).
        std::vector<std::pair<std::pair<int64_t, int>, Prepared>> parts;
        Prepared playlist_skip;
        int64_t open_msn = 0;
        int open_parts = 0;
        std::pair<int64_t, int> hint{0, 0};  // the part EXT-X-PRELOAD-HINT names
        bool holds(int64_t msn, int part) const {
            return msn < open_msn || (msn == open_msn && part >= 0 && part < open_parts);
        }
        RenditionInfo info;  // of its newest listed copy
        ListingWindow window;
    };
    // A request held until the rendition's view has what it asks.
    struct Waiter {
        int64_t msn = 0;
        int part = -1;
        bool skip = false;
        std::pair<int64_t, int> hinted{-1, -1};  // a part request: which; else a playlist
        int64_t deadline_ms = 0;
        std::shared_ptr<PendingReply> reply;
    };
    struct Rendition {
        std::string name;
        std::vector<Waiter> waiters;
        std::map<int64_t, Slot> slots;
        std::map<std::string, Prepared, std::less<>> inits;  // by id, for the held slots
        TargetDuration target;
        int64_t discontinuity_sequence = 0;
        std::atomic<std::shared_ptr<const LiveView>> view;
        int64_t rendered_ms = 0;          // when its playlist last changed
        int64_t listed_high = INT64_MIN;  // newest sequence listed
        int64_t listed_msn = 0;           // its media sequence number
        // End (media time) of the last restored segment until the next is listed.
        int64_t restored_end = INT64_MIN;
        explicit Rendition(std::string n, int64_t segment_length)
            : name(std::move(n)), target(segment_length) {}
    };

    Rendition* find(std::string_view rendition);
    const Rendition* find(std::string_view rendition) const;
    // The newest `count` listed slots, oldest first. Caller holds mutex_.
    template <class R>
    static auto window(R& rendition, int count);
    // Caller holds mutex_ for all of these.
    void insert(Rendition& r, std::shared_ptr<const core::Segment> segment, int64_t now);
    // Each returns whether something was listed.
    bool publish(Rendition& r, int64_t now);
    void publish_all(int64_t now);
    // Renders r's view (and then the master) after a publish. Caller holds mutex_.
    void render(Rendition& r, int64_t now);
    void render_master(int64_t now);
    Prepared freeze(Slot& slot) const;
    // Creates the slot of `sequence` unless it is older than what is retained.
    Slot* slot_for(Rendition& r, int64_t sequence);
    // Lists the open segment's parts that can be; whether any was.
    bool list_parts(Rendition& r, int64_t now);
    void add_low_latency(const Rendition& r, ListingWindow& w, LiveView& view) const;
    // Answers the waiters r's new view satisfies (and, with `now`, those past
    // their deadline with 503). Caller holds mutex_.
    void answer_waiters(Rendition& r, int64_t now);
    Prepared init_response(Rendition& r, const core::SharedInit& init);
    void retire_and_trim(Rendition& r);
    void record_latency(const core::Segment& s, int64_t now);
    // What waits for the handlers, filled under mutex_.
    struct Outbox {
        std::vector<SwitchEvent> events;
        std::vector<std::shared_ptr<const core::Segment>> published;
        bool empty() const { return events.empty() && published.empty(); }
    };
    // Moves the controller's events into the outbox. Caller holds mutex_.
    void stash_events();
    // Hands the outbox to the handlers; call without mutex_. One thread
    // delivers at a time, so handlers see things in order; a thread that
    // finds another delivering leaves its part to it.
    void deliver();
    int64_t now() const;

    const StoreOptions options_;
    const SwitchHandler on_switch_;
    const PublishHandler on_publish_;
    std::mutex delivery_mutex_;  // held by the one thread delivering
    std::atomic<std::thread::id> delivering_{};
    mutable std::mutex mutex_;
    Outbox outbox_;
    FailoverController failover_;
    std::deque<Rendition> renditions_;  // ladder order; never resized
    std::atomic<std::shared_ptr<const PreparedResponse>> master_;
    int64_t master_rendered_ms_ = 0;
    std::deque<int64_t> latencies_ms_;  // newest last
    int64_t refused_ = 0;
    // Segments served from memory in a row because the spool could not be
    // written (a full disk): logged when it starts and when it ends.
    mutable int64_t spool_failures_ = 0;
    std::atomic<int64_t> renderings_{0};
};

}  // namespace onair::origin
