#include "origin/dvr_restore.hpp"

#include <optional>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace onair::origin {

size_t restore_from_dvr(const Dvr& dvr, SegmentStore& store, int64_t not_before) {
    std::vector<RestoredSegment> restored;
    const auto& options = store.options();
    for (const auto& rendition : options.renditions) {
        std::optional<int64_t> previous;
        bool gap = false;
        for (auto& d : dvr.newest(rendition, size_t(options.window_segments))) {
            if (d.end() <= not_before) continue;
            // A recording in another container (the channel file changed) is
            // not listed on: the playlist starts afresh.
            const auto container = d.init_id.empty() ? core::Container::ts : core::Container::fmp4;
            if (container != options.container) continue;
            auto bytes = dvr.read(d);
            auto init = read_init_section(d);
            if (!bytes || (container == core::Container::fmp4 && !init)) {
                gap = true;
                continue;
            }
            RestoredSegment r;
            r.discontinuity = d.discontinuity || gap || (previous && d.sequence != *previous + 1);
            r.segment.rendition = rendition;
            r.segment.pipeline = 'r';
            r.segment.sequence = d.sequence;
            r.segment.start = d.start;
            r.segment.duration = d.duration;
            r.segment.frames = d.frames;
            r.segment.slate = d.slate;
            r.segment.width = d.width;
            r.segment.height = d.height;
            r.segment.frame_rate = d.frame_rate;
            r.segment.codecs = d.codecs;
            r.segment.bytes = std::move(bytes);
            r.segment.container = container;
            r.segment.init = std::move(init);
            restored.push_back(std::move(r));
            previous = d.sequence;
            gap = false;
        }
    }
    const size_t n = store.restore(std::move(restored));
    if (n > 0) log::info("origin", "restored {} segments of the live window from the DVR", n);
    return n;
}

}  // namespace onair::origin
