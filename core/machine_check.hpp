#pragma once
// The checks of a valid channel file against this machine, which parsing
// leaves out so that it reads text only: the files it names can be read
// (token files, the slate image) and the ports it listens on are free.
// Messages cite the key as written: FILE:LINE:COL: key: message (allowed: ...).
// `onair check`, `run`, `origin` and `encode` call it once at start-up.
#include <vector>

#include "core/config.hpp"

namespace onair::core {

// Which of the channel's ports this process binds: all of them, only the
// origin's, or only one pipeline's input.
struct MachineScope {
    bool origin = true;
    bool inputs = true;
    char only_input = 0;  // with inputs: just this one
};

// origin.ingest_token_file, origin.api_token_file and input_loss.slate, when given.
std::vector<Diagnostic> check_files_readable(const ChannelConfig& config);

// The files, then the ports in `scope`; all problems, in file order.
std::vector<Diagnostic> check_machine(const ChannelConfig& config, const MachineScope& scope = {});

}  // namespace onair::core
