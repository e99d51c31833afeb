#include "origin/http_message.hpp"

#include <boost/json.hpp>

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

void strip_body(Response& response) {
    // Content-Length stays what GET would send; the body goes.
    response.body() = SharedBuffer();
}

}  // namespace onair::origin
