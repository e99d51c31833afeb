#include "packager/clip_media.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <span>
#include <system_error>

#include <fmt/format.h>

extern "C" {
#include <libavutil/opt.h>
}

#include "core/durable.hpp"
#include "core/libav.hpp"
#include "core/log.hpp"
#include "core/media_time.hpp"
#include "media/decoder.hpp"
#include "media/h264.hpp"
#include "media/packet.hpp"
#include "media/x264.hpp"
#include "packager/fmp4_muxer.hpp"
#include "packager/ts_muxer.hpp"

namespace onair::packager {
namespace {

namespace fs = std::filesystem;

using core::kMediaTimeBase;
constexpr int kVideo = 0;  // stream_index of every packet we hold
constexpr int kAudio = 1;
constexpr int64_t kDefaultFrameTicks = core::kMediaClock / 25;
constexpr const char* kComponent = "clips";

using media::bytes_of;
using media::parameter_sets;

// ---- Reading one segment ----------------------------------------------------

struct SegmentMedia {
    std::vector<core::PacketPtr> video;     // decode order, media time, kVideo
    std::vector<core::PacketPtr> audio;     // media time, kAudio
    core::CodecParametersPtr video_params;  // probed only when asked
    core::CodecParametersPtr audio_params;  // null: no audio stream
    int64_t frame_ticks = kDefaultFrameTicks;
};

std::string describe(const core::ClipSegmentFile& s) {
    return fmt::format("segment {} ({})", s.sequence, s.file.string());
}

// The shortest step between presentation times: one frame.
int64_t frame_ticks_of(const std::vector<core::PacketPtr>& video, int64_t fallback) {
    std::vector<int64_t> pts;
    pts.reserve(video.size());
    for (const auto& p : video) pts.push_back(p->pts);
    std::sort(pts.begin(), pts.end());
    int64_t best = 0;
    for (size_t i = 1; i < pts.size(); ++i) {
        int64_t step = pts[i] - pts[i - 1];
        if (step > 0 && (best == 0 || step < best)) best = step;
    }
    return best > 0 ? best : fallback;
}

// Media time for a demuxed timestamp: rescaled to 90 kHz, then unwrapped
// from 33 bits near `reference` (the segment's recorded start, then the
// stream's previous packet), so a wrap inside a segment is harmless too.
void to_media_time(AVPacket& p, AVRational time_base, int64_t& reference) {
    if (p.pts == AV_NOPTS_VALUE) p.pts = p.dts;
    if (p.dts == AV_NOPTS_VALUE) p.dts = p.pts;
    p.pts = core::unwrap_near(av_rescale_q(p.pts, time_base, kMediaTimeBase), reference);
    p.dts = core::unwrap_near(av_rescale_q(p.dts, time_base, kMediaTimeBase), p.pts);
    p.duration = av_rescale_q(p.duration, time_base, kMediaTimeBase);
    p.time_base = kMediaTimeBase;
    reference = p.pts;
}

// Times AAC frames from their ADTS headers. A PES carries several frames
// and only its first has a timestamp; the demuxer's parser fills in the
// others only in a probed stream. Each frame starts 1024 samples (per raw
// data block) after the one before.
class AdtsClock {
  public:
    // False when `p` is not an ADTS frame or nothing before it had a time.
    bool stamp(AVPacket& p, AVRational time_base, int64_t& reference) {
        static constexpr int kRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                         22050, 16000, 12000, 11025, 8000,  7350};
        if (p.size < 7 || p.data[0] != 0xff || (p.data[1] & 0xf6) != 0xf0) return false;
        const int rate_index = (p.data[2] >> 2) & 0xf;
        if (rate_index >= int(std::size(kRates))) return false;
        const int rate = kRates[rate_index];
        if (p.pts != AV_NOPTS_VALUE || p.dts != AV_NOPTS_VALUE || rate != rate_) {
            if (p.pts == AV_NOPTS_VALUE && p.dts == AV_NOPTS_VALUE) return false;
            to_media_time(p, time_base, reference);
            anchor_ = p.pts;
            samples_ = 0;
            rate_ = rate;
        }
        const int64_t begin = anchor_ + av_rescale(samples_, core::kMediaClock, rate);
        samples_ += 1024 * ((p.data[6] & 3) + 1);
        const int64_t end = anchor_ + av_rescale(samples_, core::kMediaClock, rate);
        p.pts = p.dts = reference = begin;
        p.duration = end - begin;
        p.time_base = kMediaTimeBase;
        return true;
    }

