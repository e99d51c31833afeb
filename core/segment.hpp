#pragma once
// A finished media segment as the packager hands it on, and the sink
// interface that receives it (the origin's store in-process, an HTTP push
// client when a pipeline runs in its own process).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/container.hpp"
#include "core/units.hpp"

namespace onair::core {

using Bytes = std::vector<uint8_t>;
using SharedBytes = std::shared_ptr<const Bytes>;

// A CMAF init section (ftyp + moov): what a player needs before a rendition's
// .m4s segments. Pipelines with the same encoder settings make the same bytes,
// hence the same id, so a failover never changes it.
struct InitSection {
    std::string id;  // init_id_of(bytes)
    Bytes bytes;
    static std::shared_ptr<const InitSection> of(Bytes bytes);
};
using SharedInit = std::shared_ptr<const InitSection>;

// Content checks that failed in a segment (each after its configured duration).
struct ContentHealth {
    bool black = false;
    bool frozen = false;
    bool silent = false;
    bool healthy() const { return !black && !frozen && !silent; }
    friend bool operator==(const ContentHealth&, const ContentHealth&) = default;
};

struct Segment {
    std::string rendition;     // ladder rung name
    char pipeline = 'a';       // 'a' or 'b'
    int64_t sequence = 0;      // floor(start / segment length)
    int64_t start = 0;         // media time of the first frame, 90 kHz since the epoch
    int64_t duration = 0;      // 90 kHz ticks
    int frames = 0;            // video frames
    bool slate = false;        // holds input-loss fill rather than real content
    ContentHealth health;      // black, frozen or silent content (when checked)
    int64_t input_utc_ms = 0;  // when its last frame entered the pipeline's input; 0: unknown
    int width = 0, height = 0;
    Rational frame_rate;
    std::string codecs;  // RFC 6381, e.g. "avc1.64001f,mp4a.40.2"
    Container container = Container::ts;
    SharedBytes bytes;  // the media segment (MPEG-TS, or CMAF's moof + mdat)
    SharedInit init;    // fmp4: the init section it needs; ts: null
    int parts = 0;      // LL-HLS: the parts it was handed on as first (its bytes, in order)

    double duration_seconds() const { return double(duration) / 90000.0; }
    int64_t utc_ms() const { return start / 90; }  // PROGRAM-DATE-TIME
    // Bits per second of this segment as served.
    int64_t bitrate() const {
        return duration > 0 && bytes ? int64_t(double(bytes->size()) * 8 * 90000 / duration) : 0;
    }
};

inline std::shared_ptr<const InitSection> InitSection::of(Bytes bytes) {
    auto init = std::make_shared<InitSection>();
    init->id = init_id_of({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    init->bytes = std::move(bytes);
    return init;
}

// One Low-Latency HLS part (fmp4 with hls.part): the frames of segment
// `sequence` from its part grid line k on (whole frames, decode order), as
// one moof + mdat. The parts of a segment, in order, are its bytes.
struct Part {
    std::string rendition;
    char pipeline = 'a';
    int64_t sequence = 0;  // of its segment
    int index = 0;         // k, from 0
    int64_t start = 0;     // media time of its first frame (presentation)
    int64_t duration = 0;  // ticks, to the next part's start
    int frames = 0;
    bool independent = false;  // starts with an IDR
    int64_t input_utc_ms = 0;  // when its last frame entered the pipeline's input; 0: unknown
    SharedBytes bytes;         // moof + mdat
    SharedInit init;
    double duration_seconds() const { return double(duration) / 90000.0; }
};

// Receives finished segments (and, in LL-HLS, each part before its segment).
// Implementations are thread-safe: each pipeline's thread calls them.
class SegmentSink {
  public:
    virtual ~SegmentSink() = default;
    virtual void on_segment(Segment segment) = 0;
    virtual void on_part(Part) {}
};

}  // namespace onair::core
