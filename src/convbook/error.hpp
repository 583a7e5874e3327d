#pragma once
/// @file error.hpp
/// @brief The one exception type of convbook.
#include <stdexcept>
#include <string>

namespace convbook {

/// @brief Every user-facing failure (bad file, bad argument, bad layer config) throws this.
///
/// The message names what was wrong, the value found and the value expected, e.g.
/// "Conv2d: groups=3 must divide in_channels=16".
struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace convbook
