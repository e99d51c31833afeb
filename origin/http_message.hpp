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
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "core/container.hpp"
#include "core/result.hpp"
#include "core/segment.hpp"

namespace onair::origin {

// A read-only view of bytes kept alive by an owner. Copies share the owner;
// nothing is copied. Empty when default-constructed. Bytes that are also a
// file's (a mapped file, a segment put in memory as a file) carry its
// descriptor, so the server can hand them to the socket with sendfile(2):
// the kernel sends the file's pages without copying them.
class SharedBuffer {
  public:
    SharedBuffer() = default;
    SharedBuffer(std::shared_ptr<const void> owner, const void* data, std::size_t size)
        : owner_(std::move(owner)), data_(data), size_(size) {}
    static SharedBuffer from_string(std::string text);
    static SharedBuffer from_bytes(core::SharedBytes bytes);
    // A file's bytes mapped read-only (never read into memory), unmapped and
    // closed when the last copy of the buffer goes; an empty file gives an
    // empty buffer. The file must not be truncated while mapped (DVR
    // segments and clip assets never are; expiry unlinks, which keeps them).
    [[nodiscard]] static core::Result<SharedBuffer> map_file(const std::filesystem::path& path);
    // `bytes` copied once into an unnamed file and mapped: what a live
    // segment is served from, many times over, with sendfile(2). The file is
    // made in `folder` (O_TMPFILE: it has no name, so nothing is left behind
    // whatever happens to the process) and its pages are the page cache's,
    // as a file server's are; with no folder, or where the folder's file
    // system cannot, an anonymous in-memory file (memfd) instead.
    [[nodiscard]] static core::Result<SharedBuffer> file_copy(const core::Bytes& bytes,
                                                              const std::filesystem::path& folder);
    // Bytes [offset, offset + size) of this buffer (clamped to it), sharing its owner.
    SharedBuffer slice(std::size_t offset, std::size_t size) const;

