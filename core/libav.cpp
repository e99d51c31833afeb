#include "core/libav.hpp"

#include <new>

#include <fmt/format.h>

namespace onair::core {

std::string Options::leftover_keys() const {
    std::string keys;
    const AVDictionaryEntry* entry = nullptr;
    while ((entry = av_dict_get(dict_, "", entry, AV_DICT_IGNORE_SUFFIX))) {
        if (!keys.empty()) keys += ", ";
        keys += entry->key;
    }
    return keys;
}

FramePtr make_picture_like(const AVFrame& like) {
    FramePtr out(av_frame_alloc());
    if (!out) return nullptr;
    out->width = like.width;
    out->height = like.height;
    out->format = like.format;
    out->sample_aspect_ratio = like.sample_aspect_ratio;
    out->color_range = like.color_range;
    out->colorspace = like.colorspace;
    out->color_primaries = like.color_primaries;
    out->color_trc = like.color_trc;
    out->chroma_location = like.chroma_location;
    if (av_frame_get_buffer(out.get(), 0) < 0) return nullptr;
    return out;
}

FramePtr make_frame() {
    FramePtr frame(av_frame_alloc());
    if (!frame) throw std::bad_alloc();
    return frame;
}

PacketPtr make_packet() {
    PacketPtr packet(av_packet_alloc());
    if (!packet) throw std::bad_alloc();
    return packet;
}

CodecParametersPtr copy_parameters(const AVCodecParameters* source) {
    CodecParametersPtr copy(avcodec_parameters_alloc());
    if (!copy || avcodec_parameters_copy(copy.get(), source) < 0) throw std::bad_alloc();
    return copy;
}

std::string av_error_text(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(code, text, sizeof(text));
    return text;
}

std::unexpected<Error> av_fail(std::string_view what, int code) {
    return std::unexpected<Error>(Error{fmt::format("{}: {}", what, av_error_text(code)), code});
}

}  // namespace onair::core
