#include "origin/http_message.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

namespace onair::origin {

namespace http = boost::beast::http;

SharedBuffer SharedBuffer::from_string(std::string text) {
    auto owner = std::make_shared<const std::string>(std::move(text));
    const void* data = owner->data();
    std::size_t size = owner->size();
    return SharedBuffer(std::move(owner), data, size);
}

SharedBuffer SharedBuffer::from_bytes(core::SharedBytes bytes) {
    if (!bytes) return {};
    const void* data = bytes->data();
    std::size_t size = bytes->size();
    return SharedBuffer(std::move(bytes), data, size);
}

namespace {

// One read-only mapping of an open file; munmap and close when the last
// SharedBuffer on it goes.
struct Mapping {
    void* data = nullptr;
    std::size_t size = 0;
    int fd = -1;
    Mapping(void* d, std::size_t n, int f) : data(d), size(n), fd(f) {}
    ~Mapping() {
        if (data) ::munmap(data, size);
        if (fd >= 0) ::close(fd);
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
};

// Closes a descriptor on every path out, unless released.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

std::unexpected<core::Error> errno_fail(const std::filesystem::path& path, std::string_view what) {
    int code = errno;
    return core::fail(
        fmt::format("{}: {}: {}", path.string(), what, std::system_category().message(code)), code);
}

}  // namespace

core::Result<SharedBuffer> SharedBuffer::map_file(const std::filesystem::path& path) {
    Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) return errno_fail(path, "open");
    struct stat st {};
    if (::fstat(file.fd, &st) != 0) return errno_fail(path, "stat");
    if (!S_ISREG(st.st_mode)) return core::fail(path.string() + ": not a regular file");
    if (st.st_size == 0) return SharedBuffer();
    const auto size = static_cast<std::size_t>(st.st_size);
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
    if (data == MAP_FAILED) return errno_fail(path, "mmap");
    auto owner = std::make_shared<const Mapping>(data, size, file.release());
    SharedBuffer out(owner, data, size);
    out.file_ = owner->fd;
    return out;
}

core::Result<SharedBuffer> SharedBuffer::file_copy(const core::Bytes& bytes,
                                                   const std::filesystem::path& folder) {
    if (bytes.empty()) return SharedBuffer();
    Fd file;
    std::filesystem::path what = folder;
    if (!folder.empty()) file.fd = ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (file.fd < 0) {
        what = "memfd:onair-segment";
        file.fd = ::memfd_create("onair-segment", MFD_CLOEXEC);
        if (file.fd < 0) return errno_fail(what, "memfd_create");
    }
    for (std::size_t done = 0; done < bytes.size();) {
        const ssize_t n = ::write(file.fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_fail(what, "write");
        done += std::size_t(n);
    }
    void* data = ::mmap(nullptr, bytes.size(), PROT_READ, MAP_SHARED, file.fd, 0);
    if (data == MAP_FAILED) return errno_fail(what, "mmap");
    auto owner = std::make_shared<const Mapping>(data, bytes.size(), file.release());
    SharedBuffer out(owner, data, bytes.size());
    out.file_ = owner->fd;
    return out;
}

SharedBuffer SharedBuffer::slice(std::size_t offset, std::size_t size) const {
    if (offset >= size_) return {};
    size = std::min(size, size_ - offset);
    SharedBuffer out(owner_, static_cast<const char*>(data_) + offset, size);
    out.file_ = file_;
    out.file_offset_ = file_ < 0 ? 0 : file_offset_ + int64_t(offset);
    return out;
}

Response make_response(http::status status, std::string_view content_type,
                       std::string_view cache_control, SharedBuffer body) {
    Response response{status, 11};
    response.set(http::field::content_type, content_type);
    response.set(http::field::cache_control, cache_control);
    response.set(http::field::access_control_allow_origin, "*");
    response.content_length(body.size());
    response.body() = std::move(body);
    return response;
}

Response make_error(http::status status, std::string_view error, std::string_view reason) {
    boost::json::object json;
    json["error"] = error;
    json["reason"] = reason;
    return make_response(status, kMimeJson, "no-store",
                         SharedBuffer::from_string(boost::json::serialize(json)));
}

Response make_json(http::status status, const boost::json::value& json) {
    return make_response(status, kMimeJson, "no-store",
                         SharedBuffer::from_string(boost::json::serialize(json)));
}

Response make_bad_request(const std::vector<std::string>& reasons) {
    return make_refusal(http::status::bad_request, "bad_request", reasons);
}

Response make_refusal(http::status status, std::string_view error,
                      const std::vector<std::string>& reasons) {
    boost::json::object json;
    json["error"] = error;
    std::string joined;
    boost::json::array list;
    for (const auto& r : reasons) {
        if (!joined.empty()) joined += "; ";
        joined += r;
        list.emplace_back(r);
    }
    json["reason"] = joined;
    json["reasons"] = std::move(list);
    return make_json(status, json);
}

Response make_preflight(std::string_view allow) {
    Response response{http::status::no_content, 11};
    response.set(http::field::access_control_allow_origin, "*");
    response.set(http::field::access_control_allow_methods, allow);
    response.set(http::field::access_control_allow_headers,
                 "*, Authorization, Content-Type, Range");
    response.set(http::field::access_control_max_age, "600");
    response.set(http::field::allow, allow);
    response.set(http::field::cache_control, "no-store");
    return response;  // 204: no Content-Length (RFC 9110, 8.6)
}

Response make_not_allowed(std::string_view allow) {
    auto response = make_error(http::status::method_not_allowed, "method_not_allowed",
                               fmt::format("allowed: {}", allow));
    response.set(http::field::allow, allow);
    return response;
}

void strip_body(Response& response) {
    // Content-Length stays what GET would send; the body goes.
    response.body() = SharedBuffer();
}

namespace {

// Compares in time that depends only on the length of `given`.
bool same_secret(std::string_view given, std::string_view secret) {
    if (secret.empty()) return false;
    unsigned diff = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i)
        diff |= unsigned(static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]));
    return diff == 0;
}