  private:
    int64_t anchor_ = 0;   // media time of the last stamped frame
    int64_t samples_ = 0;  // since then
    int rate_ = 0;
};

core::Result<> check_codecs(const AVStream* video, const AVStream* audio,
                            const core::ClipSegmentFile& s) {
    if (!video) return core::fail(fmt::format("{}: no video stream", describe(s)));
    if (video->codecpar->codec_id != AV_CODEC_ID_H264)
        return core::fail(fmt::format("{}: video is {}, not H.264", describe(s),
                                      avcodec_get_name(video->codecpar->codec_id)));
    if (audio && audio->codecpar->codec_id != AV_CODEC_ID_AAC)
        return core::fail(fmt::format("{}: audio is {}, not AAC", describe(s),
                                      avcodec_get_name(audio->codecpar->codec_id)));
    return {};
}

// A CMAF segment as the one MP4 a demuxer reads: its init section, then its
// fragments, from memory.
core::Result<std::unique_ptr<core::MemoryInput>> open_cmaf(const core::ClipSegmentFile& segment) {
    std::vector<uint8_t> bytes;
    for (const fs::path& path : {segment.init, segment.file}) {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return core::fail(
                fmt::format("{}: cannot read {}", describe(segment), path.filename().string()),
                AVERROR(ENOENT));
        bytes.insert(bytes.end(), std::istreambuf_iterator<char>(in), {});
    }
    return core::MemoryInput::open(std::move(bytes));
}

// MP4's length-prefixed H.264 as the Annex B the rest of this file reads
// (start codes, SPS/PPS in front of each IDR), with h264_mp4toannexb.
core::Result<core::BsfPtr> annex_b_filter(const AVStream& video) {
    AVBSFContext* raw = nullptr;
    int rc = av_bsf_alloc(av_bsf_get_by_name("h264_mp4toannexb"), &raw);
    if (rc < 0) return core::av_fail("h264_mp4toannexb", rc);
    core::BsfPtr bsf(raw);
    if ((rc = avcodec_parameters_copy(bsf->par_in, video.codecpar)) < 0)
        return core::av_fail("h264_mp4toannexb parameters", rc);
    bsf->time_base_in = video.time_base;
    if ((rc = av_bsf_init(bsf.get())) < 0) return core::av_fail("h264_mp4toannexb", rc);
    return bsf;
}

// Demuxes a whole segment into memory. `probe` also reads its streams'
// parameters (sizes, sample rate), which only the MP4's header and the
// decoders need; copying packets does without. A CMAF segment comes out as
// an MPEG-TS one would: Annex B video, media time.
core::Result<SegmentMedia> read_segment(const core::ClipSegmentFile& segment, bool probe) {
    std::error_code ec;
    if (!fs::is_regular_file(segment.file, ec))
        return core::fail(fmt::format("{}: file missing", describe(segment)), AVERROR(ENOENT));
    const bool cmaf = !segment.init.empty();
    std::unique_ptr<core::MemoryInput> stream;  // outlives the demuxer reading it
    AVFormatContext* raw = nullptr;
    int rc = 0;
    if (cmaf) {
        auto opened = open_cmaf(segment);
        if (!opened) return std::unexpected(opened.error());
        stream = std::move(*opened);
        raw = avformat_alloc_context();
        if (!raw) return core::fail("out of memory");
        raw->pb = stream->io();
        rc = avformat_open_input(&raw, nullptr, av_find_input_format("mp4"), nullptr);
    } else {
        rc = avformat_open_input(&raw, segment.file.c_str(), av_find_input_format("mpegts"),
                                 nullptr);
    }
    if (rc < 0) return core::av_fail(describe(segment), rc);
    core::InputFormatPtr format(raw);
    if (probe && (rc = avformat_find_stream_info(format.get(), nullptr)) < 0)
        return core::av_fail(describe(segment) + ": stream info", rc);
    const AVStream* video = nullptr;
    const AVStream* audio = nullptr;
    for (unsigned i = 0; i < format->nb_streams; ++i) {
        const AVStream* st = format->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !video) video = st;
        if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && !audio) audio = st;
    }
    if (auto ok = check_codecs(video, audio, segment); !ok) return std::unexpected(ok.error());

    core::BsfPtr annex_b;
    if (cmaf) {
        auto made = annex_b_filter(*video);
        if (!made) return std::unexpected(made.error());
        annex_b = std::move(*made);
    }
    SegmentMedia media;
    media.video_params = core::copy_parameters(annex_b ? annex_b->par_out : video->codecpar);
    if (audio) media.audio_params = core::copy_parameters(audio->codecpar);
    int64_t video_reference = segment.start, audio_reference = segment.start;
    bool seen_idr = false;
    AdtsClock audio_clock;
    for (;;) {
        auto packet = core::make_packet();
        rc = av_read_frame(format.get(), packet.get());
        if (rc == AVERROR_EOF) break;
        if (rc < 0) return core::av_fail(describe(segment) + ": read", rc);
        if (packet->stream_index == video->index && annex_b) {
            if ((rc = av_bsf_send_packet(annex_b.get(), packet.get())) < 0 ||
                (rc = av_bsf_receive_packet(annex_b.get(), packet.get())) < 0)
                return core::av_fail(describe(segment) + ": h264_mp4toannexb", rc);
        }
        if (packet->stream_index == video->index) {
            if (packet->pts == AV_NOPTS_VALUE && packet->dts == AV_NOPTS_VALUE) continue;
            // Frames before the first IDR cannot be decoded: only a damaged
            // segment has them.
            seen_idr = seen_idr || media::is_idr(bytes_of(*packet));
            if (!seen_idr) continue;
            to_media_time(*packet, video->time_base, video_reference);
            packet->stream_index = kVideo;
            media.video.push_back(std::move(packet));
        } else if (audio && packet->stream_index == audio->index) {
            // MP4 times each AAC frame; a PES only its first.
            if (cmaf)
                to_media_time(*packet, audio->time_base, audio_reference);
            else if (!audio_clock.stamp(*packet, audio->time_base, audio_reference))
                continue;
            packet->stream_index = kAudio;
            media.audio.push_back(std::move(packet));
        }
    }
    if (media.video.empty())
        return core::fail(fmt::format("{}: no decodable video", describe(segment)),
                          AVERROR_INVALIDDATA);
    media.frame_ticks = frame_ticks_of(media.video, kDefaultFrameTicks);
    for (auto& p : media.video)
        if (p->duration <= 0) p->duration = media.frame_ticks;
    return media;
}

