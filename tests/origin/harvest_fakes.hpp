#pragma once
// Fakes for the harvest tests: a temporary folder, a DVR serving TS files
// the test writes (2 s segments on the real numbering), a clip media that
// writes marker files and can be held or made to fail, and a service wired
// to them with a real SQLite catalog.
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/clip_cutter.hpp"
#include "origin/clip_catalog.hpp"
#include "origin/dvr.hpp"
#include "origin/harvest.hpp"

namespace onair::origin::testing {

namespace fs = std::filesystem;

inline constexpr int64_t kTick = 90;  // per ms
inline constexpr int64_t kSegmentTicks = 2 * 90000;
// 2026-11-22T04:48:00.000Z; a segment boundary (2 s grid).
inline constexpr int64_t kBaseMs = 1795322880000;
inline constexpr int64_t kBaseSequence = kBaseMs * kTick / kSegmentTicks;

inline int64_t segment_start_ms(int64_t sequence) {
    return sequence * kSegmentTicks / kTick;
}

// A fresh folder, removed with what is in it.
class TempFolder {
  public:
    TempFolder() {
        std::string pattern = (fs::temp_directory_path() / "onair-harvest-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempFolder() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempFolder(const TempFolder&) = delete;
    TempFolder& operator=(const TempFolder&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(std::string_view name) const { return path_ / name; }

  private:
    fs::path path_;
};

inline std::string read_all(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const fs::path& file, std::string_view bytes) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

inline ino_t inode(const fs::path& file) {
    struct stat st {};
    return ::stat(file.c_str(), &st) == 0 ? st.st_ino : 0;
}

// TS packets (sync byte, then a pattern naming the rendition and sequence).
inline std::string ts_bytes(const std::string& rendition, int64_t sequence, size_t packets) {
    std::string out;
    const std::string mark = fmt::format("{}#{}|", rendition, sequence);
    for (size_t p = 0; p < packets; ++p) {
        std::string packet(188, '\xff');
        packet[0] = '\x47';
        for (size_t i = 4; i < 188; ++i) packet[i] = mark[(i + p) % mark.size()];
        out += packet;
    }
    return out;
}

// The DVR as the harvest sees it: files on disk and an index in memory.
class FakeDvr : public Dvr {
  public:
    struct Rendition {
        std::string name;
        int width = 0, height = 0;
        size_t packets = 100;  // per segment: the bit rate
        std::string codecs;
    };
    FakeDvr(fs::path folder, std::vector<Rendition> renditions)
        : folder_(std::move(folder)), renditions_(std::move(renditions)) {}

    // Segment `sequence` of every rendition: a TS file and its index entry.
    void add(int64_t sequence, bool discontinuity = false, size_t extra_packets = 0) {
        std::lock_guard lock(mutex_);
        for (const auto& r : renditions_) {
            DvrSegment s;
            s.rendition = r.name;
            s.sequence = sequence;
            s.start = sequence * kSegmentTicks;
            s.duration = kSegmentTicks;
            s.frames = 50;
            s.discontinuity = discontinuity;
            s.width = r.width;
            s.height = r.height;
            s.frame_rate = {25, 1};
            s.codecs = r.codecs;
            s.file = folder_ / r.name / fmt::format("{}.ts", sequence);
            const std::string bytes = ts_bytes(r.name, sequence, r.packets + extra_packets);
            s.bytes = int64_t(bytes.size());
            write_all(s.file, bytes);
            index_[r.name][sequence] = s;
        }
    }
    void add_range(int64_t first, int64_t count) {
        for (int64_t i = 0; i < count; ++i) add(first + i);
    }
    // Deletes (expires) every segment before `sequence`, files and index.
    void expire_before(int64_t sequence) {
        std::lock_guard lock(mutex_);
        for (auto& [name, segments] : index_) {
            while (!segments.empty() && segments.begin()->first < sequence) {
                fs::remove(segments.begin()->second.file);
                segments.erase(segments.begin());
                ++expired_;
            }
        }
    }

    void record(std::shared_ptr<const core::Segment>) override {}
    void flush() override {}
    std::vector<DvrSegment> range(std::string_view rendition, int64_t from,
                                  int64_t to) const override {
        std::lock_guard lock(mutex_);
        std::vector<DvrSegment> out;
        auto it = index_.find(std::string(rendition));
        if (it == index_.end()) return out;
        for (const auto& [seq, s] : it->second)
            if (s.end() > from && s.start < to) out.push_back(s);
        return out;
    }
    std::optional<DvrSegment> find(std::string_view rendition, int64_t sequence) const override {
        std::lock_guard lock(mutex_);
        auto it = index_.find(std::string(rendition));
        if (it == index_.end()) return std::nullopt;
        auto s = it->second.find(sequence);
        if (s == it->second.end()) return std::nullopt;
        return s->second;
    }
    std::vector<DvrSegment> newest(std::string_view rendition, size_t count) const override {
        std::lock_guard lock(mutex_);
        std::vector<DvrSegment> out;
        auto it = index_.find(std::string(rendition));
        if (it == index_.end()) return out;
        for (auto s = it->second.rbegin(); s != it->second.rend() && out.size() < count; ++s)
            out.insert(out.begin(), s->second);
        return out;
    }
    std::optional<std::pair<int64_t, int64_t>> span(std::string_view rendition) const override {
        std::lock_guard lock(mutex_);
        auto it = index_.find(std::string(rendition));
        if (it == index_.end() || it->second.empty()) return std::nullopt;
        return std::pair{it->second.begin()->second.start, it->second.rbegin()->second.end()};
    }
    std::optional<std::filesystem::path> init_file(std::string_view,
                                                   std::string_view) const override {
        return std::nullopt;  // MPEG-TS recordings only
    }
    core::SharedBytes read(const DvrSegment& segment) const override {
        auto bytes = read_all(segment.file);
        return std::make_shared<const core::Bytes>(bytes.begin(), bytes.end());
    }
    int64_t bytes_on_disk() const override { return 0; }
    int64_t segments_on_disk() const override { return 0; }
    int64_t expired() const override { return expired_; }

  private:
    fs::path folder_;
    std::vector<Rendition> renditions_;
    mutable std::mutex mutex_;
    std::map<std::string, std::map<int64_t, DvrSegment>> index_;
    int64_t expired_ = 0;
};

// Writes marker files instead of media; counts calls and how many run at once.
class FakeClipCutter : public core::ClipCutter {
  public:
    struct Mp4Call {
        std::vector<core::ClipSegmentFile> segments;
        std::optional<core::ClipCut> cut;
        std::string rung;
        fs::path out;
    };
    struct TrimCall {
        std::vector<core::ClipSegmentFile> segments;
        core::ClipCut cut;
        std::string rung;
        fs::path folder;
    };
    static constexpr size_t kMp4Size = 10000;

    // The MP4 content: kMp4Size bytes, each its offset mod 251.
    static std::string mp4_bytes() {
        std::string out(kMp4Size, '\0');
        for (size_t i = 0; i < out.size(); ++i) out[i] = char(i % 251);
        return out;
    }

    core::Result<> write_mp4(const std::vector<core::ClipSegmentFile>& segments,
                             const std::optional<core::ClipCut>& cut, const core::Rung& rung,
                             const core::EncoderConfig&, const fs::path& out) override {
        Active active(*this);
        wait_for_gate();
        {
            std::lock_guard lock(mutex_);
            mp4s.push_back({segments, cut, rung.name, out});
        }
        if (!fail_mp4.empty()) return core::fail(fail_mp4);
        // Every input must be readable while the job runs.
        for (const auto& s : segments)
            if (!fs::exists(s.file)) return core::fail("missing input " + s.file.string());
        write_all(out, mp4_bytes());
        return {};
    }

    core::Result<std::vector<core::ClipSegmentFile>> trim_segments(
        const std::vector<core::ClipSegmentFile>& segments, const core::ClipCut& cut,
        const core::Rung& rung, const core::EncoderConfig&, const fs::path& folder) override {
        {
            std::lock_guard lock(mutex_);
            trims.push_back({segments, cut, rung.name, folder});
        }
        std::vector<core::ClipSegmentFile> out = segments;
        auto& first = out.front();
        auto& last = out.back();
        const int64_t last_end = last.start + last.duration;
        first.duration = first.start + first.duration - cut.start;
        first.start = cut.start;
        last.duration = std::min(last_end, cut.end) - last.start;
        for (auto* s : {&first, &last}) {
            s->file = folder / fmt::format("{}.ts", s->sequence);
            write_all(s->file, fmt::format("trimmed {} {}", rung.name, s->sequence));
        }
        return out;
    }

    void close_gate() {
        std::lock_guard lock(mutex_);
        gate_open_ = false;
    }
    void open_gate() {
        {
            std::lock_guard lock(mutex_);
            gate_open_ = true;
        }
        cv_.notify_all();
    }
    int active() const { return active_.load(); }
    int peak() const { return peak_.load(); }
    std::vector<Mp4Call> mp4_calls() {
        std::lock_guard lock(mutex_);
        return mp4s;
    }
    std::vector<TrimCall> trim_calls() {
        std::lock_guard lock(mutex_);
        return trims;
    }

    std::string fail_mp4;  // set before jobs run: write_mp4 fails with it

  private:
    struct Active {
        FakeClipCutter& m;
        explicit Active(FakeClipCutter& media) : m(media) {
            int now = ++m.active_;
            int peak = m.peak_.load();
            while (now > peak && !m.peak_.compare_exchange_weak(peak, now)) {
            }
        }
        ~Active() { --m.active_; }
    };
    void wait_for_gate() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return gate_open_; });
    }
    std::mutex mutex_;
    std::condition_variable cv_;
    bool gate_open_ = true;
    std::atomic<int> active_{0}, peak_{0};
    std::vector<Mp4Call> mp4s;
    std::vector<TrimCall> trims;
};

// A catalog that counts what it is asked (to show a request never reached it).
class CountingCatalog : public ClipCatalog {
  public:
    explicit CountingCatalog(ClipCatalog& inner) : inner_(inner) {}
    core::Result<bool> insert(const ClipRecord& r) override { return ++calls, inner_.insert(r); }
    core::Result<std::optional<ClipRecord>> get(std::string_view id) const override {
        return ++calls, inner_.get(id);
    }
    core::Result<bool> update(const ClipRecord& r) override {
        ++calls;
        if (failing_updates > 0) {
            --failing_updates;
            return core::fail("database is locked");
        }
        return inner_.update(r);
    }
    core::Result<ClipPage> list(const ClipQuery& q) const override {
        return ++calls, inner_.list(q);
    }
    core::Result<bool> remove(std::string_view id) override { return ++calls, inner_.remove(id); }
    core::Result<std::vector<ClipRecord>> unfinished() const override {
        return ++calls, inner_.unfinished();
    }
    mutable std::atomic<int> calls{0};
    std::atomic<int> failing_updates{0};  // so many updates fail first