bool blank(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

bool bearer_matches(const Request& request, std::string_view token) {
    if (token.empty()) return false;
    auto it = request.find(http::field::authorization);
    if (it == request.end()) return false;
    std::string_view value = trim_blanks({it->value().data(), it->value().size()});
    constexpr std::string_view kScheme = "bearer";
    if (value.size() <= kScheme.size() ||
        !boost::beast::iequals(value.substr(0, kScheme.size()), kScheme) ||
        !blank(value[kScheme.size()]))
        return false;
    return same_secret(trim_blanks(value.substr(kScheme.size())), token);
}

std::optional<Response> refuse_without_bearer(const Request& request, std::string_view token,
                                              std::string_view when_unset) {
    if (token.empty()) return make_error(http::status::forbidden, "forbidden", when_unset);
    if (bearer_matches(request, token)) return std::nullopt;
    const bool given = request.find(http::field::authorization) != request.end();
    auto response =
        make_error(http::status::unauthorized, "unauthorized",
                   given ? "the token is not valid" : "an Authorization: Bearer token is required");
    response.set(http::field::www_authenticate, "Bearer");
    return response;
}

// --- prepared responses and conditional requests --------------------------

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void append_head(std::string& out, const Response& message) {
    out += "HTTP/1.1 ";
    fmt::format_to(std::back_inserter(out), "{} ", message.result_int());
    auto reason = message.reason();
    out.append(reason.data(), reason.size());
    out += "\r\n";
    for (const auto& field : message) {
        out.append(field.name_string().data(), field.name_string().size());
        out += ": ";
        out.append(field.value().data(), field.value().size());
        out += "\r\n";
    }
}

// Whether an If-None-Match list names `etag` (weak comparison, RFC 9110 13.1.2).
bool etag_listed(std::string_view list, std::string_view etag) {
    auto opaque = [](std::string_view tag) {
        tag = trim_blanks(tag);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        return tag;
    };
    if (trim_blanks(list) == "*") return true;
    const std::string_view wanted = opaque(etag);
    while (!list.empty()) {
        auto comma = list.find(',');
        if (opaque(list.substr(0, comma)) == wanted) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

std::string render_head(const Response& message) {
    std::string out;
    out.reserve(256);
    append_head(out, message);
    return out;
}

Prepared PreparedResponse::make(const Response& message, Validators validators) {
    Response full = message;
    const bool validated = !validators.etag.empty() || validators.last_modified_ms > 0;
    if (!validators.etag.empty()) full.set(http::field::etag, validators.etag);
    if (validators.last_modified_ms > 0)
        full.set(http::field::last_modified, http_date(validators.last_modified_ms));
    auto prepared = std::make_shared<PreparedResponse>();
    prepared->status_ = full.result_int();
    prepared->head_ = SharedBuffer::from_string(render_head(full));
    prepared->body_ = full.body();
    if (validated) {
        // RFC 9110 15.4.5: the 304 carries the fields a 200 would have that
        // describe the representation's freshness and identity; no body.
        Response not_modified{http::status::not_modified, 11};
        for (auto field :
             {http::field::etag, http::field::last_modified, http::field::cache_control,
              http::field::access_control_allow_origin, http::field::vary, http::field::expires}) {
            auto it = full.find(field);
            if (it != full.end()) not_modified.set(field, it->value());
        }
        auto answer = std::make_shared<PreparedResponse>();
        answer->status_ = 304;
        answer->head_ = SharedBuffer::from_string(render_head(not_modified));
        answer->validators_ = validators;
        answer->header_ = std::move(not_modified);
        prepared->not_modified_ = std::move(answer);
    }
    prepared->validators_ = std::move(validators);
    full.body() = SharedBuffer();
    prepared->header_ = std::move(full);
    return prepared;
}

Response PreparedResponse::message() const {
    Response out = header_;
    out.body() = body_;
    return out;
}

Reply answer_conditional(const Request& request, const Prepared& resource) {
    if (!resource || !resource->not_modified()) return resource;
    const auto& v = resource->validators();
    auto none_match = request.find(http::field::if_none_match);
    if (none_match != request.end()) {
        if (!v.etag.empty() &&
            etag_listed({none_match->value().data(), none_match->value().size()}, v.etag))
            return resource->not_modified();
        return resource;
    }
    auto since = request.find(http::field::if_modified_since);
    if (since != request.end() && v.last_modified_ms > 0 && v.last_modified_alone) {
        auto t = parse_http_date({since->value().data(), since->value().size()});
        if (t && *t >= v.last_modified_ms - v.last_modified_ms % 1000)
            return resource->not_modified();
    }
    return resource;
}

std::string http_date(int64_t utc_ms) {
    using namespace std::chrono;
    sys_time<milliseconds> t{milliseconds(utc_ms)};
    auto day = floor<days>(t);
    year_month_day ymd{day};
    hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
    weekday wd{day};
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[wd.c_encoding()],
                       unsigned(ymd.day()), kMonths[unsigned(ymd.month()) - 1], int(ymd.year()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::optional<int64_t> parse_http_date(std::string_view text) {
    using namespace std::chrono;
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", 29 characters.
    text = trim_blanks(text);
    if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
        text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT")
        return std::nullopt;
    auto number = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (text[i] < '0' || text[i] > '9') return std::nullopt;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    auto d = number(5, 2), y = number(12, 4), h = number(17, 2), mi = number(20, 2),
         s = number(23, 2);
    unsigned month = 0;
    for (unsigned i = 0; i < 12; ++i)
        if (text.substr(8, 3) == kMonths[i]) month = i + 1;
    if (!d || !y || !h || !mi || !s || month == 0 || *h > 23 || *mi > 59 || *s > 60)
        return std::nullopt;
    year_month_day ymd{year(*y), std::chrono::month(month), std::chrono::day(unsigned(*d))};
    if (!ymd.ok()) return std::nullopt;
    const int64_t day_s = sys_days(ymd).time_since_epoch().count() * int64_t(86400);
    return (day_s + *h * 3600 + *mi * 60 + std::min(*s, 59)) * 1000;
}

unsigned Reply::status() const {
    if (pending_) {
        auto done = pending_->result();
        return done ? done->status() : 0;
    }
    return prepared_ ? prepared_->status() : message_.result_int();
}

Response Reply::to_message() const {
    if (pending_) {
        auto done = pending_->result();
        return done ? done->to_message() : Response();
    }
    return prepared_ ? prepared_->message() : message_;
}

bool PendingReply::complete(Reply reply) {
    Sink sink;
    {
        std::lock_guard lock(mutex_);
        if (reply_) return false;
        reply_ = reply;
        sink = sink_;
    }
    if (sink) sink(std::move(reply));
    return true;
}

void PendingReply::on_complete(Sink sink) {
    std::optional<Reply> ready;
    {
        std::lock_guard lock(mutex_);
        sink_ = sink;
        ready = reply_;
    }
    if (ready) sink(std::move(*ready));
}

std::optional<Reply> PendingReply::result() const {
    std::lock_guard lock(mutex_);
    return reply_;
}

}  // namespace onair::origin