// ---- Re-encoding a GOP's frames -----------------------------------------------

struct EncodeSettings {
    const core::Rung& rung;
    const core::EncoderConfig& encoder;
};

// The time base of one frame: what the live encoder uses, and what x264
// writes into the SPS's timing info.
AVRational frame_time_base(int64_t frame_ticks) {
    AVRational tb;
    av_reduce(&tb.num, &tb.den, frame_ticks, core::kMediaClock, INT32_MAX);
    return tb;
}

// libx264 from the live encoder's own setup (media/x264), at the size of the
// recording (which the copied GOPs have), its parameter sets under `sps_id`
// in the extradata (global header), `frames` in one GOP, on this thread.
core::Result<core::CodecContextPtr> open_encoder(const AVFrame& first, const EncodeSettings& s,
                                                 int64_t frame_ticks, int frames, int sps_id) {
    const AVRational tb = frame_time_base(frame_ticks);
    const media::X264Variant clip{.threads = {1},  // as the decoder
                                  .global_header = true,
                                  .sps_id = sps_id,
                                  .min_gop_frames = frames + 1};  // no key frame but the first
    return media::open_x264(s.rung, s.encoder, core::Rational{tb.den, tb.num},
                            media::PictureFormat::of(first), clip);
}

// The SPS/PPS re-encodes use. x264 set up like the live encoder writes
// byte for byte the recording's own, so a re-encode takes the recording's
// id and the stream keeps one set; when they differ (another x264, a rung
// changed since), each re-encode gets an id of its own (1, 2, ...) that the
// recording does not use, so no id ever has two meanings.
class ParameterSets {
  public:
    // `recording`: the recording's SPS and PPS, Annex B.
    explicit ParameterSets(core::Bytes recording)
        : recording_(std::move(recording)), taken_(media::parameter_set_ids(recording_)) {}
    const core::Bytes& recording() const { return recording_; }
    int recording_id() const { return taken_.empty() ? 0 : taken_.front(); }
    int fresh_id() {
        do ++last_;
        while (std::find(taken_.begin(), taken_.end(), last_) != taken_.end());
        return last_;
    }

  private:
    core::Bytes recording_;
    std::vector<int> taken_;
    int last_ = 0;
};

// Cut times come in whole milliseconds, and at 29.97 or 59.94 fps a frame's
// time given to the millisecond may be up to half of one after it: each bound
// reaches half a millisecond early, so the frame at T1 is kept and the frame
// at T2 is not, however the times were rounded.
constexpr int64_t kCutSlack = core::kMediaClock / 2000;

bool in_cut(const core::ClipCut& cut, int64_t pts) {
    return pts + kCutSlack >= cut.start && pts + kCutSlack < cut.end;
}

bool in_cut(const std::optional<core::ClipCut>& cut, int64_t pts) {
    return !cut || in_cut(*cut, pts);
}

// Decodes one GOP (decode order, media time) and re-encodes its frames whose
// presentation time is in the cut. Packets come back in decode order, in
// media time, the first an IDR carrying the parameter sets in-band.
class GopReencoder {
  public:
    GopReencoder(const EncodeSettings& settings, int64_t frame_ticks, ParameterSets& sets)
        : settings_(settings), frame_ticks_(frame_ticks), sets_(sets) {}

    core::Result<std::vector<core::PacketPtr>> run(std::span<const core::PacketPtr> gop,
                                                   const AVCodecParameters& params,
                                                   const core::ClipCut& cut) {
        cut_ = cut;
        wanted_ = int(std::count_if(gop.begin(), gop.end(),
                                    [&](const core::PacketPtr& p) { return in_cut(cut, p->pts); }));
        // One thread: less CPU than frame threads; a harvest job runs its
        // renditions side by side instead.
        auto decoder = media::open_decoder(params, kMediaTimeBase, media::CodecThreads{1});
        if (!decoder) return std::unexpected(decoder.error());
        decoder_ = std::move(*decoder);
        for (const auto& packet : gop) {
            // Decode order: no frame shown before `to` needs a packet decoded after it.
            if (packet->dts != AV_NOPTS_VALUE && packet->dts >= cut.end) break;
            int rc;
            while ((rc = avcodec_send_packet(decoder_.get(), packet.get())) == AVERROR(EAGAIN)) {
                if (auto ok = drain_decoder(); !ok) return std::unexpected(ok.error());
            }
            // A damaged frame is left out; the frames around it still count.
            if (rc < 0 && rc != AVERROR_INVALIDDATA) return core::av_fail("H.264 decoder", rc);
            if (auto ok = drain_decoder(); !ok) return std::unexpected(ok.error());
        }
        avcodec_send_packet(decoder_.get(), nullptr);
        if (auto ok = drain_decoder(); !ok) return std::unexpected(ok.error());
        if (!encoder_) return core::fail("no frame of the cut could be decoded");
        if (auto ok = encode(nullptr); !ok) return std::unexpected(ok.error());
        return std::move(out_);
    }

