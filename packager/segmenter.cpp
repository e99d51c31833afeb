#include "packager/segmenter.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "media/h264.hpp"
#include "media/packet.hpp"
#include "packager/fmp4_muxer.hpp"
#include "packager/ts_muxer.hpp"

namespace onair::packager {
namespace {
constexpr size_t kMaxWaitingAudio = 512;
// Audio that has not caught up this long after the video cut is not coming.
constexpr int64_t kAudioPatience = 3 * core::kMediaClock;
}  // namespace

Segmenter::Segmenter(SegmenterSettings settings, core::SegmentSink& sink,
                     const core::FillLog& fill_log, const core::HealthLog& health_log,
                     std::string component)
    : settings_(std::move(settings)),
      sink_(sink),
      fill_log_(fill_log),
      health_log_(health_log),
      component_(std::move(component)) {}

void Segmenter::video(const AVPacket& packet, const AVCodecParameters& params, core::Rational fps,
                      int64_t entered) {
    if (packet.pts == AV_NOPTS_VALUE) return;
    if (!video_params_) {
        video_params_ = core::copy_parameters(&params);
        fps_ = fps;
        frame_ticks_ = fps.valid() ? core::kMediaClock * fps.den / fps.num : core::kMediaClock / 25;
    }
    // The muxer refuses decode times that do not increase; drop, don't fail.
    if (packet.dts != AV_NOPTS_VALUE && last_video_dts_ != core::kNoMediaTime &&
        packet.dts <= last_video_dts_)
        return;
    if (packet.dts != AV_NOPTS_VALUE) last_video_dts_ = packet.dts;
    const bool key = packet.flags & AV_PKT_FLAG_KEY;
    const int64_t index = settings_.grid.index_of(packet.pts);
    if (!joined_) {
        if (first_index_ == core::kNoMediaTime) first_index_ = index;
        if (!key || index <= first_index_) return;  // before the first boundary
        joined_ = true;
        log::info(component_, "first boundary at segment {}", index);
    }
    if (key && (pending_.empty() || index > pending_.back().sequence)) {
        if (codecs_.empty()) {
            if (auto avc = media::avc_codec_string(media::bytes_of(packet))) codecs_ = *avc;
        }
        open_segment(index, packet.pts);
    }
    auto copy = media::copy_packet(packet);
    if (!copy) return;  // out of memory: the frame is dropped, the stream goes on
    (*copy)->stream_index = 0;
    Pending& open = pending_.back();
    open.video.push_back(std::move(*copy));
    if (open.last_pts == core::kNoMediaTime || packet.pts > open.last_pts) {
        open.last_pts = packet.pts;
        open.last_entered = entered;
    }
    newest_video_ = std::max(newest_video_, packet.pts);
    emit_ready();
}

void Segmenter::audio(const AVPacket& packet, const AVCodecParameters& params) {
    if (packet.pts == AV_NOPTS_VALUE) return;
    if (!audio_params_) audio_params_ = core::copy_parameters(&params);
    if (newest_audio_ != core::kNoMediaTime && packet.pts <= newest_audio_) return;
    auto copy = media::copy_packet(packet);
    if (!copy) return;
    (*copy)->stream_index = 1;
    newest_audio_ = std::max(newest_audio_, packet.pts);
    place_audio(std::move(*copy));
    emit_ready();
}

void Segmenter::open_segment(int64_t sequence, int64_t start) {
    if (!pending_.empty()) pending_.back().end = start;
    Pending next;
    next.sequence = sequence;
    next.start = start;
    pending_.push_back(std::move(next));
    // Audio held back may belong to the segment just closed or to this one.
    std::deque<core::PacketPtr> held;
    held.swap(waiting_audio_);
    for (auto& packet : held) place_audio(std::move(packet));
}

void Segmenter::place_audio(core::PacketPtr packet) {
    if (pending_.empty()) {
        // Nothing open yet: keep the newest until the first segment starts.
        waiting_audio_.push_back(std::move(packet));
        if (waiting_audio_.size() > kMaxWaitingAudio) waiting_audio_.pop_front();
        return;
    }
    const int64_t pts = packet->pts;
    if (pts < pending_.front().start) return;  // before anything we will emit
    for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
        if (pts < it->start) continue;
        int64_t end = it->end != core::kNoMediaTime ? it->end : it->grid_end(settings_.grid);
        if (pts < end) {
            it->audio.push_back(std::move(packet));
        } else if (it == pending_.rbegin()) {
            // Past the open segment's boundary: wait for the next cut.
            waiting_audio_.push_back(std::move(packet));
            if (waiting_audio_.size() > kMaxWaitingAudio) waiting_audio_.pop_front();
        }
        return;
    }
}

