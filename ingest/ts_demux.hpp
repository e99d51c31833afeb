#pragma once
// The MPEG-TS demuxer of a contribution feed: libavformat's mpegts demuxer
// reading through an AVIOContext the caller owns (the network input's, or
// memory for the fuzz target), the streams an input uses (the best video and
// the audio that goes with it; the rest discarded), and what each packet is.
// Not thread-safe; one per connection.
#include <optional>
#include <string>

#include "core/libav.hpp"
#include "core/media_event.hpp"
#include "core/result.hpp"

namespace onair::ingest {

class TsDemux {
  public:
    struct Refusal {
        // The bytes ended before the demuxer could start (the link went):
        // nothing to say about the input itself.
        bool ended = false;
        std::string why;  // for the operator when !ended
    };
    // Probes the streams. `io` must outlive the demuxer.
    static std::expected<TsDemux, Refusal> open(AVIOContext* io, AVIOInterruptCB interrupt);

    // The streams found, for the pipeline's decoders.
    core::StreamsOpened streams() const;
    // The next packet, or the demuxer's error (AVERROR_EOF at the end).
    int read(AVPacket& packet);
    // The packet's kind; nullopt for a stream the input does not use.
    std::optional<core::MediaKind> kind_of(const AVPacket& packet) const;

  private:
    core::InputFormatPtr format_;
    int video_ = -1;
    int audio_ = -1;
};

}  // namespace onair::ingest