  private:
    core::Result<> drain_decoder() {
        auto frame = core::make_frame();
        for (;;) {
            int rc = avcodec_receive_frame(decoder_.get(), frame.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
            if (rc < 0) return core::av_fail("H.264 decoder", rc);
            int64_t pts = frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->best_effort_timestamp;
            if (in_cut(cut_, pts)) {
                frame->pts = pts;
                if (auto ok = encode(frame.get()); !ok) return ok;
            }
            av_frame_unref(frame.get());
        }
    }

    // Opens x264 with the recording's parameter set id, and again with a
    // fresh one if its sets come out different.
    core::Result<> open_encoder_for(const AVFrame& first) {
        auto c = open_encoder(first, settings_, frame_ticks_, wanted_, sets_.recording_id());
        if (!c) return std::unexpected(c.error());
        headers_ = parameter_sets({(*c)->extradata, size_t((*c)->extradata_size)});
        if (headers_ != sets_.recording()) {
            c = open_encoder(first, settings_, frame_ticks_, wanted_, sets_.fresh_id());
            if (!c) return std::unexpected(c.error());
            headers_ = parameter_sets({(*c)->extradata, size_t((*c)->extradata_size)});
        }
        if (headers_.empty()) return core::fail("x264 gave no SPS/PPS");
        encoder_ = std::move(*c);
        return {};
    }

    // The IDR with the parameter sets in front, as the live encoder sends it.
    core::Result<> prepend_headers(AVPacket& packet) {
        auto with = core::make_packet();
        int rc = av_new_packet(with.get(), int(headers_.size()) + packet.size);
        if (rc < 0) return core::av_fail("packet", rc);
        std::copy(headers_.begin(), headers_.end(), with->data);
        std::copy(packet.data, packet.data + packet.size, with->data + headers_.size());
        if ((rc = av_packet_copy_props(with.get(), &packet)) < 0)
            return core::av_fail("packet", rc);
        av_packet_unref(&packet);
        av_packet_move_ref(&packet, with.get());
        return {};
    }

    core::Result<> encode(AVFrame* frame) {
        const AVRational tb = frame_time_base(frame_ticks_);
        if (frame) {
            if (!encoder_) {
                if (auto ok = open_encoder_for(*frame); !ok) return ok;
                base_ = frame->pts;
            }
            const int64_t pts = av_rescale_q(frame->pts - base_, kMediaTimeBase, tb);
            if (pts <= last_pts_) return {};  // x264 refuses a repeated timestamp
            last_pts_ = pts;
            // The decoder left the source's picture types; only the first is forced.
            frame->pict_type = first_ ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
            first_ = false;
            frame->pts = pts;
        }
        int rc = avcodec_send_frame(encoder_.get(), frame);
        if (rc < 0) return core::av_fail("x264", rc);
        for (;;) {
            auto packet = core::make_packet();
            rc = avcodec_receive_packet(encoder_.get(), packet.get());
            if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
            if (rc < 0) return core::av_fail("x264", rc);
            if (out_.empty()) {
                if (auto ok = prepend_headers(*packet); !ok) return ok;
            }
            packet->pts = base_ + av_rescale_q(packet->pts, tb, kMediaTimeBase);
            packet->dts = base_ + av_rescale_q(packet->dts, tb, kMediaTimeBase);
            packet->duration = frame_ticks_;
            packet->time_base = kMediaTimeBase;
            packet->stream_index = kVideo;
            out_.push_back(std::move(packet));
        }
    }

    const EncodeSettings& settings_;
    int64_t frame_ticks_;
    ParameterSets& sets_;
    core::ClipCut cut_;
    int wanted_ = 0;
    core::CodecContextPtr decoder_, encoder_;
    core::Bytes headers_;
    int64_t base_ = 0;
    int64_t last_pts_ = INT64_MIN;
    bool first_ = true;
    std::vector<core::PacketPtr> out_;
};

// ---- Cutting one segment ------------------------------------------------------

// New references to `packets`, appended to `out`.
core::Result<> copy_packets(std::span<const core::PacketPtr> packets,
                            std::vector<core::PacketPtr>& out) {
    for (const auto& p : packets) {
        auto copy = media::copy_packet(*p);
        if (!copy) return std::unexpected(copy.error());
        out.push_back(std::move(*copy));
    }
    return {};
}

// A segment's packets after the cut, still in media time.
struct ClippedSegment {
    std::vector<core::PacketPtr> video;  // decode order
    std::vector<core::PacketPtr> audio;
    int64_t first = 0;  // presentation time of the first frame kept
    int64_t end = 0;    // after the last frame kept
    int copied_gops = 0, recoded_gops = 0, recoded_frames = 0;
};

// Splits the segment into GOPs (each from an IDR) and copies, drops or
// re-encodes each as the cut asks; keeps the AAC frames overlapping the cut.
// Where the cut ends inside a GOP it does not start in: the packets decoded
// before the first one the cut drops can only refer to each other, so they
// are kept as they are. How many (decode order), and the latest presentation
// time among them; nullopt when the cut starts inside the GOP, or when a
// frame kept after them would be shown before that.
struct CopiedHead {
    size_t packets = 0;
    int64_t last_pts = 0;
};

std::optional<CopiedHead> copyable_head(std::span<const core::PacketPtr> gop,
                                        const core::ClipCut& cut) {
    if (!in_cut(cut, gop.front()->pts)) return std::nullopt;  // closed GOP: the IDR shows first
    CopiedHead head{0, INT64_MIN};
    while (head.packets < gop.size() && in_cut(cut, gop[head.packets]->pts))
        head.last_pts = std::max(head.last_pts, gop[head.packets++]->pts);
    for (size_t i = head.packets; i < gop.size(); ++i)
        if (in_cut(cut, gop[i]->pts) && gop[i]->pts < head.last_pts) return std::nullopt;
    return head;
}

// A GOP the cut crosses into `out`. At the clip's end only the last few
// frames (B-frames that refer to an anchor the cut drops) are re-encoded, as
// a GOP of their own after the frames copied; at its start, every frame from
// the cut to the next IDR is.
core::Result<> cut_gop(std::span<const core::PacketPtr> gop, const core::ClipCut& cut,
                       const SegmentMedia& media, const EncodeSettings& settings,
                       ParameterSets& sets, ClippedSegment& out) {
    auto reencode = [&](const core::ClipCut& frames) {
        GopReencoder recoder(settings, media.frame_ticks, sets);
        return recoder.run(gop, *media.video_params, frames);
    };
    auto head = copyable_head(gop, cut);
    std::vector<core::PacketPtr> recoded;
    if (head && std::any_of(gop.begin() + ptrdiff_t(head->packets), gop.end(),
                            [&](const core::PacketPtr& p) { return in_cut(cut, p->pts); })) {
        auto rest = reencode({head->last_pts + kCutSlack + 1, cut.end});
        if (!rest) return std::unexpected(rest.error());
        recoded = std::move(*rest);
        // Decode times must go on increasing after the copied frames; if the
        // re-encode's would not, the whole GOP is re-encoded instead.
        if (!recoded.empty() && recoded.front()->dts <= gop[head->packets - 1]->dts) head.reset();
    }
    if (head) {
        if (auto ok = copy_packets(gop.first(head->packets), out.video); !ok) return ok;
    } else {
        auto whole = reencode(cut);
        if (!whole) return std::unexpected(whole.error());
        recoded = std::move(*whole);
    }
    if (recoded.empty()) return {};
    out.recoded_frames += int(recoded.size());
    ++out.recoded_gops;
    for (auto& p : recoded) out.video.push_back(std::move(p));
    return {};
}

core::Result<ClippedSegment> clip_segment(SegmentMedia& media,
                                          const std::optional<core::ClipCut>& cut,
                                          const EncodeSettings& settings, ParameterSets& sets) {
    ClippedSegment out;
    out.first = INT64_MAX;
    int64_t last = INT64_MIN;
    auto& video = media.video;
    for (size_t begin = 0; begin < video.size();) {
        size_t end = begin + 1;
        while (end < video.size() && !media::is_idr(bytes_of(*video[end]))) ++end;
        std::span<const core::PacketPtr> gop(video.data() + begin, end - begin);
        size_t kept = 0;
        for (const auto& p : gop) {
            if (!in_cut(cut, p->pts)) continue;
            ++kept;
            out.first = std::min(out.first, p->pts);
            last = std::max(last, p->pts);
        }
        if (kept == gop.size()) {
            if (auto ok = copy_packets(gop, out.video); !ok) return std::unexpected(ok.error());
            ++out.copied_gops;
        } else if (kept > 0) {
            auto ok = cut_gop(gop, *cut, media, settings, sets, out);
            if (!ok) return std::unexpected(ok.error());
        }
        begin = end;
    }
    if (out.video.empty()) return out;  // the cut only grazes this segment
    out.end = last + media.frame_ticks;
    for (auto& p : media.audio) {
        if (cut && (p->pts + p->duration <= cut->start || p->pts >= cut->end)) continue;
        out.audio.push_back(std::move(p));
    }
    return out;
}

// Video and audio in one decode-time order, video first on ties.
std::vector<AVPacket*> interleave(const ClippedSegment& c) {
    return media::interleave_by_dts(c.video, c.audio);
}

// ---- Output files ---------------------------------------------------------------

// A file written under a temporary name beside its final one, renamed into
// place by commit() and removed if never committed.
class TempFile {
  public:
    explicit TempFile(fs::path final_path) : final_(std::move(final_path)) {
        static std::atomic<int> count{0};
        temp_ = final_;
        temp_ += fmt::format(".{}.{}.tmp", getpid(), count++);
    }
    ~TempFile() {
        std::error_code ec;
        if (!committed_) fs::remove(temp_, ec);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const fs::path& path() const { return temp_; }
    core::Result<> commit() {
        std::error_code ec;
        fs::rename(temp_, final_, ec);
        if (ec) return core::fail(fmt::format("rename to {}: {}", final_.string(), ec.message()));
        committed_ = true;
        return {};
    }

  private:
    fs::path final_, temp_;
    bool committed_ = false;
};

// An MP4 (moov in front) of one H.264 and at most one AAC stream. Packets in
// come in 90 kHz; each stream's decode times are kept increasing. libavformat
// turns the Annex B samples into avcC form, and ADTS into raw AAC with its
// AudioSpecificConfig (movenc adds aac_adtstoasc itself).
class Mp4Writer {
  public:
    core::Result<> open(const fs::path& path, const AVCodecParameters& video,
                        const AVCodecParameters* audio) {
        AVFormatContext* raw = nullptr;
        int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", path.c_str());
        if (rc < 0) return core::av_fail("mp4 muxer", rc);
        format_.reset(raw);
        for (const AVCodecParameters* params : {&video, audio}) {
            if (!params) continue;
            AVStream* st = avformat_new_stream(raw, nullptr);
            if (!st) return core::fail("out of memory");
            rc = avcodec_parameters_copy(st->codecpar, params);
            if (rc < 0) return core::av_fail("mp4 stream parameters", rc);
            st->codecpar->codec_tag = 0;
            st->time_base = kMediaTimeBase;
        }
        AVIOContext* io = nullptr;
        rc = avio_open2(&io, path.c_str(), AVIO_FLAG_WRITE, nullptr, nullptr);
        if (rc < 0) return core::av_fail("open " + path.string(), rc);
        io_.reset(io);
        raw->pb = io;
        core::Options options;
        options.set("movflags", "+faststart");
        rc = avformat_write_header(raw, options.address());
        if (rc < 0) return core::av_fail("mp4 header", rc);
        return {};
    }

