// Tokens for the origin's ingest and control calls.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/token.hpp"

using namespace onair::core;

namespace {

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("tokens come from the environment first, then from the file", "[config]") {
    auto file = std::filesystem::temp_directory_path() / "onair-token-test";
    std::ofstream(file) << "s3cret-from-file\nsecond line ignored\n";
    std::string why;
    ::unsetenv("ONAIR_TEST_TOKEN");
    CHECK(read_token("ONAIR_TEST_TOKEN", file.string(), why) == "s3cret-from-file");
    ::setenv("ONAIR_TEST_TOKEN", "from-env", 1);
    CHECK(read_token("ONAIR_TEST_TOKEN", file.string(), why) == "from-env");
    ::unsetenv("ONAIR_TEST_TOKEN");
    CHECK_FALSE(read_token("ONAIR_TEST_TOKEN", "", why));
    CHECK(why == "set ONAIR_TEST_TOKEN (or name a token file in the channel file)");
    std::ofstream(file, std::ios::trunc) << "\n";
    CHECK_FALSE(read_token("ONAIR_TEST_TOKEN", file.string(), why));
    CHECK(contains(why, "holds no token"));
    std::filesystem::remove(file);
}
