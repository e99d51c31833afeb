#include "origin/http_message.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

// One read-only mapping; munmap when the last SharedBuffer on it goes.
struct Mapping {
    void* data = nullptr;
    std::size_t size = 0;
    Mapping(void* d, std::size_t n) : data(d), size(n) {}
    ~Mapping() { ::munmap(data, size); }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
};

// Closes a descriptor on every path out.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
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
    auto owner = std::make_shared<const Mapping>(data, size);
    return SharedBuffer(std::move(owner), data, size);
}

SharedBuffer SharedBuffer::slice(std::size_t offset, std::size_t size) const {
    if (offset >= size_) return {};
    size = std::min(size, size_ - offset);
    return SharedBuffer(owner_, static_cast<const char*>(data_) + offset, size);
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

std::vector<std::string> path_segments(std::string_view path) {
    std::vector<std::string> out;
    size_t at = 1;
    while (at <= path.size()) {
        auto next = path.find('/', at);
        if (next == std::string_view::npos) next = path.size();
        out.emplace_back(path.substr(at, next - at));
        at = next + 1;
    }
    return out;
}

void strip_body(Response& response) {
    // Content-Length stays what GET would send; the body goes.
    response.body() = SharedBuffer();
}

namespace {

bool same_token(std::string_view a, std::string_view b) {
    unsigned diff = a.size() == b.size() ? 0 : 1;
    for (size_t i = 0; i < a.size(); ++i)
        diff |= unsigned(a[i]) ^ unsigned(i < b.size() ? b[i] : 0);
    return diff == 0;
}

}  // namespace

std::optional<Response> refuse_without_bearer(const Request& request, std::string_view token) {
    namespace http = boost::beast::http;
    if (token.empty())
        return make_error(http::status::forbidden, "forbidden",
                          "control calls are off: set ONAIR_API_TOKEN (or origin.api_token_file)");
    auto header = request[http::field::authorization];
    constexpr std::string_view kBearer = "Bearer ";
    if (header.empty() || !header.starts_with(kBearer) ||
        !same_token(header.substr(kBearer.size()), token)) {
        auto response = make_error(http::status::unauthorized, "unauthorized",
                                   header.empty() ? "an Authorization: Bearer token is required"
                                                  : "the token is not valid");
        response.set(http::field::www_authenticate, "Bearer");
        return response;
    }
    return std::nullopt;
}

}  // namespace onair::origin