    // `packet` in 90 kHz; the muxer takes its data.
    core::Result<> write(AVPacket& packet) {
        av_packet_rescale_ts(&packet, kMediaTimeBase,
                             format_->streams[packet.stream_index]->time_base);
        int64_t& last = last_dts_[packet.stream_index];
        if (packet.dts <= last) {  // a join that went backwards: stay in order
            packet.dts = last + 1;
            packet.pts = std::max(packet.pts, packet.dts);
        }
        last = packet.dts;
        int rc = av_interleaved_write_frame(format_.get(), &packet);
        if (rc < 0) return core::av_fail("mp4 packet", rc);
        return {};
    }

    core::Result<> finish() {
        int rc = av_write_trailer(format_.get());
        if (rc < 0) return core::av_fail("mp4 trailer", rc);
        format_->pb = nullptr;
        AVIOContext* io = io_.release();
        rc = avio_closep(&io);
        if (rc < 0) return core::av_fail("close mp4", rc);
        return {};
    }

  private:
    core::ProtocolIoPtr io_;  // declared first: closed after the muxer is freed
    core::OutputFormatPtr format_;
    int64_t last_dts_[2] = {INT64_MIN, INT64_MIN};
};

// ---- Checks ---------------------------------------------------------------------

core::Result<> check_cut(const std::vector<core::ClipSegmentFile>& segments,
                         const std::optional<core::ClipCut>& cut) {
    if (segments.empty()) return core::fail("no segments");
    for (size_t i = 1; i < segments.size(); ++i)
        if (segments[i].start <= segments[i - 1].start)
            return core::fail(fmt::format("{} is not after {}", describe(segments[i]),
                                          describe(segments[i - 1])));
    if (!cut) return {};
    if (cut->start >= cut->end)
        return core::fail(
            fmt::format("cut start {} is not before its end {}", cut->start, cut->end));
    const int64_t first = segments.front().start;
    const int64_t last = segments.back().start + segments.back().duration;
    if (cut->start < first || cut->end > last)
        return core::fail(fmt::format("cut [{}, {}) is outside the segments [{}, {})", cut->start,
                                      cut->end, first, last));
    return {};
}

// The segments the cut overlaps (all without a cut), each file present.
core::Result<std::vector<core::ClipSegmentFile>> segments_in(
    const std::vector<core::ClipSegmentFile>& segments, const std::optional<core::ClipCut>& cut) {
    if (auto ok = check_cut(segments, cut); !ok) return std::unexpected(ok.error());
    std::vector<core::ClipSegmentFile> out;
    for (const auto& s : segments) {
        if (cut && (s.start + s.duration <= cut->start || s.start >= cut->end)) continue;
        std::error_code ec;
        if (!fs::is_regular_file(s.file, ec))
            return core::fail(fmt::format("{}: file missing", describe(s)), AVERROR(ENOENT));
        out.push_back(s);
    }
    if (out.empty()) return core::fail("no segment overlaps the cut");
    return out;
}

// The distinct SPS/PPS sets (Annex B, each as its IDR carries it) the
// samples of an MP4 refer to. A segment trim_segments wrote may carry a
// re-encode's own next to the recording's.
class ParameterSetList {
  public:
    void add(core::Bytes sets) {
        if (!sets.empty() && std::find(sets_.begin(), sets_.end(), sets) == sets_.end())
            sets_.push_back(std::move(sets));
    }
    void add_from(const std::vector<core::PacketPtr>& video) {
        for (const auto& p : video)
            if (media::is_idr(bytes_of(*p))) add(parameter_sets(bytes_of(*p)));
    }
    bool empty() const { return sets_.empty(); }
    core::Bytes joined() const {
        core::Bytes out;
        for (const auto& s : sets_) out.insert(out.end(), s.begin(), s.end());
        return out;
    }

