#include "ingest/input.hpp"

#include "ingest/network_input.hpp"
#include "ingest/test_signal.hpp"

namespace onair::ingest {

std::unique_ptr<Input> make_input(const core::InputSpec& spec, core::InputStatus& status,
                                  std::string component) {
    if (spec.kind == core::InputKind::testsrc)
        return std::make_unique<TestSignal>(spec, status, std::move(component));
    return std::make_unique<NetworkInput>(spec, status, std::move(component));
}

}  // namespace onair::ingest