  private:
    ClipCatalog& inner_;
};

inline core::Rung rung(std::string name, int width, int height) {
    core::Rung r;
    r.name = std::move(name);
    r.width = width;
    r.height = height;
    r.bitrate = 1000000;
    return r;
}

// A service on the fakes: renditions 720p and 360p, the MP4 of 360p.
struct HarvestHarness {
    TempFolder dir;
    FakeDvr dvr{dir / "dvr",
                {{"720p", 1280, 720, 200, "avc1.64001f,mp4a.40.2"},
                 {"360p", 640, 360, 50, "avc1.4d401e,mp4a.40.2"}}};
    std::unique_ptr<SqliteClipCatalog> sqlite;
    std::unique_ptr<CountingCatalog> catalog;
    FakeClipCutter media;
    std::mutex notes_mutex;
    std::vector<std::string> notes;  // what `notify` got
    std::atomic<int64_t> now{kBaseMs + 3600 * 1000};
    std::unique_ptr<HarvestService> service;
    std::size_t max_waiting = 256;
    core::QueueRegistry* queues = nullptr;

    HarvestHarness() { open_catalog(); }

    void open_catalog() {
        auto opened = SqliteClipCatalog::open(dir / "catalog.sqlite");
        if (!opened) throw std::runtime_error(opened.error().message);
        sqlite = std::move(*opened);
        catalog = std::make_unique<CountingCatalog>(*sqlite);
    }

