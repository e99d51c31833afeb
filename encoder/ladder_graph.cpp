#include "encoder/ladder_graph.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace onair::encoder {
namespace {

double display_aspect(int w, int h, core::Rational sar) {
    double s = sar.valid() ? sar.value() : 1.0;
    return double(w) * s / double(h);
}

bool same_shape(double a, double b) {
    return std::fabs(a - b) / b < 0.01;
}

int even(double v) {
    return std::max(2, int(std::lround(v / 2.0)) * 2);
}

// Scale to the rung, fitting the source's display aspect inside it: the
// scaler, then what makes the rung's frame of it (bars if needed, square SAR).
// A rung scaled from the source uses bicubic, as the FFmpeg CLI does; one
// scaled from a larger rung uses lanczos, because a second bicubic pass
// compounds the first one's blur (bench/ladder: -0.7 dB PSNR at 480p and
// -1.3 dB at 360p against the CLI's direct bicubic; lanczos from the rung
// above is sharper than both, and still cheaper than scaling from the source).
struct ScaleSteps {
    std::string scale;
    std::string frame;
};
ScaleSteps scale_chain(double source_dar, const GraphRung& rung, bool from_rung) {
    const char* flags = from_rung ? "lanczos" : "bicubic";
    double rung_dar = double(rung.width) / rung.height;
    if (same_shape(source_dar, rung_dar))
        return {fmt::format("scale={}:{}:flags={}", rung.width, rung.height, flags), "setsar=1"};
    int w = rung.width, h = rung.height;
    if (source_dar > rung_dar) {
        h = std::min(rung.height, even(rung.width / source_dar));
    } else {
        w = std::min(rung.width, even(rung.height * source_dar));
    }
    return {fmt::format("scale={}:{}:flags={}", w, h, flags),
            fmt::format("pad={}:{}:(ow-iw)/2:(oh-ih)/2,setsar=1", rung.width, rung.height)};
}

std::string fps_filter(core::Rational fps) {
    return fmt::format("fps=fps={}/{}", fps.num, fps.den);
}

}  // namespace

std::string ladder_filter_description(const GraphSource& source,
                                      const std::vector<GraphRung>& rungs,
                                      const std::string& analysis_filters) {
    const size_t n = rungs.size();
    const double source_dar = display_aspect(source.width, source.height, source.sample_aspect);
    const bool common_fps = std::all_of(rungs.begin(), rungs.end(),
                                        [&](const GraphRung& r) { return r.fps == rungs[0].fps; });

    // Largest first; each rung feeds from the nearest larger rung of the same
    // shape (only when the rate is common: every branch then has the same frames).
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return rungs[a].width * rungs[a].height > rungs[b].width * rungs[b].height;
    });
    constexpr size_t kFromBase = SIZE_MAX;
    std::vector<size_t> feed(n, kFromBase);
    for (size_t k = 0; k < n && common_fps; ++k) {
        const GraphRung& r = rungs[order[k]];
        double dar = double(r.width) / r.height;
        for (size_t j = k; j-- > 0;) {
            const GraphRung& bigger = rungs[order[j]];
            if (bigger.width >= r.width && bigger.height >= r.height &&
                same_shape(double(bigger.width) / bigger.height, dar) &&
                same_shape(source_dar, dar)) {
                feed[order[k]] = order[j];
                break;
            }
        }
    }

    // Consumers of each output: its sink plus the rungs fed from it.
    std::vector<int> consumers(n, 1);
    int base_consumers = 0;
    for (size_t i = 0; i < n; ++i) {
        if (feed[i] == kFromBase) {
            ++base_consumers;
        } else {
            ++consumers[feed[i]];
        }
    }

    std::vector<std::string> chains;
    std::string base = "[in]";
    std::vector<std::string> pre;
    if (source.interlaced) pre.push_back("yadif=mode=send_frame:deint=interlaced");
    if (common_fps) pre.push_back(fps_filter(rungs[0].fps));
    std::string base_chain = base;
    for (size_t i = 0; i < pre.size(); ++i) base_chain += (i ? "," : "") + pre[i];
    if (pre.empty()) base_chain += "null";
    // Labels to hand out for the base's consumers.
    std::vector<std::string> base_labels;
    if (base_consumers == 1) {
        base_chain += "[b0]";
        base_labels.push_back("[b0]");
    } else {
        base_chain += fmt::format(",split={}", base_consumers);
        for (int i = 0; i < base_consumers; ++i) {
            base_chain += fmt::format("[b{}]", i);
            base_labels.push_back(fmt::format("[b{}]", i));
        }
    }
    chains.push_back(base_chain);

    std::vector<std::vector<std::string>> rung_labels(n);  // labels for rungs fed from rung i
    size_t next_base = 0;
    for (size_t k = 0; k < n; ++k) {
        size_t i = order[k];
        std::string input;
        if (feed[i] == kFromBase) {
            input = base_labels[next_base++];
        } else {
            input = rung_labels[feed[i]].back();
            rung_labels[feed[i]].pop_back();
        }
        double input_dar = feed[i] == kFromBase
                               ? source_dar
                               : double(rungs[feed[i]].width) / rungs[feed[i]].height;
        std::string chain = input;
        if (!common_fps) chain += fps_filter(rungs[i].fps) + ",";
        auto steps = scale_chain(input_dar, rungs[i], feed[i] != kFromBase);
        chain += steps.scale;
        // The smallest rung (last in order) also feeds the analysis branch,
        // taken before its bars so they never count as content.
        if (!analysis_filters.empty() && k == n - 1) {
            chain += fmt::format(",split=2[s{}][a]", i);
            chains.push_back(chain);
            chains.push_back("[a]format=yuv420p," + analysis_filters + "[analysis]");
            chain = fmt::format("[s{}]", i);
        } else {
            chain += ",";
        }
        chain += steps.frame + ",format=yuv420p";
        if (consumers[i] == 1) {
            chain += fmt::format("[out{}]", i);
        } else {
            chain += fmt::format(",split={}[out{}]", consumers[i], i);
            for (int c = 1; c < consumers[i]; ++c) {
                std::string label = fmt::format("[r{}_{}]", i, c);
                chain += label;
                rung_labels[i].push_back(label);
            }
        }
        chains.push_back(chain);
    }
    std::string description;
    for (size_t i = 0; i < chains.size(); ++i) description += (i ? ";" : "") + chains[i];
    return description;
}

}  // namespace onair::encoder
