// Fuzz target: a pushed segment or part as the origin's ingest reads it
// (process mode): header lines "Name: value", a blank line, the body. The
// metadata headers are read as a segment's and as a part's; what reads must
// come back the same through the writer; the body is checked as MPEG-TS and
// as CMAF.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "origin/ingest_protocol.hpp"

using namespace onair;
namespace ingest = onair::origin::ingest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto blank = text.find("\n\n");
    std::string_view head = text.substr(0, blank);
    std::string_view body = blank == std::string_view::npos ? "" : text.substr(blank + 2);

    boost::beast::http::fields fields;
    while (!head.empty()) {
        auto end = head.find('\n');
        std::string_view line = head.substr(0, end);
        head = end == std::string_view::npos ? "" : head.substr(end + 1);
        auto colon = line.find(": ");
        if (colon == std::string_view::npos || colon == 0) continue;
        fields.insert(line.substr(0, colon), line.substr(colon + 2));
    }

    if (auto segment = ingest::read_segment_headers(fields)) {
        boost::beast::http::fields again;
        ingest::set_segment_headers(again, *segment);
        auto back = ingest::read_segment_headers(again);
        if (!back || back->start != segment->start || back->duration != segment->duration ||
            back->frames != segment->frames || back->codecs != segment->codecs)
            __builtin_trap();
    } else if (segment.error().empty()) {
        __builtin_trap();
    }
    if (auto part = ingest::read_part_headers(fields)) {
        boost::beast::http::fields again;
        ingest::set_part_headers(again, *part);
        auto back = ingest::read_part_headers(again);
        if (!back || back->start != part->start || back->duration != part->duration ||
            back->independent != part->independent)
            __builtin_trap();
    } else if (part.error().empty()) {
        __builtin_trap();
    }
    (void)ingest::ts_problem(body);
    (void)ingest::cmaf_problem(body);
    return 0;
}
