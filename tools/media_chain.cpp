#include "tools/media_chain.hpp"

#include <fmt/format.h>

namespace onair::tools {

core::Result<std::unique_ptr<MediaChain>> MediaChain::create(const core::ChannelConfig& config,
                                                             char pipeline, core::MediaClock& clock,
                                                             core::PipelineStatus& status,
                                                             core::SegmentSink& sink) {
    auto chain = std::make_unique<MediaChain>();
    std::string component = fmt::format("pipeline.{}", pipeline);
    const core::SegmentGrid grid{core::micros_to_ticks(config.hls.segment)};
    for (const auto& rung : config.ladder) {
        chain->segmenters_.push_back(std::make_unique<packager::Segmenter>(
            packager::SegmenterSettings{rung.name, pipeline, grid}, sink, chain->fill_log_,
            chain->health_log_, fmt::format("{}.{}", component, rung.name)));
    }
    auto* segmenters = &chain->segmenters_;
    encoder::TranscoderOutput output{
        [segmenters](const encoder::EncodedVideo& v) {
            (*segmenters)[v.rung]->video(*v.packet, *v.params, v.fps);
        },
        [segmenters](AVPacket* packet, const AVCodecParameters& params) {
            for (auto& s : *segmenters) s->audio(*packet, params);
        }};
    encoder::TranscoderSettings settings{
        config.ladder,
        config.encoder,
        config.audio,
        encoder::FillPolicy::from(config.input_loss),
        {config.failover.black, config.failover.freeze, config.failover.silence}};
    auto transcoder =
        encoder::Transcoder::create(std::move(settings), clock, status, chain->fill_log_,
                                    chain->health_log_, component, std::move(output));
    if (!transcoder) return std::unexpected(transcoder.error());
    chain->transcoder_ = std::move(*transcoder);
    return chain;
}

int64_t MediaChain::input_utc_ms(const core::Segment& segment) const {
    // The segment's last picture is the newest before its end.
    return core::media_to_utc_ms(transcoder_->input_time_of(segment.start + segment.duration - 1));
}

core::Result<> MediaChain::finish() {
    auto flushed = transcoder_->flush();
    for (auto& s : segmenters_) s->flush();
    return flushed;
}

}  // namespace onair::tools
