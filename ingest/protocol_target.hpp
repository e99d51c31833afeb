#pragma once
// Turns an input URL as users write it (core::InputSpec) into what
// libavformat's protocols take: a URL and an options dictionary.
// onair's SRT latency is in milliseconds (libsrt's convention); FFmpeg's srt
// protocol wants microseconds. RTP is read as UDP datagrams whose RTP header
// onair removes itself (RtpPayload), so every input is an MPEG-TS byte stream.
#include <string>

#include "core/config.hpp"
#include "core/libav.hpp"

namespace onair::ingest {

struct ProtocolTarget {
    std::string url;
    core::Options options;
};

ProtocolTarget protocol_target(const core::InputSpec& spec);

}  // namespace onair::ingest
