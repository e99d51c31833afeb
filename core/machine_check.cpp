#include "core/machine_check.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <fmt/format.h>

#include "core/port_check.hpp"
#include "core/schema.hpp"

namespace onair::core {
namespace {

using schema::shortened;

void check_readable(const ChannelConfig& config, const std::string& key, const std::string& path,
                    const char* allowed, std::vector<Diagnostic>& out) {
    if (path.empty() || ::access(path.c_str(), R_OK) == 0) return;
    auto error = errno;
    auto at = config.value_positions.find(key);
    out.push_back({config.file, at == config.value_positions.end() ? SourcePosition{} : at->second,
                   key,
                   fmt::format("cannot read \"{}\": {}", shortened(path),
                               std::system_category().message(error)),
                   allowed});
}

}  // namespace

std::vector<Diagnostic> check_files_readable(const ChannelConfig& config) {
    std::vector<Diagnostic> out;
    check_readable(config, "origin.ingest_token_file", config.origin.ingest_token_file,
                   "a readable file holding the token", out);
    check_readable(config, "origin.api_token_file", config.origin.api_token_file,
                   "a readable file holding the token", out);
    check_readable(config, "input_loss.slate", config.input_loss.slate,
                   "a readable PNG or JPEG file", out);
    return out;
}

std::vector<Diagnostic> check_machine(const ChannelConfig& config, const MachineScope& scope) {
    auto out = check_files_readable(config);
    ChannelConfig ports = config;
    if (!scope.inputs) ports.inputs.clear();
    if (scope.only_input)
        std::erase_if(ports.inputs, [&](const auto& in) { return in.id != scope.only_input; });
    auto busy = check_ports_free(ports);
    if (!scope.origin)
        std::erase_if(busy, [](const Diagnostic& d) { return d.key == "origin.listen"; });
    out.insert(out.end(), busy.begin(), busy.end());
    std::stable_sort(out.begin(), out.end(), before);
    return out;
}

}  // namespace onair::core