    HarvestOptions options(int concurrency = 2) {
        HarvestOptions o;
        o.channel = "demo";
        o.ladder = {rung("720p", 1280, 720), rung("360p", 640, 360)};
        o.mp4_rendition = "360p";
        o.folder = dir / "clips";
        o.concurrency = concurrency;
        o.max_waiting = max_waiting;
        o.queues = queues;
        o.now_ms = [this] { return now.load(); };
        return o;
    }

    // A started service (null media: "no clip media").
    HarvestService& start(int concurrency = 2, bool with_media = true,
                          HarvestService::Notify notify = {}) {
        if (!notify)
            notify = [this](std::string json) {
                std::lock_guard lock(notes_mutex);
                notes.push_back(std::move(json));
            };
        service = std::make_unique<HarvestService>(
            options(concurrency), *catalog, &dvr, with_media ? &media : nullptr, std::move(notify));
        auto ok = service->start();
        if (!ok) throw std::runtime_error(ok.error().message);
        return *service;
    }

    ClipRecord record(const std::string& id) {
        auto r = sqlite->get(id);
        if (!r || !*r) throw std::runtime_error("no record " + id);
        return **r;
    }
    std::vector<std::string> notifications() {
        std::lock_guard lock(notes_mutex);
        return notes;
    }
};

inline boost::json::value json(std::string_view text) {
    return boost::json::parse(text);
}

// A body asking for segments [first, first + count) of the fake DVR.
inline std::string clip_body(const std::string& id, int64_t first, int64_t count,
                             std::string extra = {}) {
    return fmt::format(R"({{"id": "{}", "start": {}, "end": {}, "title": "Clip {}"{}}})", id,
                       segment_start_ms(first) / 1000.0, segment_start_ms(first + count) / 1000.0,
                       id, extra);
}

}  // namespace onair::origin::testing
