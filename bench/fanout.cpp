// onair_fanout: the LL-HLS fan-out of bench/latency. CLIENTS connections
// block on the same next part of one rendition (blocking playlist reload),
// ROUNDS times; each answer is timed against the round's first answer (the
// part's publication, as near as a client can see it). One thread of
// Boost.Asio, so the client costs a fraction of what it measures.
//
//   onair_fanout HOST PORT PLAYLIST_PATH CLIENTS ROUNDS
//
// Prints one JSON line: {"clients","rounds","errors","p50","p99","max"} (ms).
// A round first waits for one part to be listed, then asks for the part
// after it, so every request is parked a whole part before its answer.
#include <boost/asio.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Answer {
    int status = 0;
    std::string body;
    Clock::time_point at;
};

// One request, Connection: close, the whole answer read to the end.
class Fetch : public std::enable_shared_from_this<Fetch> {
  public:
    Fetch(asio::io_context& io, tcp::endpoint server, std::string target, Answer& answer)
        : socket_(io), server_(server), answer_(answer) {
        request_ = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    }

    void start() {
        socket_.async_connect(server_, [self = shared_from_this()](auto error) {
            if (error) return self->finish();
            asio::async_write(self->socket_, asio::buffer(self->request_),
                              [self](auto write_error, std::size_t) {
                                  if (write_error) return self->finish();
                                  self->read();
                              });
        });
    }

  private:
    void read() {
        asio::async_read(socket_, asio::dynamic_buffer(received_),
                         [self = shared_from_this()](auto, std::size_t) { self->finish(); });
    }

    void finish() {
        answer_.at = Clock::now();
        if (received_.starts_with("HTTP/1.1 ") && received_.size() >= 12)
            answer_.status = std::stoi(received_.substr(9, 3));
        const auto body = received_.find("\r\n\r\n");
        if (body != std::string::npos) answer_.body = received_.substr(body + 4);
    }

    tcp::socket socket_;
    tcp::endpoint server_;
    Answer& answer_;
    std::string request_;
    std::string received_;
};

std::vector<Answer> fetch_all(tcp::endpoint server, const std::string& target, int count) {
    asio::io_context io;
    std::vector<Answer> answers(count);
    for (auto& answer : answers) std::make_shared<Fetch>(io, server, target, answer)->start();
    io.run();
    return answers;
}

Answer fetch_one(tcp::endpoint server, const std::string& target) {
    return fetch_all(server, target, 1).front();
}

struct PartNumber {
    long msn = 0;
    long part = 0;
    std::string uri;  // as the playlist names it
};

// The hinted part, from the playlist's EXT-X-PRELOAD-HINT: its segment is the
// open one (media sequence + the complete segments listed) unless the hint
// already names the next segment's first part.
std::optional<PartNumber> hinted_part(const std::string& playlist) {
    std::optional<long> sequence, last_uri;
    std::optional<std::pair<std::string, std::string>> hint;  // segment and part of its URI
    long complete = 0;
    const std::regex hint_tag(R"(#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(\d+)\.(\d+)\.m4s")");
    const std::regex segment_uri(R"((\d+)\.m4s)");
    std::size_t start = 0;
    while (start < playlist.size()) {
        auto end = playlist.find('\n', start);
        if (end == std::string::npos) end = playlist.size();
        const std::string line = playlist.substr(start, end - start);
        std::smatch match;
        if (line.starts_with("#EXT-X-MEDIA-SEQUENCE:")) sequence = std::stol(line.substr(22));
        if (line.starts_with("#EXTINF:")) ++complete;
        if (std::regex_match(line, match, segment_uri)) last_uri = std::stol(match[1]);
        if (std::regex_search(line, match, hint_tag)) hint = {match[1].str(), match[2].str()};
        start = end + 1;
    }
    if (!sequence || !last_uri || !hint) return std::nullopt;
    const long open_msn = *sequence + complete;
    return PartNumber{open_msn + (std::stol(hint->first) - (*last_uri + 1)),
                      std::stol(hint->second), hint->first + "." + hint->second + ".m4s"};
}

std::string blocking_target(const std::string& path, PartNumber part) {
    return path + "?_HLS_msn=" + std::to_string(part.msn) +
           "&_HLS_part=" + std::to_string(part.part);
}

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * sorted.size()))];
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 6) {
        std::fprintf(stderr, "usage: onair_fanout HOST PORT PLAYLIST_PATH CLIENTS ROUNDS\n");
        return 2;
    }
    const tcp::endpoint server(asio::ip::make_address(argv[1]),
                               static_cast<unsigned short>(std::stoi(argv[2])));
    const std::string path = argv[3];
    const int clients = std::stoi(argv[4]);
    const int rounds = std::stoi(argv[5]);

    std::vector<double> spreads_ms;
    long errors = 0;
    for (int round = 0; round < rounds; ++round) {
        // Wait for the hinted part, so the next hint is a whole part away.
        const auto playlist = fetch_one(server, path);
        const auto hinted = hinted_part(playlist.body);
        if (playlist.status != 200 || !hinted)
            throw std::runtime_error("no LL-HLS playlist at " + path + " (status " +
                                     std::to_string(playlist.status) + ")");
        const auto listed = fetch_one(server, blocking_target(path, *hinted));
        const auto next = hinted_part(listed.body);
        if (listed.status != 200 || !next) throw std::runtime_error("blocking reload failed");

        const auto answers = fetch_all(server, blocking_target(path, *next), clients);
        const std::string listed_part = "#EXT-X-PART:";
        const std::string part_uri = "URI=\"" + next->uri + "\"";
        std::optional<Clock::time_point> first;
        std::vector<Clock::time_point> good;
        for (const auto& answer : answers) {
            const auto line = answer.body.find(part_uri);
            const auto tag = line == std::string::npos ? line : answer.body.rfind('\n', line);
            const bool has_part =
                tag != std::string::npos &&
                answer.body.compare(tag + 1, listed_part.size(), listed_part) == 0;
            if (answer.status != 200 || !has_part) {
                ++errors;
                continue;
            }
            good.push_back(answer.at);
            if (!first || answer.at < *first) first = answer.at;
        }
        for (const auto at : good)
            spreads_ms.push_back(std::chrono::duration<double, std::milli>(at - *first).count());
    }
    std::sort(spreads_ms.begin(), spreads_ms.end());
    std::printf(
        "{\"clients\": %d, \"rounds\": %d, \"errors\": %ld, \"p50\": %.1f, \"p99\": %.1f, "
        "\"max\": %.1f}\n",
        clients, rounds, errors, percentile(spreads_ms, 0.5), percentile(spreads_ms, 0.99),
        spreads_ms.empty() ? 0.0 : spreads_ms.back());
    return errors == 0 ? 0 : 1;
} catch (const std::exception& error) {
    std::fprintf(stderr, "onair_fanout: %s\n", error.what());
    return 1;
}
