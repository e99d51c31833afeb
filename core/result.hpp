#pragma once
// Error and Result: the one error currency of onair's hot paths. libav's
// negative codes and Boost's error_codes become an Error at the wrapper edge.
#include <expected>
#include <string>
#include <utility>

namespace onair::core {

struct Error {
    std::string message;
    int code = 0;  // libav/errno code when there is one, else 0
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string message, int code = 0) {
    return std::unexpected<Error>(Error{std::move(message), code});
}

}  // namespace onair::core
