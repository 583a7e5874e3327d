#pragma once
/// @file repr.hpp
/// @brief Text the way PyTorch prints it, so `repr()` lines up with `print(model)`.
#include <string>

namespace convbook {

/// @brief Python's repr of a float: the shortest text that reads back to the same double
/// ("0.1", "1e-05", "1.0").
std::string python_float(double v);

}  // namespace convbook
