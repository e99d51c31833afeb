#pragma once
// The failover choice: which pipeline's copy each sequence number serves.
// In: the arrival of every copy (pipeline, sequence, slate and content flags,
// when it came) and the clock; out: one final decision per sequence ('a' or
// 'b', or "wait" while the active pipeline may still deliver), the active
// pipeline, and a switch event whenever it changes. Pure logic, no locks and
// no I/O: the segment store calls it under its own mutex.
//
// The rules, per sequence N (due = when the first copy of N arrived):
//   - the active pipeline's healthy copy is served at once;
//   - it is replaced by the other's copy when it is slate (input loss) or
//     fails a content check (black, frozen, silent) and the other's is
//     healthy, or when it has not arrived `late_after` past due (late);
//   - real content always beats slate;
//   - primary-preferred: serving B, A's healthy copy is taken back once A has
//     been healthy (every copy on time and good) for `return_after`;
//   - equal: the active pipeline stays until it fails;
//   - a manual switch holds until the next automatic one.
// A switch changes nothing a player sees: the copies are aligned.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/segment.hpp"

namespace onair::origin {

enum class SwitchReason { late, input_loss, black, frozen, silence, primary_restored, manual };
const char* to_string(SwitchReason reason);

struct SwitchEvent {
    char from = 'a';
    char to = 'b';
    SwitchReason reason = SwitchReason::late;
    int64_t sequence = 0;  // the first sequence served from `to`
    int64_t utc_ms = 0;    // when the switch was made
};

struct FailoverSettings {
    core::FailoverMode mode = core::FailoverMode::primary_preferred;
    int64_t late_after_ms = 1000;
    int64_t return_after_ms = 10000;
    bool has_b = true;  // false: a single pipeline, whose copies are served as they come

    static FailoverSettings from_config(const core::FailoverConfig& config);
};

// What one copy of a sequence says about its pipeline.
struct CopyArrival {
    char pipeline = 'a';
    int64_t sequence = 0;
    bool slate = false;
    core::ContentHealth health;
    int64_t arrived_ms = 0;  // UTC
};

// What the status API shows of one pipeline.
struct PipelineView {
    int64_t last_sequence = -1;     // newest sequence it delivered; -1: none
    int64_t lag_ms = 0;             // how long after due its newest copy came
    int64_t last_arrival_ms = 0;    // UTC of its newest copy; 0: none
    int64_t late_segments = 0;      // sequences it missed past their deadline
    bool slate = false;             // its newest copy was slate
    core::ContentHealth health;     // its newest copy's content flags
    int64_t healthy_since_ms = -1;  // UTC since when every copy was good and on time; -1: not
};

class FailoverController {
  public:
    explicit FailoverController(FailoverSettings settings) : settings_(settings) {}

    // A copy of a sequence arrived (called once per rendition; flags are
    // the pipeline's, the same on every rendition).
    void on_arrival(const CopyArrival& copy);
    // The pipeline whose copy `sequence` serves, or 0 while the choice must
    // wait (or nothing of it arrived). Once non-zero it never changes.
    char decide(int64_t sequence, int64_t now_ms);
    // Decides every sequence whose deadline has passed; updates lateness.
    void tick(int64_t now_ms);
    // The operator's choice; returns false (and changes nothing) for a
    // pipeline other than 'a' or 'b'.
    bool manual_switch(char to, int64_t now_ms);

    char active() const { return active_; }
    int64_t switches() const { return switches_; }
    // The newest switches, oldest first (at most kRecentSwitches).
    static constexpr std::size_t kRecentSwitches = 20;
    const std::deque<SwitchEvent>& recent_switches() const { return recent_switches_; }
    bool manual_hold() const { return manual_hold_; }
    const PipelineView& view(char pipeline) const { return pipeline == 'b' ? b_ : a_; }
    const FailoverSettings& settings() const { return settings_; }
    // Switch events since the last call, oldest first.
    std::vector<SwitchEvent> take_events();

  private:
    struct Copy {
        bool present = false;
        bool slate = false;
        core::ContentHealth health;
        int64_t arrived_ms = 0;
        bool bad() const { return slate || !health.healthy(); }
    };
    struct Sequence {
        Copy a, b;
        int64_t due_ms = 0;  // first arrival of any copy
        char decision = 0;
        bool lateness_counted = false;
        Copy& copy(char p) { return p == 'b' ? b : a; }
    };

    void switch_to(char to, SwitchReason reason, int64_t sequence, int64_t now_ms);
    PipelineView& view_of(char p) { return p == 'b' ? b_ : a_; }
    void mark_late(Sequence& s, int64_t now_ms);
    static SwitchReason reason_for(const Copy& copy);

    FailoverSettings settings_;
    std::map<int64_t, Sequence> sequences_;
    char active_ = 'a';
    bool manual_hold_ = false;
    int64_t switches_ = 0;
    std::deque<SwitchEvent> recent_switches_;
    std::vector<SwitchEvent> events_;
    PipelineView a_, b_;
};

}  // namespace onair::origin