  private:
    std::vector<core::Bytes> sets_;
};

// The MP4's video parameters: the first segment's, the avcC source all `sets`.
core::Result<core::CodecParametersPtr> mp4_video_parameters(const SegmentMedia& first,
                                                            ParameterSetList sets) {
    auto params = core::copy_parameters(first.video_params.get());
    if (sets.empty() && params->extradata)
        sets.add(core::Bytes(params->extradata, params->extradata + params->extradata_size));
    if (sets.empty()) return core::fail("no SPS/PPS in the first segment");
    const core::Bytes joined = sets.joined();
    av_freep(&params->extradata);
    params->extradata =
        static_cast<uint8_t*>(av_mallocz(joined.size() + AV_INPUT_BUFFER_PADDING_SIZE));
    if (!params->extradata) return core::fail("out of memory");
    std::copy(joined.begin(), joined.end(), params->extradata);
    params->extradata_size = int(joined.size());
    return params;
}

}  // namespace

// ---- write_mp4 ------------------------------------------------------------------

namespace {

// Writes clipped segments one after the other into an MP4, each starting
// where the previous one ended (a gap or an overlap in the recording closes
// up), the first at 0.
class Mp4Assembler {
  public:
    Mp4Assembler(Mp4Writer& writer, bool audio) : writer_(writer), audio_(audio) {}

