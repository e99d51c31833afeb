#include "ingest/ts_demux.hpp"

namespace onair::ingest {

std::expected<TsDemux, TsDemux::Refusal> TsDemux::open(AVIOContext* io, AVIOInterruptCB interrupt) {
    AVFormatContext* raw = avformat_alloc_context();
    if (!raw) return std::unexpected(Refusal{false, "out of memory"});
    raw->pb = io;
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    raw->interrupt_callback = interrupt;
    const AVInputFormat* mpegts = av_find_input_format("mpegts");
    if (avformat_open_input(&raw, nullptr, mpegts, nullptr) < 0)  // frees raw on error
        return std::unexpected(Refusal{true, {}});
    TsDemux demux;
    demux.format_.reset(raw);
    AVFormatContext* format = demux.format_.get();
    int rc = avformat_find_stream_info(format, nullptr);
    demux.video_ = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    demux.audio_ = av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, demux.video_, nullptr, 0);
    if (rc < 0) return std::unexpected(Refusal{false, core::av_error_text(rc)});
    if (demux.video_ < 0 && demux.audio_ < 0)
        return std::unexpected(Refusal{false, "no audio or video stream found"});
    for (unsigned i = 0; i < format->nb_streams; ++i)
        if (int(i) != demux.video_ && int(i) != demux.audio_)
            format->streams[i]->discard = AVDISCARD_ALL;
    return demux;
}

core::StreamsOpened TsDemux::streams() const {
    core::StreamsOpened opened;
    if (video_ >= 0) {
        AVStream* st = format_->streams[video_];
        opened.video = core::copy_parameters(st->codecpar);
        opened.video_time_base = st->time_base;
        opened.video_frame_rate = av_guess_frame_rate(format_.get(), st, nullptr);
    }
    if (audio_ >= 0) {
        AVStream* st = format_->streams[audio_];
        opened.audio = core::copy_parameters(st->codecpar);
        opened.audio_time_base = st->time_base;
    }
    return opened;
}

int TsDemux::read(AVPacket& packet) {
    return av_read_frame(format_.get(), &packet);
}

std::optional<core::MediaKind> TsDemux::kind_of(const AVPacket& packet) const {
    if (packet.stream_index == video_) return core::MediaKind::video;
    if (packet.stream_index == audio_) return core::MediaKind::audio;
    return std::nullopt;
}

}  // namespace onair::ingest
