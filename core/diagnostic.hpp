#pragma once
// A problem found in a file the user wrote, with where it is and what is allowed.
#include <map>
#include <string>

namespace onair::core {

struct SourcePosition {
    int line = 0;    // 1-based; 0 when unknown
    int column = 0;  // 1-based
};

struct Diagnostic {
    std::string file;
    SourcePosition position;
    std::string key;      // key path: "ladder[1].width", "inputs.a"
    std::string message;  // what is wrong
    std::string allowed;  // what is allowed; may be empty
    // FILE:LINE:COL: key.path: what is wrong (what is allowed)
    std::string to_string() const;
};

// For sorting diagnostics into file order (stable sorts keep ties in report order).
inline bool before(const Diagnostic& a, const Diagnostic& b) {
    return a.position.line < b.position.line ||
           (a.position.line == b.position.line && a.position.column < b.position.column);
}

// A diagnostic about `key`, placed where the key was written, else where the
// nearest enclosing key was (a port found in use later names its key's line).
Diagnostic diagnostic_at(const std::string& file,
                         const std::map<std::string, SourcePosition>& positions,
                         const std::string& key, std::string message, std::string allowed = {});

}  // namespace onair::core
