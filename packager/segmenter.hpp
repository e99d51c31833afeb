#pragma once
// Cuts one rendition of one pipeline into segments. Encoded video and audio
// packets in (media time), finished segments out to a SegmentSink.
// Segment N starts at the first video frame at or after N * length (an IDR,
// which the encoder forced there) and ends where segment N+1 starts; audio
// packets go to the segment their timestamp falls in. A segment is handed on
// once the video has moved past it and the audio has too (audio runs ahead of
// x264's lookahead, so it is held until the cut is known). Until it sees its
// first boundary a segmenter drops what it gets: a pipeline that starts late
// joins at the next boundary with the same numbering as its partner.
// A segment is marked slate when it overlaps input-loss fill (FillLog), and
// black/frozen/silent when it overlaps a failing content check (HealthLog).
// Each video packet says when its picture entered the pipeline; a segment's
// input_utc_ms is that of its last picture (the newest pts in it).
// LL-HLS (fmp4, grid.part > 0): each segment is also cut into parts on the
// part grid, each handed on (on_part) as soon as the next part has begun and
// the audio has caught up; a frame belongs to the part its place on the grid
// falls in (its decode time plus the segment's reorder delay, so B-frames
// stay in decode order). The segment's bytes are then its parts' bytes.
// Used from the pipeline thread only.
#include <deque>
#include <string>
#include <vector>

#include "core/fill_log.hpp"
#include "core/health_log.hpp"
#include "core/libav.hpp"
#include "core/media_time.hpp"
#include "core/segment.hpp"

namespace onair::packager {

struct SegmenterSettings {
    std::string rendition;
    char pipeline = 'a';
    core::SegmentGrid grid;
    core::Container container = core::Container::ts;
};

class Segmenter {
  public:
    Segmenter(SegmenterSettings settings, core::SegmentSink& sink, const core::FillLog& fill_log,
              const core::HealthLog& health_log, std::string component);
    // `entered`: UTC media time the packet's picture entered the pipeline
    // (kNoMediaTime: unknown).
    void video(const AVPacket& packet, const AVCodecParameters& params, core::Rational fps,
               int64_t entered);
    void audio(const AVPacket& packet, const AVCodecParameters& params);
    // End of the run: hands on what is left, the last segment ending after its last frame.
    void flush();
    int64_t segments_emitted() const { return emitted_; }

  private:
    struct Pending {
        int64_t sequence = 0;
        int64_t start = 0;                   // pts of its first (IDR) frame
        int64_t end = core::kNoMediaTime;    // start of the next segment, once known
        std::vector<core::PacketPtr> video;  // decode order
        std::vector<core::PacketPtr> audio;
        int64_t last_pts = core::kNoMediaTime;      // of its last picture
        int64_t last_entered = core::kNoMediaTime;  // when that picture entered
        std::vector<int64_t> entered;               // per video packet
        int64_t delay = 0;                          // its IDR's pts - dts
        core::Bytes parameter_sets;                 // its IDR's SPS/PPS (Annex B)
        // LL-HLS: where each part begins in `video`, its number, how many
        // were handed on, and their bytes in order (the segment's bytes).
        std::vector<size_t> part_begins;
        std::vector<int> part_numbers;
        size_t parts_emitted = 0;
        bool part_failed = false;
        core::Bytes part_bytes;
        int64_t part_start(size_t j) const {
            return j == 0 ? start : video[part_begins[j]]->dts + delay;
        }
        int64_t grid_end(const core::SegmentGrid& g) const { return g.start_of(sequence + 1); }
    };

    void open_segment(int64_t sequence, int64_t start);
    void place_audio(core::PacketPtr packet);
    void emit_ready();
    void emit(Pending& segment);
    void emit_ready_parts();
    // Hands on part j of `segment`, which ends at `end` (media time).
    void emit_part(Pending& segment, size_t j, int64_t end);
    // The init section for these bytes: the last one while they stay the same.
    core::SharedInit init_for(core::Bytes bytes, int64_t sequence);
    // The segment's bytes in the settings' container (and its init section).
    bool mux(Pending& segment, core::Segment& out);

    SegmenterSettings settings_;
    core::SegmentSink& sink_;
    const core::FillLog& fill_log_;
    const core::HealthLog& health_log_;
    std::string component_;

    bool joined_ = false;
    int64_t first_index_ = core::kNoMediaTime;
    std::deque<Pending> pending_;
    std::deque<core::PacketPtr> waiting_audio_;  // past the open segment's grid end
    int64_t newest_video_ = core::kNoMediaTime;
    int64_t newest_audio_ = core::kNoMediaTime;
    int64_t last_video_dts_ = core::kNoMediaTime;
    int64_t frame_ticks_ = 0;
    core::CodecParametersPtr video_params_, audio_params_;
    core::Rational fps_;
    std::string codecs_;
    core::SharedInit init_;  // the last init section, reused while its bytes stay the same
    int64_t emitted_ = 0;
};

}  // namespace onair::packager