    const void* data() const { return data_; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::string_view view() const { return {static_cast<const char*>(data_), size_}; }
    // The file these bytes are, and where in it they start; -1 when they are
    // only in memory. Owned by the buffer's owner: valid while a copy lives.
    int file() const { return file_; }
    int64_t file_offset() const { return file_offset_; }

  private:
    std::shared_ptr<const void> owner_;
    const void* data_ = nullptr;
    std::size_t size_ = 0;
    int file_ = -1;
    int64_t file_offset_ = 0;
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

// A response rendered once and served as it is to every request that asks
// for it (a live playlist, a live segment): the status line and header
// fields as bytes, the body shared. Immutable once made; any thread.
// Validators for conditional requests: the ETag (quoted, as sent) and the
// time of the last change (UTC ms; 0: none). Both are sent as header fields.
struct Validators {
    std::string etag;
    int64_t last_modified_ms = 0;
    // No other version of the resource was made within the same second, so
    // an If-Modified-Since (seconds only) can tell this one apart.
    bool last_modified_alone = false;
};

class PreparedResponse {
  public:
    // Renders `message` (HTTP/1.1; Content-Length from its body); with
    // validators, a 304 is rendered beside it.
    static std::shared_ptr<const PreparedResponse> make(const Response& message,
                                                        Validators validators = {});

    unsigned status() const { return status_; }
    // "HTTP/1.1 200 OK\r\nName: value\r\n..." without the blank line that
    // ends the header, so the server can add its own fields (Date,
    // Connection) before it.
    const SharedBuffer& head() const { return head_; }
    const SharedBuffer& body() const { return body_; }
    const Validators& validators() const { return validators_; }
    // The 304 for a request whose validators match (null without validators).
    const std::shared_ptr<const PreparedResponse>& not_modified() const { return not_modified_; }
    // The message again, as Beast would parse it (for in-process callers and tests).
    Response message() const;

  private:
    unsigned status_ = 0;
    Response header_;  // the fields as a message, without its body
    SharedBuffer head_;
    SharedBuffer body_;
    Validators validators_;
    std::shared_ptr<const PreparedResponse> not_modified_;
};
using Prepared = std::shared_ptr<const PreparedResponse>;

class PendingReply;

// What a handler answers: a message made for this request, a prepared
// response shared with every other request for the same thing, or a reply
// that comes later (a request held, as LL-HLS blocking reloads are).
class Reply {
  public:
    Reply() = default;
    Reply(Response message) : message_(std::move(message)) {}     // NOLINT: implicit by design
    Reply(Prepared prepared) : prepared_(std::move(prepared)) {}  // NOLINT
    Reply(std::shared_ptr<PendingReply> pending) : pending_(std::move(pending)) {}  // NOLINT
    const Prepared& prepared() const { return prepared_; }
    const std::shared_ptr<PendingReply>& pending() const { return pending_; }
    // The message of a reply that is not prepared.
    Response& message() { return message_; }
    const Response& message() const { return message_; }
    // 0 for a pending reply not completed yet.
    unsigned status() const;
    // The whole response as a message, prepared or not (for in-process
    // callers and tests; the server writes a prepared one as it is). A
    // pending reply gives what it was completed with, else an empty 0.
    Response to_message() const;

  private:
    Prepared prepared_;
    Response message_;
    std::shared_ptr<PendingReply> pending_;
};

// The reply to a held request: completed once, from any thread, by whoever
// has the answer; the server says where it goes (on_complete), before or
// after. Thread-safe.
class PendingReply {
  public:
    using Sink = std::function<void(Reply)>;
    // The first completion counts; false for a later one.
    bool complete(Reply reply);
    // Called with the reply once it is there (at once if it is already).
    void on_complete(Sink sink);
    std::optional<Reply> result() const;

  private:
    mutable std::mutex mutex_;
    std::optional<Reply> reply_;
    Sink sink_;
};

// Turns one request into its reply. Called concurrently from the server's
// threads; must not block.
using Handler = std::function<Reply(const Request&)>;

// The answer to a GET or HEAD of `resource` (RFC 9110, 13.1): its 304 when
// If-None-Match names its ETag (or is "*"), or when, without If-None-Match,
// If-Modified-Since is not before its Last-Modified and no other version was
// made in that second (HTTP dates have seconds only: a playlist that changed
// twice within one second must never be answered 304 for the older one);
// else the resource itself.
Reply answer_conditional(const Request& request, const Prepared& resource);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110, 5.6.7), and back (nullopt when
// malformed; the obsolete RFC 850 and asctime forms are not taken).
std::string http_date(int64_t utc_ms);
std::optional<int64_t> parse_http_date(std::string_view text);

inline constexpr std::string_view kMimeJson = "application/json";
inline constexpr std::string_view kMimePlaylist = "application/vnd.apple.mpegurl";
inline constexpr std::string_view kMimeTs = "video/mp2t";
inline constexpr std::string_view kMimeMp4 = "video/mp4";  // MP4, CMAF init and .m4s
inline constexpr std::string_view segment_media_type(core::Container container) {
    return container == core::Container::fmp4 ? kMimeMp4 : kMimeTs;
}

// A response with `body`, Content-Type, Cache-Control, CORS and
// Content-Length set. HTTP/1.1; the server fixes version and keep-alive.
Response make_response(boost::beast::http::status status, std::string_view content_type,
                       std::string_view cache_control, SharedBuffer body);

// An error with the JSON body {"error": error, "reason": reason} and
// Cache-Control: no-store.
Response make_error(boost::beast::http::status status, std::string_view error,
                    std::string_view reason);

// Whether "Authorization" carries `token` as a Bearer credential: the scheme
// is case-insensitive, then one or more spaces (RFC 9110, 11.4; RFC 6750,
// 2.1). The comparison takes the same time however much of the token
// matches. Never true for an empty token.
bool bearer_matches(const Request& request, std::string_view token);

// The answer to a call that lacks `token` as "Authorization: Bearer" (401
// with WWW-Authenticate; 403 with `when_unset` as the reason when no token is
// configured at all), or nullopt when it may go on.
inline constexpr std::string_view kApiTokenUnset =
    "control calls are off: set ONAIR_API_TOKEN (or origin.api_token_file)";
std::optional<Response> refuse_without_bearer(const Request& request, std::string_view token,
                                              std::string_view when_unset = kApiTokenUnset);

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

// The status line and header fields of `message` as HTTP/1.1 writes them,
// without the blank line that ends the header.
std::string render_head(const Response& message);

// Drops the body but keeps every header, Content-Length included (for HEAD).
void strip_body(Response& response);

}  // namespace onair::origin
