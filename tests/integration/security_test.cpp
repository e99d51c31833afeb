// A channel as it would face the internet: HTTPS (a self-signed certificate
// made for the test) and signed playback URLs, on a real LL-HLS channel (the
// built-in signal). A token minted by docs/signed-urls.md's own shell lines
// (openssl) opens the channel; none, a forged or an expired one gets 403
// with a reason; every URI of every playlist carries the token (parts,
// hints, maps); ffprobe, checking the certificate, plays the stream from the
// master's https:// URL alone; plain HTTP and an unknown certificate are
// refused. Requests go through curl, which checks the certificate.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "tests/integration/onair_fixture.hpp"
#include "tests/support/net.hpp"

using namespace onair::testing;
using namespace std::chrono_literals;

namespace {

struct Answer {
    int status = 0;  // 0: no HTTP answer (refused, or the certificate did not verify)
    std::string body;
};

// GET over HTTPS with curl, trusting only `ca`.
Answer https_get(const TempDir& dir, const std::filesystem::path& ca, int port,
                 const std::string& target, const std::string& name = "curl") {
    const auto body = dir.path() / (name + ".body");
    Process curl(
        {.argv = {"curl", "-sS", "--max-time", "10", "--cacert", ca.string(), "-o", body.string(),
                  "-w", "%{http_code}", fmt::format("https://localhost:{}{}", port, target)},
         .output_dir = dir.path(),
         .name = name,
         .report_on_failure = false});
    auto status = curl.wait_for(15s);
    REQUIRE(status);
    Answer answer;
    answer.status = std::atoi(curl.read_stdout().c_str());
    std::ifstream in(body);
    answer.body.assign(std::istreambuf_iterator<char>(in), {});
    std::filesystem::remove(body);
    return answer;
}

void run(const TempDir& dir, std::vector<std::string> argv, const std::string& name) {
    Process p({.argv = std::move(argv), .output_dir = dir.path(), .name = name});
    auto status = p.wait_for(20s);
    REQUIRE(status);
    INFO(p.report());
    REQUIRE(status->success());
}

// The "Minting a token" block of docs/signed-urls.md, run as written with
// the secret file and lifetime given; its output is the URL it prints.
std::string mint_with_the_docs(const TempDir& dir, const std::filesystem::path& key, int ttl_s) {
    std::ifstream doc(std::string(ONAIR_SOURCE_DIR) + "/docs/signed-urls.md");
    std::string text{std::istreambuf_iterator<char>(doc), {}};
    const auto heading = text.find("## Minting a token");
    REQUIRE(heading != std::string::npos);
    const auto open = text.find("```sh\n", heading);
    REQUIRE(open != std::string::npos);
    const auto close = text.find("```", open + 6);
    std::string script = text.substr(open + 6, close - open - 6);
    auto replace = [&](std::string_view from, const std::string& to) {
        auto at = script.find(from);
        REQUIRE(at != std::string::npos);
        script.replace(at, from.size(), to);
    };
    replace("/etc/onair/playback.key", key.string());
    replace("+ 3600", fmt::format("+ {}", ttl_s));
    Process sh({.argv = {"sh", "-c", script}, .output_dir = dir.path(), .name = "mint"});
    auto status = sh.wait_for(10s);
    REQUIRE(status);
    REQUIRE(status->success());
    std::string url = sh.read_stdout();
    while (!url.empty() && url.back() == '\n') url.pop_back();
    return url;
}

}  // namespace

