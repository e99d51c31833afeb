#include "encoder/picture_monitor.hpp"

#include <fmt/format.h>

extern "C" {
#include <libavutil/dict.h>
}

namespace onair::encoder {
namespace {
bool has(const AVFrame& frame, const char* key) {
    return av_dict_get(frame.metadata, key, nullptr, 0) != nullptr;
}
}  // namespace

std::unique_ptr<PictureMonitor> PictureMonitor::make(
    const core::BlackCheck& black, const core::FreezeCheck& freeze, const core::FillLog& fill_log,
    core::HealthLog& health, core::PipelineStatus& status, const std::string& component) {
    if (!black.enabled && !freeze.enabled) return nullptr;
    return std::make_unique<PictureMonitor>(black, freeze, fill_log, health, status, component);
}

PictureMonitor::PictureMonitor(const core::BlackCheck& black, const core::FreezeCheck& freeze,
                               const core::FillLog& fill_log, core::HealthLog& health,
                               core::PipelineStatus& status, const std::string& component)
    : fill_log_(fill_log) {
    // d=0: the detectors say when a condition starts and ends; how long it
    // must last is onair's business (ConditionTracker).
    if (black.enabled) {
        filters_ = fmt::format("blackdetect=d=0:pic_th={}:pix_th={}", black.picture, black.pixel);
        black_.emplace("black picture", core::micros_to_ticks(black.duration), health.black,
                       status.black, component);
    }
    if (freeze.enabled) {
        if (!filters_.empty()) filters_ += ",";
        filters_ += fmt::format("freezedetect=n={}dB:d=0", freeze.noise_db);
        frozen_.emplace("frozen picture", core::micros_to_ticks(freeze.duration), health.frozen,
                        status.frozen, component);
    }
}

void PictureMonitor::restarted() {
    // New detectors know nothing of an ongoing condition: it ends here and
    // counts again from when they see it.
    black_since_ = frozen_since_ = core::kNoMediaTime;
    if (previous_ != core::kNoMediaTime) {
        if (black_) black_->observe(previous_, core::kNoMediaTime, false);
        if (frozen_) frozen_->observe(previous_, core::kNoMediaTime, false);
    }
    previous_ = core::kNoMediaTime;
}

void PictureMonitor::analysed(const AVFrame& frame, int64_t media) {
    const bool fill = fill_log_.overlaps(media, media + 1);
    if (black_) {
        // Set on the first black picture, and on the first one after.
        if (has(frame, "lavfi.black_start")) black_since_ = media;
        if (has(frame, "lavfi.black_end")) black_since_ = core::kNoMediaTime;
        black_->observe(media, black_since_, fill);
    }
    if (frozen_) {
        // With d=0, freezedetect marks the first picture equal to the one
        // before with freeze_start (the freeze began at that one before), the
        // first that differs again with freeze_end, and any picture that
        // differs from a picture that differed too with both.
        const bool start = has(frame, "lavfi.freezedetect.freeze_start");
        const bool end = has(frame, "lavfi.freezedetect.freeze_end");
        if (start && !end) frozen_since_ = previous_ != core::kNoMediaTime ? previous_ : media;
        if (end) frozen_since_ = core::kNoMediaTime;
        frozen_->observe(media, frozen_since_, fill);
    }
    previous_ = media;
}

}  // namespace onair::encoder
