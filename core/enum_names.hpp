#pragma once
// One name <-> value table per enum, used both to parse a file and to print a value.
#include <array>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace onair::core {

template <class E, size_t N>
struct EnumNames {
    std::array<std::pair<E, std::string_view>, N> entries;

    // The name of `value`; "?" for a value missing from the table.
    constexpr std::string_view name(E value) const {
        for (const auto& [v, n] : entries)
            if (v == value) return n;
        return "?";
    }
    constexpr std::optional<E> value(std::string_view name) const {
        for (const auto& [v, n] : entries)
            if (n == name) return v;
        return std::nullopt;
    }
    std::vector<std::string_view> names() const {
        std::vector<std::string_view> out;
        for (const auto& entry : entries) out.push_back(entry.second);
        return out;
    }
};

template <class E, class... Entries>
constexpr auto enum_names(Entries... entries) {
    return EnumNames<E, sizeof...(Entries)>{{std::pair<E, std::string_view>(entries)...}};
}

}  // namespace onair::core