    core::Result<> add(ClippedSegment& c) {
        if (c.video.empty()) return {};
        const int64_t shift = c.first - next_out_;
        next_out_ += c.end - c.first;
        copied_gops_ += c.copied_gops;
        recoded_frames_ += c.recoded_frames;
        for (AVPacket* p : interleave(c)) {
            if (p->stream_index == kAudio && !audio_) continue;
            p->pts -= shift;
            p->dts -= shift;
            if (auto ok = writer_.write(*p); !ok) return ok;
        }
        return {};
    }
    core::Result<> finish() {
        if (next_out_ == 0) return core::fail("no video frame in the cut");
        return writer_.finish();
    }
    std::string summary() const {
        return fmt::format("{:.3f} s, {} GOPs copied, {} frames re-encoded",
                           core::ticks_to_seconds(next_out_), copied_gops_, recoded_frames_);
    }

  private:
    Mp4Writer& writer_;
    bool audio_;
    int64_t next_out_ = 0;
    int copied_gops_ = 0, recoded_frames_ = 0;
};

}  // namespace

core::Result<> LibavClipMedia::write_mp4(const std::vector<core::ClipSegmentFile>& segments,
                                         const std::optional<core::ClipCut>& cut,
                                         const core::Rung& rung, const core::EncoderConfig& encoder,
                                         const fs::path& out) {
    auto chosen = segments_in(segments, cut);
    if (!chosen) return std::unexpected(chosen.error());
    const EncodeSettings settings{rung, encoder};

    // The first and the last segment are cut before the header is written:
    // the avcC lists the re-encodes' parameter sets too. The second is read
    // early for the sets the middle (DVR) segments carry.
    auto first = read_segment(chosen->front(), true);
    if (!first) return std::unexpected(first.error());
    ParameterSetList avcc;
    avcc.add(parameter_sets(bytes_of(*first->video.front())));
    ParameterSets sets(parameter_sets(bytes_of(*first->video.front())));
    std::vector<ClippedSegment> ends;
    auto head = clip_segment(*first, cut, settings, sets);
    if (!head) return std::unexpected(head.error());
    ends.push_back(std::move(*head));
    std::optional<SegmentMedia> second;
    if (chosen->size() > 2) {
        auto media = read_segment((*chosen)[1], false);
        if (!media) return std::unexpected(media.error());
        avcc.add(parameter_sets(bytes_of(*media->video.front())));
        second = std::move(*media);
    }
    if (chosen->size() > 1) {
        auto last = read_segment(chosen->back(), false);
        if (!last) return std::unexpected(last.error());
        auto tail = clip_segment(*last, cut, settings, sets);
        if (!tail) return std::unexpected(tail.error());
        ends.push_back(std::move(*tail));
    }
    for (const auto& c : ends) avcc.add_from(c.video);
    auto video_params = mp4_video_parameters(*first, std::move(avcc));
    if (!video_params) return std::unexpected(video_params.error());
    const AVCodecParameters* audio_params = first->audio_params.get();

    TempFile temp(out);
    Mp4Writer writer;
    if (auto ok = writer.open(temp.path(), **video_params, audio_params); !ok) return ok;
    Mp4Assembler mp4(writer, audio_params != nullptr);
    if (auto ok = mp4.add(ends.front()); !ok) return ok;
    for (size_t i = 1; i + 1 < chosen->size(); ++i) {
        auto media = i == 1 ? core::Result<SegmentMedia>(std::move(*second))
                            : read_segment((*chosen)[i], false);
        if (!media) return std::unexpected(media.error());
        auto middle = clip_segment(*media, cut, settings, sets);
        if (!middle) return std::unexpected(middle.error());
        if (auto ok = mp4.add(*middle); !ok) return ok;
    }
    if (ends.size() > 1) {
        if (auto ok = mp4.add(ends.back()); !ok) return ok;
    }
    if (auto ok = mp4.finish(); !ok) return ok;
    if (auto ok = temp.commit(); !ok) return ok;
    log::info(kComponent, "{}: {} segments, {}", out.filename().string(), chosen->size(),
              mp4.summary());
    return {};
}

// ---- trim_segments --------------------------------------------------------------

core::Result<std::vector<core::ClipSegmentFile>> LibavClipMedia::trim_segments(
    const std::vector<core::ClipSegmentFile>& segments, const core::ClipCut& cut,
    const core::Rung& rung, const core::EncoderConfig& encoder, const fs::path& folder) {
    auto chosen = segments_in(segments, cut);
    if (!chosen) return std::unexpected(chosen.error());
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) return core::fail(fmt::format("create {}: {}", folder.string(), ec.message()));
    const EncodeSettings settings{rung, encoder};

