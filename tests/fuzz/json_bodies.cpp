// Fuzz target: the JSON bodies the APIs take. The first byte picks the
// reader: a clip request (POST .../clips), an event (the events API's POST
// and PATCH), a pipeline's status report, the anchor query and offset
// (process mode's ingest). Each either reads a value or says why not.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/parse.hpp>

#include "core/log.hpp"
#include "origin/harvest_request.hpp"
#include "origin/ingest_protocol.hpp"
#include "schedule/schedule_config.hpp"

using namespace onair;

namespace {

const schedule::ScheduleConfig& base_schedule() {
    static const schedule::ScheduleConfig base = [] {
        auto parsed = schedule::parse_schedule_config("listen: 127.0.0.1:8090\nevents: []\n",
                                                      "/fuzz/schedule.yaml");
        if (!parsed) __builtin_trap();
        return *parsed;
    }();
    return base;
}

// A refusal names at least one problem (a string, or a list of them).
template <class T, class E>
void must_say_why(const std::expected<T, E>& result) {
    if (!result && result.error().empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    log::configure(log::Format::text, log::Level::error);
    base_schedule();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 5) {
        case 0: {
            boost::system::error_code ec;
            boost::json::value body = boost::json::parse(text, ec);
            if (ec) return 0;  // the route answers 400 before reading it
            // 2026-11-22T04:48:00Z .. one hour later, as media time (90 kHz).
            const origin::DvrWindow window{1795322880000LL * 90, (1795322880000LL + 3600000) * 90};
            must_say_why(origin::parse_clip_request(body, window));
            must_say_why(origin::parse_clip_request(body, std::nullopt));
            break;
        }
        case 1:
            must_say_why(schedule::parse_event(text, "request", base_schedule()));
            break;
        case 2:
            must_say_why(origin::ingest::parse_status(text));
            break;
        case 3:
            must_say_why(origin::ingest::parse_anchor_query(text));
            break;
        case 4:
            must_say_why(origin::ingest::parse_anchor_offset(text));
            break;
    }
    return 0;
}
