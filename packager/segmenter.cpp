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
        if (packet.dts != AV_NOPTS_VALUE) pending_.back().delay = packet.pts - packet.dts;
        pending_.back().parameter_sets = media::parameter_sets(media::bytes_of(packet));
    }
    auto copy = media::copy_packet(packet);
    if (!copy) return;  // out of memory: the frame is dropped, the stream goes on
    (*copy)->stream_index = 0;
    if ((*copy)->dts == AV_NOPTS_VALUE) (*copy)->dts = packet.pts - pending_.back().delay;
    Pending& open = pending_.back();
    if (settings_.grid.part > 0) {
        const auto& grid = settings_.grid;
        const int64_t placed = (*copy)->dts + open.delay;
        const int k =
            std::clamp(int(core::floor_div(placed - grid.start_of(open.sequence), grid.part)), 0,
                       grid.parts_per_segment() - 1);
        if (open.part_begins.empty() || k > open.part_numbers.back()) {
            open.part_begins.push_back(open.video.size());
            open.part_numbers.push_back(open.part_begins.size() == 1 ? 0 : k);
        }
    }
    open.video.push_back(std::move(*copy));
    open.entered.push_back(entered);
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
    if (settings_.grid.part > 0) emit_ready_parts();
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
    // CMAF keeps the audio track in every init section, so one without audio
    // frames does not change it.
    const bool with_audio =
        settings_.container == core::Container::fmp4 ? bool(audio_params_) : !segment.audio.empty();
    const MuxInput input{video_params_.get(), with_audio ? audio_params_.get() : nullptr, packets};
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
    out.init = init_for(std::move(muxed->init), segment.sequence);
    out.bytes = std::make_shared<const core::Bytes>(std::move(muxed->media));
    return true;
}

core::SharedInit Segmenter::init_for(core::Bytes bytes, int64_t sequence) {
    if (!init_ || init_->bytes != bytes) {
        if (init_) log::info(component_, "segment {}: a new init section", sequence);
        init_ = core::InitSection::of(std::move(bytes));
    }
    return init_;
}

void Segmenter::emit_ready_parts() {
    for (auto& segment : pending_) {
        // A part is whole once the next one has begun (a segment's last one
        // once the segment is: emit() hands that on).
        while (segment.parts_emitted + 1 < segment.part_begins.size()) {
            const int64_t end = segment.part_start(segment.parts_emitted + 1);
            const bool audio_done =
                !audio_params_ || newest_audio_ >= end || newest_video_ - end > kAudioPatience;
            if (!audio_done) return;
            emit_part(segment, segment.parts_emitted, end);
        }
    }
}

void Segmenter::emit_part(Pending& segment, size_t j, int64_t end) {
    segment.parts_emitted = j + 1;
    const bool last = j + 1 == segment.part_begins.size();
    const size_t v0 = segment.part_begins[j];
    const size_t v1 = last ? segment.video.size() : segment.part_begins[j + 1];
    const int64_t from = segment.part_start(j);
    // Audio by time: the first part from the segment's start, the last to its end.
    auto audio_at = [&](int64_t t) {
        return std::lower_bound(segment.audio.begin(), segment.audio.end(), t,
                                [](const core::PacketPtr& p, int64_t v) { return p->pts < v; });
    };
    const auto a0 = j == 0 ? segment.audio.begin() : audio_at(from);
    const auto a1 = last ? segment.audio.end() : audio_at(end);
    const std::span<const core::PacketPtr> video(segment.video.begin() + long(v0),
                                                 segment.video.begin() + long(v1));
    const std::span<const core::PacketPtr> audio(a0, a1);
    if (video.empty()) return;
    if (video.back()->duration <= 0) video.back()->duration = frame_ticks_;
    const auto packets = media::interleave_by_dts(video, audio);
    const auto& grid = settings_.grid;
    const int64_t fragment = segment.sequence * grid.parts_per_segment() + segment.part_numbers[j];
    auto muxed = mux_fragmented_mp4(
        {video_params_.get(), audio_params_.get(), packets, segment.parameter_sets},
        fragment % (INT32_MAX - 1) + 1);
    if (!muxed) {
        log::error(component_, "segment {} part {}: {}", segment.sequence, j,
                   muxed.error().message);
        segment.part_failed = true;
        return;
    }
    core::Part part;
    part.rendition = settings_.rendition;
    part.pipeline = settings_.pipeline;
    part.sequence = segment.sequence;
    part.index = segment.part_numbers[j];
    part.start = from;
    part.duration = end - from;
    part.frames = int(video.size());
    part.independent = video.front()->flags & AV_PKT_FLAG_KEY;
    const int64_t entered =
        *std::max_element(segment.entered.begin() + long(v0), segment.entered.begin() + long(v1));
    if (entered != core::kNoMediaTime) part.input_utc_ms = core::media_to_utc_ms(entered);
    part.init = init_for(std::move(muxed->init), segment.sequence);
    segment.part_bytes.insert(segment.part_bytes.end(), muxed->media.begin(), muxed->media.end());
    part.bytes = std::make_shared<const core::Bytes>(std::move(muxed->media));
    sink_.on_part(std::move(part));
}

void Segmenter::emit(Pending& segment) {
    if (segment.video.empty()) return;
    core::Segment out;
    if (settings_.grid.part > 0) {
        while (segment.parts_emitted < segment.part_begins.size()) {
            const size_t j = segment.parts_emitted;
            emit_part(
                segment, j,
                j + 1 == segment.part_begins.size() ? segment.end : segment.part_start(j + 1));
        }
        out.parts = int(segment.part_begins.size());
    }
    if (out.parts > 0 && !segment.part_failed) {
        // Its parts, as players already have them.
        out.container = settings_.container;
        out.init = init_;
        out.bytes = std::make_shared<const core::Bytes>(std::move(segment.part_bytes));
    } else if (out.parts = 0; !mux(segment, out)) {
        return;
    }
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
