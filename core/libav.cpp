#include "core/libav.hpp"

#include <algorithm>
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

Result<std::unique_ptr<MemoryInput>> MemoryInput::open(std::vector<uint8_t> bytes) {
    auto input = std::make_unique<MemoryInput>(std::move(bytes));
    constexpr int kBufferSize = 64 * 1024;
    auto* buffer = static_cast<uint8_t*>(av_malloc(kBufferSize));
    if (buffer)
        input->io_.reset(avio_alloc_context(buffer, kBufferSize, 0, input.get(), &MemoryInput::read,
                                            nullptr, &MemoryInput::seek));
    if (!input->io_) {
        av_free(buffer);
        return fail("out of memory", AVERROR(ENOMEM));
    }
    return input;
}

int MemoryInput::read(void* opaque, uint8_t* out, int size) {
    auto* self = static_cast<MemoryInput*>(opaque);
    const size_t left = self->bytes_.size() - self->at_;
    if (left == 0) return AVERROR_EOF;
    const size_t n = std::min(left, size_t(size));
    std::copy_n(self->bytes_.data() + self->at_, n, out);
    self->at_ += n;
    return int(n);
}

int64_t MemoryInput::seek(void* opaque, int64_t offset, int whence) {
    auto* self = static_cast<MemoryInput*>(opaque);
    const auto size = int64_t(self->bytes_.size());
    if (whence & AVSEEK_SIZE) return size;
    int64_t to = (whence & ~AVSEEK_FORCE) == SEEK_CUR   ? int64_t(self->at_) + offset
                 : (whence & ~AVSEEK_FORCE) == SEEK_END ? size + offset
                                                        : offset;
    if (to < 0 || to > size) return AVERROR(EINVAL);
    self->at_ = size_t(to);
    return to;
}

}  // namespace onair::core
