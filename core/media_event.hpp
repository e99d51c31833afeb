#pragma once
// What an input hands to its pipeline: a new set of elementary streams, a
// compressed packet of one of them, or (for the built-in test signal) a raw
// frame. Timestamps stay in their stream's time base.
#include <variant>

#include "core/libav.hpp"

namespace onair::core {

enum class MediaKind { video, audio };

// The input (re)opened: decoders must be (re)made from these parameters.
struct StreamsOpened {
    CodecParametersPtr video;  // null when the input has no video
    CodecParametersPtr audio;  // null when the input has no audio
    AVRational video_time_base{1, 90000};
    AVRational audio_time_base{1, 90000};
    AVRational video_frame_rate{0, 1};  // as the demuxer guessed it; 0/1 unknown
};

struct MediaPacket {
    MediaKind kind;
    PacketPtr packet;
};

struct RawFrame {
    MediaKind kind;
    FramePtr frame;
    AVRational time_base;
};

using MediaEvent = std::variant<StreamsOpened, MediaPacket, RawFrame>;

}  // namespace onair::core