    std::vector<core::ClipSegmentFile> out;
    // One for the whole rendition: a fresh id of the first segment's
    // re-encode is never reused by the last's (an MP4 copied from these
    // segments lists both under one avcC).
    std::optional<ParameterSets> sets;
    for (const auto& segment : *chosen) {
        if (segment.start >= cut.start && segment.start + segment.duration <= cut.end) {
            out.push_back(segment);  // wholly inside: the DVR's file as it is
            continue;
        }
        auto media = read_segment(segment, true);
        if (!media) return std::unexpected(media.error());
        if (!sets) sets.emplace(parameter_sets(bytes_of(*media->video.front())));
        auto clipped = clip_segment(*media, cut, settings, *sets);
        if (!clipped) return std::unexpected(clipped.error());
        if (clipped->video.empty()) continue;
        auto packets = interleave(*clipped);
        std::vector<const AVPacket*> in_order(packets.begin(), packets.end());
        core::ClipSegmentFile trimmed = segment;
        core::Bytes bytes;
        if (segment.init.empty()) {
            auto ts = mux_transport_stream(
                {media->video_params.get(),
                 clipped->audio.empty() ? nullptr : media->audio_params.get(), in_order});
            if (!ts) return std::unexpected(ts.error());
            bytes = std::move(*ts);
            trimmed.file = folder / fmt::format("{}.ts", segment.sequence);
        } else {
            // Its init section lists the re-encode's parameter sets beside the
            // recording's (the same bytes as the recording's when they match).
            ParameterSetList avcc;
            avcc.add(sets->recording());
            avcc.add_from(clipped->video);
            auto params = mp4_video_parameters(*media, std::move(avcc));
            if (!params) return std::unexpected(params.error());
            auto cmaf = mux_fragmented_mp4(
                {params->get(), clipped->audio.empty() ? nullptr : media->audio_params.get(),
                 in_order},
                segment.sequence % (INT32_MAX - 1) + 1);
            if (!cmaf) return std::unexpected(cmaf.error());
            bytes = std::move(cmaf->media);
            const std::string_view init = {reinterpret_cast<const char*>(cmaf->init.data()),
                                           cmaf->init.size()};
            trimmed.init = folder / core::init_file_name(core::init_id_of(init));
            if (!fs::exists(trimmed.init, ec)) {
                TempFile temp(trimmed.init);
                if (auto ok = core::write_file(temp.path(), cmaf->init); !ok)
                    return std::unexpected(ok.error());
                if (auto ok = temp.commit(); !ok) return std::unexpected(ok.error());
            }
            trimmed.file = folder / fmt::format("{}.m4s", segment.sequence);
        }
        trimmed.start = clipped->first;
        const int64_t recorded_end = segment.start + segment.duration;
        trimmed.duration = (cut.end < recorded_end ? clipped->end : recorded_end) - clipped->first;
        TempFile temp(trimmed.file);
        if (auto ok = core::write_file(temp.path(), bytes); !ok) return std::unexpected(ok.error());
        if (auto ok = temp.commit(); !ok) return std::unexpected(ok.error());
        log::info(kComponent, "{}: {} GOPs copied, {} frames re-encoded", trimmed.file.string(),
                  clipped->copied_gops, clipped->recoded_frames);
        out.push_back(std::move(trimmed));
    }
    if (out.empty()) return core::fail("no video frame in the cut");
    return out;
}

std::unique_ptr<core::ClipCutter> make_clip_media() {
    return std::make_unique<LibavClipMedia>();
}

}  // namespace onair::packager