void Segmenter::emit_ready() {
    while (pending_.size() >= 2) {
        Pending& front = pending_.front();
        bool audio_done = !audio_params_ || newest_audio_ >= front.end ||
                          newest_video_ - front.end > kAudioPatience;
        if (!audio_done) return;
        emit(front);
        pending_.pop_front();
    }
}

bool Segmenter::mux(Pending& segment, core::Segment& out) {
    const auto packets = media::interleave_by_dts(segment.video, segment.audio);
    // The last picture lasts one frame, so segment N's samples reach N+1's tfdt.
    if (!segment.video.empty() && segment.video.back()->duration <= 0)
        segment.video.back()->duration = frame_ticks_;
    const MuxInput input{video_params_.get(), segment.audio.empty() ? nullptr : audio_params_.get(),
                         packets};
    out.container = settings_.container;
    if (settings_.container == core::Container::ts) {
        auto bytes = mux_transport_stream(input);
        if (!bytes) {
            log::error(component_, "segment {}: {}", segment.sequence, bytes.error().message);
            return false;
        }
        out.bytes = std::make_shared<const core::Bytes>(std::move(*bytes));
        return true;
    }
    // mfhd numbers: the same on A and B, increasing (wrapping after 2^31 segments).
    auto muxed = mux_fragmented_mp4(input, segment.sequence % (INT32_MAX - 1) + 1);
    if (!muxed) {
        log::error(component_, "segment {}: {}", segment.sequence, muxed.error().message);
        return false;
    }
    if (!init_ || init_->bytes != muxed->init) {
        if (init_) log::info(component_, "segment {}: a new init section", segment.sequence);
        init_ = core::InitSection::of(std::move(muxed->init));
    }
    out.init = init_;
    out.bytes = std::make_shared<const core::Bytes>(std::move(muxed->media));
    return true;
}

void Segmenter::emit(Pending& segment) {
    if (segment.video.empty()) return;
    core::Segment out;
    if (!mux(segment, out)) return;
    out.rendition = settings_.rendition;
    out.pipeline = settings_.pipeline;
    out.sequence = segment.sequence;
    out.start = segment.start;
    out.duration = segment.end - segment.start;
    out.frames = int(segment.video.size());
    out.slate = fill_log_.overlaps(segment.start, segment.end);
    out.health = health_log_.overlaps(segment.start, segment.end);
    if (segment.last_entered != core::kNoMediaTime)
        out.input_utc_ms = core::media_to_utc_ms(segment.last_entered);
    out.width = video_params_->width;
    out.height = video_params_->height;
    out.frame_rate = fps_;
    out.codecs = codecs_.empty() ? "avc1.640028" : codecs_;
    if (!segment.audio.empty()) out.codecs += ",mp4a.40.2";
    ++emitted_;
    sink_.on_segment(std::move(out));
}

void Segmenter::flush() {
    if (pending_.empty()) return;
    Pending& last = pending_.back();
    if (last.end == core::kNoMediaTime) {
        int64_t newest = last.start;
        for (auto& p : last.video) newest = std::max(newest, p->pts);
        last.end = newest + frame_ticks_;
    }
    for (auto& segment : pending_) emit(segment);
    pending_.clear();
}

}  // namespace onair::packager