TEST_CASE("HTTPS and signed playback URLs: the docs' token opens the channel, nothing else does",
          "[integration][security]") {
    TempDir dir("onair-security");
    const auto key = dir.path() / "playback.key";
    std::ofstream(key) << "an-example-secret-of-the-test\n";
    // A self-signed certificate for localhost (P-256: made in milliseconds).
    const auto cert = dir.path() / "cert.pem", tls_key = dir.path() / "key.pem";
    run(dir,
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
         "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", tls_key.string(), "-out",
         cert.string()},
        "openssl-cert");

    ChannelSpec spec;
    spec.channel = "demo";  // the docs' acl: /live/demo/*
    spec.http_port = free_tcp_port();
    spec.input_url = "testsrc:?size=416x234&rate=25";
    spec.ladder = {{"234p", 416, 234, "300k"}};
    spec.preset = "ultrafast";
    spec.container = "fmp4";
    spec.part = "500ms";
    spec.extra_yaml = fmt::format("data: {}\n", (dir.path() / "data").string());
    spec.origin_extra =
        fmt::format("signed_urls: on, playback_secret_file: {}, tls_certificate: {}, tls_key: {}",
                    key.string(), cert.string(), tls_key.string());
    Onair onair(spec, dir);
    const int port = onair.port();
    auto get = [&](const std::string& target) { return https_get(dir, cert, port, target); };

    const std::string url = mint_with_the_docs(dir, key, 600);
    INFO(url);
    const std::string prefix = "http://origin.example:8080";
    REQUIRE(url.starts_with(prefix + "/live/demo/master.m3u8?token=exp="));
    const std::string master = url.substr(prefix.size());
    const std::string token = master.substr(master.find("token=") + 6);
    const std::string variant = "/live/demo/234p/index.m3u8?token=" + token;

    REQUIRE(wait_until(
        "three segments listed, over HTTPS with the token",
        [&] {
            auto r = get(variant);
            return r.status == 200 && parse_media_playlist(r.body).segments.size() >= 3;
        },
        60s, 500ms));

    // Only HTTPS, and only to a client that trusts the certificate.
    auto plain = onair.get("/healthz", 3s);
    CHECK_FALSE((plain && plain->status == 200));
    const auto stranger = dir.path() / "other.pem";
    run(dir,
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout",
         (dir.path() / "other-key.pem").string(), "-out", stranger.string()},
        "openssl-other");
    CHECK(https_get(dir, stranger, port, "/healthz", "curl-stranger").status == 0);
    CHECK(get("/healthz").status == 200);

    // Refused playback: 403 with a reason; the API is not playback.
    auto reason = [&](const std::string& target) {
        auto r = get(target);
        CHECK(r.status == 403);
        INFO(r.body);
        return std::string(boost::json::parse(r.body).as_object().at("reason").as_string());
    };
    CHECK(
        reason("/live/demo/master.m3u8").starts_with("this channel's playback needs a signed URL"));
    std::string forged = master;
    forged.back() = forged.back() == '0' ? '1' : '0';
    CHECK(reason(forged) == "the token's signature does not match");
    const std::string expired = mint_with_the_docs(dir, key, -5).substr(prefix.size());
    CHECK(reason(expired).starts_with("the token expired"));
    CHECK(get("/api/v1/channels/demo").status == 200);

    // Every URI the playlists name carries the token, and answers with it.
    auto top = get(master);
    REQUIRE(top.status == 200);
    CHECK(top.body.find("\n234p/index.m3u8?token=" + token + "\n") != std::string::npos);
    auto media = get(variant);
    REQUIRE(media.status == 200);
    INFO(media.body);
    std::vector<std::string> uris;
    std::regex uri_pattern(R"re(URI="([^"]+)"|(?:^|\n)([^#\n][^\n]*))re");
    for (auto it = std::sregex_iterator(media.body.begin(), media.body.end(), uri_pattern);
         it != std::sregex_iterator(); ++it)
        uris.push_back((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
    REQUIRE(uris.size() >= 6);  // the map, segments, parts, the hint, the report
    for (const auto& uri : uris) {
        INFO(uri);
        CHECK(uri.ends_with("token=" + token));
    }
    // The map and a segment, fetched by their URIs as listed, and without the token.
    for (const auto& uri : {uris.front(), uris.at(uris.size() / 2)}) {
        INFO(uri);
        CHECK(get("/live/demo/234p/" + uri).status == 200);
        CHECK(get("/live/demo/234p/" + uri.substr(0, uri.find('?'))).status == 403);
    }

    // A player given only the master's URL plays it, checking the certificate.
    // Live: three seconds of it.
    Process ffprobe(
        {.argv = {"ffprobe", "-v", "error", "-tls_verify", "1", "-ca_file", cert.string(),
                  "-read_intervals", "%+3", "-select_streams", "v", "-count_frames",
                  "-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0",
                  fmt::format("https://localhost:{}{}", port, master)},
         .output_dir = dir.path(),
         .name = "ffprobe"});
    auto probed = ffprobe.wait_for(60s);
    REQUIRE(probed);
    INFO(ffprobe.report());
    CHECK(probed->success());
    CHECK(ffprobe.read_stderr().empty());
    const std::string line = ffprobe.read_stdout();
    CHECK(line.starts_with("h264,"));
    CHECK(std::atoi(line.substr(5).c_str()) >= 25);
}
