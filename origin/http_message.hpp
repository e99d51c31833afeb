#pragma once
// The HTTP message types the origin speaks: requests as Beast parses them,
// responses whose body is a shared, immutable buffer (a segment's bytes or a
// rendered playlist) that is written to the socket without a copy, and the
// handler signature that turns one into the other.
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/optional.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "core/segment.hpp"

namespace onair::origin {

// A read-only view of bytes kept alive by an owner. Copies share the owner;
// nothing is copied. Empty when default-constructed.
class SharedBuffer {
  public:
    SharedBuffer() = default;
    SharedBuffer(std::shared_ptr<const void> owner, const void* data, std::size_t size)
        : owner_(std::move(owner)), data_(data), size_(size) {}
    static SharedBuffer from_string(std::string text);
    static SharedBuffer from_bytes(core::SharedBytes bytes);
    // A file's bytes mapped read-only (never read into memory), unmapped when
    // the last copy of the buffer goes; an empty file gives an empty buffer.
    // The file must not be truncated while mapped (clip assets never are).
    [[nodiscard]] static core::Result<SharedBuffer> map_file(const std::filesystem::path& path);
    // Bytes [offset, offset + size) of this buffer (clamped to it), sharing its owner.
    SharedBuffer slice(std::size_t offset, std::size_t size) const;

    const void* data() const { return data_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

  private:
    std::shared_ptr<const void> owner_;
    const void* data_ = nullptr;
    std::size_t size_ = 0;
};

// A Beast Body (value_type, size, writer) over SharedBuffer. Serialization
// only: the origin never parses into it.
struct SharedBody {
    using value_type = SharedBuffer;

    static std::uint64_t size(const value_type& body) { return body.size(); }

    class writer {
      public:
        using const_buffers_type = boost::asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body)
            : body_(body) {}

        void init(boost::beast::error_code& ec) { ec = {}; }

        boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
            ec = {};
            if (body_.empty()) return boost::none;
            return {{const_buffers_type(body_.data(), body_.size()), false}};
        }

      private:
        const value_type& body_;
    };
};

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<SharedBody>;
// Turns one request into its response. Called concurrently from the server's
// threads; must not block.
using Handler = std::function<Response(const Request&)>;

inline constexpr std::string_view kMimeJson = "application/json";
inline constexpr std::string_view kMimePlaylist = "application/vnd.apple.mpegurl";
inline constexpr std::string_view kMimeTs = "video/mp2t";

// A response with `body`, Content-Type, Cache-Control, CORS and
// Content-Length set. HTTP/1.1; the server fixes version and keep-alive.
Response make_response(boost::beast::http::status status, std::string_view content_type,
                       std::string_view cache_control, SharedBuffer body);

// An error with the JSON body {"error": error, "reason": reason} and
// Cache-Control: no-store.
Response make_error(boost::beast::http::status status, std::string_view error,
                    std::string_view reason);

// The answer to a control call that lacks `token` as "Authorization: Bearer"
// (401 with WWW-Authenticate; 403 when no token is configured at all), or
// nullopt when it may go on. The comparison takes the same time however
// much of the token matches.
std::optional<Response> refuse_without_bearer(const Request& request, std::string_view token);

// A JSON body with Cache-Control: no-store.
Response make_json(boost::beast::http::status status, const boost::json::value& json);

// 400 with every reason: "reason" joins them for people, "reasons" lists
// them for programs.
Response make_bad_request(const std::vector<std::string>& reasons);
// The same with another status and error word (409 "conflict", ...).
Response make_refusal(boost::beast::http::status status, std::string_view error,
                      const std::vector<std::string>& reasons);

// The answer to OPTIONS (CORS preflight): 204 with the methods `allow`s.
Response make_preflight(std::string_view allow);

// 405 naming the methods allowed.
Response make_not_allowed(std::string_view allow);

// "/a/b/c" -> {"a", "b", "c"}: the segments of an absolute path as they are
// (not decoded); "/a/" ends with an empty one.
std::vector<std::string> path_segments(std::string_view path);

// Drops the body but keeps every header, Content-Length included (for HEAD).
void strip_body(Response& response);

}  // namespace onair::origin
