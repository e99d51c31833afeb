// The compiled parts of Boost.JSON and Boost.URL, built once into onair_core
// (Debian ships them as header-only sources; no extra library to install),
// and what BOOST_ASSERT does in builds with assertions.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

// Boost.URL 1.81 asserts that an empty path has no segments while its own
// parser counts one for "u:?", "u:#", "u:[" (found by fuzzing); the function
// then returns 0 segments, the right answer, as it does without assertions.
bool known_wrong(std::string_view expression, std::string_view file) {
    return expression == "nseg == 0" && file.ends_with("boost/url/detail/path.hpp");
}

}  // namespace

// With BOOST_ENABLE_ASSERT_DEBUG_HANDLER (CMakeLists.txt), BOOST_ASSERT calls
// these where assert() is on (the sanitizer and fuzz builds; release builds
// define NDEBUG): assert()'s behaviour but for the one assertion above.
namespace boost {

void assertion_failed(char const* expression, char const* function, char const* file, long line) {
    if (known_wrong(expression, file)) return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expression);
    std::abort();
}

void assertion_failed_msg(char const* expression, char const* message, char const* function,
                          char const* file, long line) {
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function,
                 expression, message);
    std::abort();
}

}  // namespace boost
